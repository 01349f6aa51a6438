"""A request body handed to a handler thread while it is still arriving.

The connection (on the event loop) feeds what it receives; a handler thread reads it as
an iterator of byte strings. At most about `HIGH_WATER` bytes wait in between: past it
the connection stops reading from the socket until the reader catches up, so a fast
client cannot fill memory faster than the disk takes it.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Callable, Iterator

HIGH_WATER = 1024 * 1024
LOW_WATER = 256 * 1024


class BodyFailure(enum.Enum):
    TOO_LARGE = "too_large"  # more bytes than the operation takes
    TIMEOUT = "timeout"  # the client stopped sending
    LOST = "lost"  # the connection closed before the body ended


class BodyAborted(Exception):
    def __init__(self, failure: BodyFailure, size: int) -> None:
        super().__init__(failure.value)
        self.failure = failure
        self.size = size  # bytes received when it failed


class BodyStream:
    def __init__(self, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        self._pause = pause
        self._resume = resume  # thread-safe: called from the reading thread
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._cond = threading.Condition()
        self._complete = False
        self._failure: BodyFailure | None = None
        self.received = 0
        self.paused = False  # reading paused for backpressure, not a stalled client
        self.abandoned = False  # the handler answered without reading it all

    @property
    def complete(self) -> bool:
        return self._complete

    # -- the connection's side (event loop) -------------------------------------------
    def feed(self, data: bytes) -> None:
        with self._cond:
            if self.abandoned or self._failure is not None:
                return
            self._chunks.append(data)
            self._buffered += len(data)
            self.received += len(data)
            self._cond.notify()
            pause = self._buffered > HIGH_WATER and not self.paused
            if pause:
                self.paused = True
        if pause:
            self._pause()

    def finish(self) -> None:
        with self._cond:
            self._complete = True
            self._cond.notify()

    def fail(self, failure: BodyFailure) -> None:
        with self._cond:
            if self._complete or self._failure is not None:
                return
            self._failure = failure
            self._chunks.clear()
            self._cond.notify()

    # -- the handler's side (worker thread) ---------------------------------------------
    def __iter__(self) -> Iterator[bytes]:
        while True:
            with self._cond:
                while not self._chunks and not self._complete and self._failure is None:
                    self._cond.wait()
                if self._failure is not None:
                    raise BodyAborted(self._failure, self.received)
                if not self._chunks:
                    return
                data = self._chunks.popleft()
                self._buffered -= len(data)
                resume = self.paused and self._buffered < LOW_WATER
                if resume:
                    self.paused = False
            if resume:
                self._resume()
            yield data

    def abandon(self) -> None:
        """The handler is done with it: drop what waits and what still comes."""
        with self._cond:
            self.abandoned = True
            self._chunks.clear()
            self._buffered = 0
