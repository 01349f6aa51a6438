"""Reading what sandboxed code wrote, as the server: never through a symbolic link it left
(which could point the server's own privileges at the data dir or the host), regular
files only, and no more than a caller-given size."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path


def read_text(path: Path, limit: int) -> str | None:
    """The file's text (its first `limit` bytes), or None if it is missing, a link, or
    not a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        return f.read(limit).decode("utf-8", "replace")


def regular_files(root: Path) -> Iterator[Path]:
    """Every regular file under `root`, links neither followed nor listed, sorted."""
    for dirpath, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(dirpath) / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                yield path
