"""Which network namespaces a server's process tree made, sampled while a test runs, so a
test can check none of them outlives the server without counting namespaces that other
programs on the machine (other servers, other tests) made meanwhile."""

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
        self.seen: set[int] = set()
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
        for child in children_of(self._pid):
            try:
                inode = os.stat(f"/proc/{child}/ns/net").st_ino
            except OSError:
                continue
            if inode != self._own:
                self.seen.add(inode)
