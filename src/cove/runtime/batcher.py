"""Adaptive batching on the gateway side: while an instance is busy, the requests routed
to it queue up; when it is free they go to it as one batch (`serving/batch.py`).

Enabled per model through its Environment, like the batching knobs of TorchServe,
Triton and MLServer:
  COVE_MAX_BATCH_SIZE       most requests in one batch (default 1: no batching)
  COVE_MAX_BATCH_DELAY_MS   how long a request may wait for others to join it when the
                            instance is idle, under load only: after a batch of one
                            (a lone client) nobody waits (default 0: never wait;
                            batches form only from requests that queued meanwhile)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass

from cove.runtime.client import ConnectionPool, HttpResponse
from cove.runtime.serving.batch import BATCH_HEADER, BatchItem, decode_outcomes, encode_items
from cove.runtime.serving.context import CUSTOM_ATTRIBUTES

SIZE_ENV = "COVE_MAX_BATCH_SIZE"
DELAY_ENV = "COVE_MAX_BATCH_DELAY_MS"
MAX_SIZE_LIMIT = 1024


@dataclass(frozen=True)
class BatchPolicy:
    max_size: int = 1
    max_delay: float = 0.0  # seconds

    @property
    def enabled(self) -> bool:
        return self.max_size > 1


def policy_from(environment: dict[str, str]) -> BatchPolicy:
    """Read the knobs; raise ValueError with a message a person can act on."""
    try:
        size = int(environment.get(SIZE_ENV, "1"))
        delay_ms = float(environment.get(DELAY_ENV, "0"))
    except ValueError:
        raise ValueError(
            f"{SIZE_ENV} must be an integer and {DELAY_ENV} a number of milliseconds"
        ) from None
    if not 1 <= size <= MAX_SIZE_LIMIT:
        raise ValueError(f"{SIZE_ENV} must be between 1 and {MAX_SIZE_LIMIT}, not {size}")
    if not 0 <= delay_ms <= 1000:
        raise ValueError(f"{DELAY_ENV} must be between 0 and 1000 ms, not {delay_ms:g}")
    return BatchPolicy(size, delay_ms / 1000)


def _expire(future: asyncio.Future[HttpResponse]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


@dataclass
class _Pending:
    item: BatchItem
    future: asyncio.Future[HttpResponse]


class Batcher:
    """One per instance; at most one batch in flight to it at a time."""

    def __init__(self, pool: ConnectionPool, policy: BatchPolicy) -> None:
        self.pool = pool
        self.policy = policy
        self._queue: deque[_Pending] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_size = 0  # size of the batch sent last: is there company to wait for?

    async def invoke(
        self, headers: list[tuple[str, str]], body: bytes, timeout: float
    ) -> HttpResponse:
        """The instance's answer to this request alone; TimeoutError after `timeout` s."""
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._task = loop.create_task(self._run())
        found = {k.lower(): v for k, v in headers}
        item = BatchItem(
            found.get("content-type", ""),
            found.get("accept", ""),
            found.get(CUSTOM_ATTRIBUTES.lower()),
            body,
        )
        pending = _Pending(item, loop.create_future())
        self._queue.append(pending)
        self._wakeup.set()
        timer = loop.call_later(timeout, _expire, pending.future)
        try:
            return await pending.future
        finally:
            timer.cancel()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        while self._queue:
            pending = self._queue.popleft()
            if not pending.future.done():
                pending.future.set_exception(ConnectionError("the instance stopped"))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            # Waiting pays only under load; a lone client (last batch of one) never waits.
            under_load = self._last_size > 1
            if under_load and self.policy.max_delay and len(self._queue) < self.policy.max_size:
                deadline = loop.time() + self.policy.max_delay
                while len(self._queue) < self.policy.max_size and loop.time() < deadline:
                    self._wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), deadline - loop.time())
            batch = [self._queue.popleft()
                     for _ in range(min(len(self._queue), self.policy.max_size))]
            batch = [p for p in batch if not p.future.done()]  # callers that gave up
            self._last_size = len(batch)
            if batch:
                await self._send(batch)

    async def _send(self, batch: list[_Pending]) -> None:
        body = encode_items([p.item for p in batch])
        try:
            # no timeout here: each caller bounds its own wait, and a hung instance
            # is recycled by the fleet, which closes this connection
            marker = [(BATCH_HEADER, str(len(batch)))]
            resp = await self.pool.request("POST", "/invocations", marker, body, None)
            if resp.status != 200:
                raise ConnectionError(f"the instance answered a batch with {resp.status}")
            outcomes = decode_outcomes(resp.body)
            if len(outcomes) != len(batch):
                raise ConnectionError("the instance answered a batch with the wrong count")
        except (OSError, ValueError) as exc:
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(
                        exc if isinstance(exc, OSError) else ConnectionError(str(exc))
                    )
            return
        for p, out in zip(batch, outcomes, strict=True):
            if p.future.done():
                continue
            headers = {"content-type": out.content_type}
            if out.custom_attributes is not None:
                headers[CUSTOM_ATTRIBUTES.lower()] = out.custom_attributes
            p.future.set_result(HttpResponse(out.status, headers, out.body))
