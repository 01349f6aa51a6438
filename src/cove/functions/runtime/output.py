"""A worker's stdout and stderr, cut into the output of its phases (init, each invocation)
at the markers its bootstrap writes after each one (see `protocol.marker`)."""

from __future__ import annotations

import asyncio
from collections import deque

# What one phase's output may hold; past it the rest is dropped (and said so), so that a
# handler printing in a loop until its timeout cannot fill the server's memory.
PHASE_LIMIT = 1 << 20
TRUNCATED = "\n[cove: this invocation's output was cut at {limit} bytes]\n"


class Output:
    def __init__(self, marker: bytes, limit: int = PHASE_LIMIT) -> None:
        self._marker = marker
        self._limit = limit
        self._pending = bytearray()  # not yet known to be free of a marker
        self._current = bytearray()
        self._truncated = False
        self._done: deque[str] = deque()
        self._arrived = asyncio.Event()

    def feed(self, data: bytes) -> None:
        self._pending += data
        while (i := self._pending.find(self._marker)) >= 0:
            self._keep(self._pending[:i])
            del self._pending[: i + len(self._marker)]
            self._done.append(self._text())
            self._current = bytearray()
            self._truncated = False
            self._arrived.set()
        cut = max(0, len(self._pending) - (len(self._marker) - 1))  # may start a marker
        self._keep(self._pending[:cut])
        del self._pending[:cut]

    def _keep(self, data: bytes | bytearray) -> None:
        room = self._limit - len(self._current)
        if len(data) > room:
            self._truncated = True
        self._current += data[: max(room, 0)]

    def _text(self) -> str:
        text = self._current.decode(errors="replace")
        return text + TRUNCATED.format(limit=self._limit) if self._truncated else text

    async def phase(self, timeout: float) -> str:
        """The next finished phase's output; what there is so far after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._done:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return self.take_partial()
        return self._done.popleft()

    def take_partial(self) -> str:
        """What the unfinished phase wrote so far (its worker timed out or died)."""
        parts = list(self._done)
        self._done.clear()
        self._keep(self._pending)
        self._pending.clear()
        parts.append(self._text())
        self._current = bytearray()
        self._truncated = False
        return "".join(parts)
