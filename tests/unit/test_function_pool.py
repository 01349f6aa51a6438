"""A function version's pool of workers: an invocation whose caller goes away while it
queues for a worker (its client hung up) must neither swallow the worker handed to it
nor stay in the queue; otherwise every later invocation starts a cold worker and the
abandoned ones pile up (found by the cove-apigw benchmark row after a c=64 burst)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from cove.functions.contracts import FunctionSpec
from cove.functions.runtime.pool import Pool

SPEC = FunctionSpec("arn:aws:lambda:us-east-1:000000000000:function:f", "f", "$LATEST",
                    Path("/nonexistent"), "app.handler", "python3.11", 128, 3)  # fmt: skip


@dataclass(eq=False)
class StandIn:
    """What the pool asks of a worker: alive, fresh, stoppable."""

    number: int
    alive: bool = True
    last_used: float = 0.0

    def fresh_until(self, now: float, needed: float) -> bool:
        return True

    async def stop(self) -> None:
        self.alive = False


def test_a_cancelled_waiter_gives_back_the_worker_it_was_handed() -> None:
    async def scenario() -> None:
        started: list[StandIn] = []

        async def start() -> StandIn:
            started.append(StandIn(len(started)))
            return started[-1]

        pool = Pool(SPEC, start, limit=1, queue_seconds=5)
        first = await pool.acquire()
        queued = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0.01)  # it waits for the one worker
        pool.release(first)  # handed to the waiter ...
        queued.cancel()  # ... whose caller is gone before it runs
        with contextlib.suppress(asyncio.CancelledError):
            await queued
        again = await asyncio.wait_for(pool.acquire(), 1)
        assert again is first  # back in the pool, not lost
        assert len(started) == 1
        pool.release(again)

        # a waiter cancelled before anything is handed leaves the queue
        held = await pool.acquire()
        waiting = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0.01)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        pool.release(held)
        assert (await asyncio.wait_for(pool.acquire(), 1)) is first
        assert len(started) == 1

    asyncio.run(scenario())
