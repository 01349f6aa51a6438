"""The warm workers of one function version.

An invocation takes the most recently used idle worker (so that the others go idle and
are retired), or starts a new one while the version has fewer than its limit
(COVE_FUNCTION_CONCURRENCY, default 8: a worker per concurrent invocation, as Lambda
gives each its own execution environment). Past the limit it waits for a worker to come
free for at most QUEUE_SECONDS, then fails with ConcurrencyLimitExceeded, Lambda's
TooManyRequestsException: a short queue absorbs a burst on a small box, and a client
still hears a throttle when the load persists. Idle workers are stopped after the idle
timeout (COVE_FUNCTION_IDLE_TIMEOUT, default 300 s), and so are workers whose role
credentials would expire before a further invocation could finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable

from cove.functions.contracts import ConcurrencyLimitExceeded, FunctionSpec
from cove.functions.runtime.worker import Worker

QUEUE_SECONDS = 2.0
# Keys within this much of expiry are not handed to a further invocation: the worker is
# replaced (and its replacement gets a fresh session).
CREDENTIALS_MARGIN = 900.0


class PoolClosed(Exception):
    """The pool was replaced (new code or configuration) or retired: use the current one."""


class Pool:
    def __init__(
        self,
        spec: FunctionSpec,
        start_worker: Callable[[], Awaitable[Worker]],
        limit: int,
        queue_seconds: float = QUEUE_SECONDS,
    ) -> None:
        self.spec = spec
        self.limit = max(1, limit)
        self.queue_seconds = queue_seconds
        self._start_worker = start_worker
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._starting = 0
        self._waiters: deque[asyncio.Future[Worker | None]] = deque()
        self._stopping: set[asyncio.Task[None]] = set()
        self.closed = False

    @property
    def size(self) -> int:
        return len(self._idle) + len(self._busy) + self._starting

    def workers(self) -> list[Worker]:
        return [*self._idle, *self._busy]

    async def acquire(self) -> Worker:
        """A worker for one invocation, started if need be (its `served` is then 0)."""
        while True:
            if self.closed:
                raise PoolClosed(self.spec.function_arn)
            worker = self._take_idle()
            if worker is not None:
                return worker
            if self.size < self.limit:
                return await self._start()
            waiter: asyncio.Future[Worker | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait({waiter}, timeout=self.queue_seconds)
            except asyncio.CancelledError:
                # the caller went away (its client hung up) while it queued: a worker
                # already handed to it goes back, else it leaves the queue
                self._abandon(waiter)
                raise
            if not waiter.done():
                self._abandon(waiter)
                raise ConcurrencyLimitExceeded(self.spec.function_arn)
            handed = waiter.result()
            if handed is not None:
                self._busy.add(handed)
                return handed
            # a slot came free (a worker was stopped): try again

    def _abandon(self, waiter: asyncio.Future[Worker | None]) -> None:
        if waiter.done() and not waiter.cancelled():
            handed = waiter.result()
            if handed is not None:
                self._busy.add(handed)
                self.release(handed)  # to the next waiter, or idle
            else:
                self._wake(None)  # the free slot it was told of goes to the next one
            return
        waiter.cancel()
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def _take_idle(self) -> Worker | None:
        while self._idle:
            worker = self._idle.pop()
            if self._usable(worker):
                self._busy.add(worker)
                return worker
            self._stop(worker)
        return None

    async def _start(self) -> Worker:
        self._starting += 1
        try:
            worker = await self._start_worker()
        except BaseException:
            self._starting -= 1
            self._wake(None)
            raise
        self._starting -= 1
        self._busy.add(worker)
        return worker

    def release(self, worker: Worker) -> None:
        """The invocation is over; a worker that is still fit serves the next one."""
        self._busy.discard(worker)
        if self.closed or not self._usable(worker):
            self._stop(worker)
            self._wake(None)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def _wake(self, value: Worker | None) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(value)
                return

    def _usable(self, worker: Worker) -> bool:
        needed = self.spec.timeout_s + CREDENTIALS_MARGIN
        return worker.alive and worker.fresh_until(time.time(), needed)

    def retire_idle(self, idle_seconds: float) -> None:
        now = time.monotonic()
        keep = []
        for worker in self._idle:
            if now - worker.last_used >= idle_seconds or not self._usable(worker):
                self._stop(worker)
            else:
                keep.append(worker)
        self._idle = keep

    def _stop(self, worker: Worker) -> None:
        task = asyncio.get_running_loop().create_task(worker.stop())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def close(self, busy_too: bool = False) -> None:
        """Stop the idle workers now, the busy ones when their invocation ends (or now,
        with `busy_too`); later invocations must use a new pool."""
        self.closed = True
        for worker in self._idle:
            self._stop(worker)
        self._idle = []
        if busy_too:
            for worker in list(self._busy):
                self._stop(worker)
        self._wake(None)
        while self._waiters:
            self._wake(None)
        await self.drained()

    async def drained(self) -> None:
        while self._stopping:
            await asyncio.gather(*list(self._stopping), return_exceptions=True)
