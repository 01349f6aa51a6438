"""The Lane against a real HTTP instance on a Unix socket: a lone call goes out plain,
calls that queue meanwhile go out as one batch, and the model timeout holds for calls in
flight and for calls waiting behind them."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from cove.http.messages import Listener, Request, Response
from cove.http.server import serve_unix
from cove.instance.serving.batch import (
    BATCH_HEADER,
    BatchOutcome,
    decode_items,
    encode_outcomes,
)
from cove.runtime.client import HttpResponse, unix_connector
from cove.runtime.invocation import Invocation, QueueTimeout
from cove.runtime.lane import BatchPolicy, Lane


class Instance:
    """Answers each call with its body reversed after `delay` s, batches item by item."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.seen: list[int] = []  # calls per exchange

    async def __call__(self, req: Request) -> Response:
        await asyncio.sleep(self.delay)
        if BATCH_HEADER.lower() in req.headers:
            items = decode_items(req.body)
            self.seen.append(len(items))
            outs = [BatchOutcome(200, "text/plain", i.body[::-1]) for i in items]
            return Response(200, [(BATCH_HEADER, str(len(outs)))], encode_outcomes(outs))
        self.seen.append(1)
        return Response(200, [("Content-Type", "text/plain")], req.body[::-1])


async def run_calls(lane: Lane, bodies: list[bytes]) -> list[HttpResponse | Exception]:
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in bodies]
    for body, fut in zip(bodies, futures, strict=True):
        lane.submit(Invocation(body, "text/csv", None), fut.set_result)
    return list(await asyncio.gather(*futures))


async def with_instance(tmp_path: Path, instance: Instance, policy: BatchPolicy, timeout: float,
                        bodies: list[bytes]) -> list[HttpResponse | Exception]:
    path = str(tmp_path / "i.sock")
    server = await serve_unix(instance, path, Listener(kind="worker"))
    lane = Lane(unix_connector(path), policy, timeout)
    await lane.open()
    try:
        return await run_calls(lane, bodies)
    finally:
        lane.close()
        server.close()


def test_lone_call_goes_out_plain_and_queued_calls_as_one_batch(tmp_path: Path) -> None:
    instance = Instance(delay=0.05)
    bodies = [b"1,2", b"3,4", b"5,6", b"7,8"]
    got = asyncio.run(with_instance(tmp_path, instance, BatchPolicy(8, 0.0), 5.0, bodies))
    assert [r.body for r in got] == [b[::-1] for b in bodies]  # type: ignore[union-attr]
    assert instance.seen == [1, 3]  # the first went alone, the rest queued behind it


def test_without_batching_calls_go_one_by_one_in_order(tmp_path: Path) -> None:
    instance = Instance()
    bodies = [str(i).encode() for i in range(5)]
    got = asyncio.run(with_instance(tmp_path, instance, BatchPolicy(), 5.0, bodies))
    assert [r.body for r in got] == bodies  # type: ignore[union-attr]
    assert instance.seen == [1] * 5


def test_batch_waits_for_company_only_under_load_and_then_goes(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[int], float]:
        instance = Instance(delay=0.02)
        path = str(tmp_path / "i.sock")
        server = await serve_unix(instance, path, Listener(kind="worker"))
        lane = Lane(unix_connector(path), BatchPolicy(16, 0.2), 5.0)
        await lane.open()
        loop = asyncio.get_running_loop()
        try:
            await run_calls(lane, [b"a", b"b", b"c"])  # [1, 2]: now under load
            started = loop.time()
            await run_calls(lane, [b"d"])  # waits up to 0.2 s for company, then goes alone
            return instance.seen, loop.time() - started
        finally:
            lane.close()
            server.close()

    seen, waited = asyncio.run(scenario())
    assert seen == [1, 2, 1]
    assert 0.15 < waited < 2.0


def test_call_in_flight_times_out(tmp_path: Path) -> None:
    instance = Instance(delay=30)
    got = asyncio.run(with_instance(tmp_path, instance, BatchPolicy(), 0.3, [b"x"]))
    assert isinstance(got[0], TimeoutError) and not isinstance(got[0], QueueTimeout)


def test_call_queued_longer_than_the_timeout_gets_queue_timeout(tmp_path: Path) -> None:
    # each answer takes 0.25 s, the timeout is 0.4 s: the third call waits too long
    instance = Instance(delay=0.25)
    got = asyncio.run(with_instance(tmp_path, instance, BatchPolicy(), 0.4, [b"1", b"2", b"3"]))
    assert [type(g) for g in got[:2]] == [HttpResponse, HttpResponse]
    assert isinstance(got[2], QueueTimeout)


def test_closed_lane_fails_calls_with_connection_error(tmp_path: Path) -> None:
    async def scenario() -> list[HttpResponse | Exception]:
        path = str(tmp_path / "i.sock")
        server = await serve_unix(Instance(delay=30), path, Listener(kind="worker"))
        lane = Lane(unix_connector(path), BatchPolicy(), 5.0)
        loop = asyncio.get_running_loop()
        try:
            pending = asyncio.ensure_future(run_calls(lane, [b"1", b"2"]))
            await asyncio.sleep(0.1)
            lane.close()
            after = loop.create_future()
            lane.submit(Invocation(b"3", None, None), after.set_result)
            return [*await pending, await after]
        finally:
            server.close()

    got = asyncio.run(scenario())
    assert all(isinstance(g, ConnectionError) for g in got), got



def test_unix_connector_refuses_a_socket_served_by_someone_else(tmp_path: Path) -> None:
    # The socket's directory is writable by sandboxed code: a link there to another
    # process's socket must not get the server's requests.
    path = str(tmp_path / "s.sock")

    async def check() -> None:
        server = await asyncio.start_unix_server(lambda r, w: None, path)
        try:
            with pytest.raises(ConnectionRefusedError, match="not served by the instance"):
                await unix_connector(path, trusted=lambda pid: False)()
            conn = await unix_connector(path, trusted=lambda pid: pid == os.getpid())()
            conn.close()
        finally:
            server.close()

    asyncio.run(check())
