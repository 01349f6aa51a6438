"""The data dir belongs to one server at a time and to nobody else on the host.

`claim` takes an exclusive lock (a second server on the same data dir stops with a
message naming the running one), sets the process umask so everything the server writes
is 0600/0700, and brings files written before that rule (or by hand) in line.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = "server.lock"
UMASK = 0o077


class DataDirInUse(Exception):
    """Another server holds the data dir; str(exc) names it."""


@dataclass
class DataDirClaim:
    path: Path
    fd: int  # held open for the server's life: the lock goes with it

    def release(self) -> None:
        os.close(self.fd)


def claim(path: Path) -> DataDirClaim:
    os.umask(UMASK)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise DataDirInUse(
            f"Another cove server (pid {holder}) is using the data dir {path}. Stop it "
            "first, or start this one with another --data-dir."
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    make_private(path)
    return DataDirClaim(path, fd)


def make_private(path: Path) -> None:
    """Strip group and other permissions from everything under `path` (links untouched)."""
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            _strip(os.path.join(root, name))
    _strip(str(path))


def _strip(path: str) -> None:
    st = os.lstat(path)
    if not os.path.islink(path) and st.st_mode & 0o077:
        os.chmod(path, st.st_mode & 0o7700)
