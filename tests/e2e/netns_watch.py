"""Which network namespaces a server's process tree made, sampled while a test runs, so a
test can check none of them outlives the server without counting namespaces that other
programs on the machine (other servers, other tests) made meanwhile. The kernel reuses a
freed namespace's inode number at once (another program's new namespace may get it), so
a namespace counts as left over only when a process that was already running when the
watch last saw the namespace as the server's holds it."""

from __future__ import annotations

import os
import threading

from conftest import children_of


class NamespaceWatch:
    """Samples the net namespaces of `pid`'s descendants every `every` seconds."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self._pid = pid
        self._every = every
        self._own = os.stat("/proc/self/ns/net").st_ino
        self.seen: dict[int, float] = {}  # inode -> when last seen (uptime())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> NamespaceWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.sample()

    def sample(self) -> None:
        now = uptime()
        for child in children_of(self._pid):
            try:
                inode = os.stat(f"/proc/{child}/ns/net").st_ino
            except OSError:
                continue
            if inode != self._own:
                self.seen[inode] = now


def uptime() -> float:
    with open("/proc/uptime") as file:
        return float(file.read().split()[0])


def left_over(seen: dict[int, float]) -> set[int]:
    """Those of the `seen` namespaces (inode -> when last seen, a CLOCK_BOOTTIME reading as
    uptime() gives it) that a process already running then still holds."""
    tick = os.sysconf("SC_CLK_TCK")
    held = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            inode = os.stat(f"/proc/{name}/ns/net").st_ino
            with open(f"/proc/{name}/stat") as stat:
                started = int(stat.read().rsplit(")", 1)[1].split()[19]) / tick
        except (OSError, ValueError, IndexError):
            continue
        if inode in seen and started <= seen[inode]:
            held.add(inode)
    return held
