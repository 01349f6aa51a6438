"""The fleet's invocation path (`LocalFleet.submit`, `_Call.answered`) over real tiny
instance processes: what is retried, what is not, and calls that move between
instances. The fleet is a real LocalFleet whose variant is given the instances directly
(its own start would resolve images and unpack models)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tiny_instance import running, tiny_instance
from waiting import until

from cove.config import Settings
from cove.errors import AwsError
from cove.runtime import fleet as fleet_module
from cove.runtime.contract import InvokeResult, VariantSpec
from cove.runtime.fleet import FleetHost, LocalFleet, _Call, _Variant
from cove.runtime.instance import Instance
from cove.runtime.invocation import Invocation
from cove.runtime.lane import BatchPolicy
from cove.runtime.metrics import Metrics

SPEC = VariantSpec("v", "m", "tiny", None)


async def fleet_of(
    tmp_path: Path, modes: list[str], serial: BatchPolicy | None = None,
    model_timeout: float = 5.0,
) -> LocalFleet:
    settings = Settings(data_dir=tmp_path / "data", model_timeout=model_timeout)
    host = FleetHost(settings, None, tmp_path, None, lambda: 0, Metrics())  # type: ignore[arg-type]
    fleet = LocalFleet("ep", [SPEC], host)
    instances = [
        tiny_instance(
            tmp_path / f"i{n}", mode, name=f"v-{n}", serial=serial, timeout=model_timeout,
            on_healthy=fleet._healthy_changed.set, on_idle=fleet._rebalance,
        )
        for n, mode in enumerate(modes, 1)
    ]
    await asyncio.gather(*(i.start() for i in instances))
    fleet._live["v"] = _Variant(  # type: ignore[arg-type]
        SPEC, None, None, None, instances, serial or BatchPolicy(), released=True
    )
    return fleet


def answer_future() -> asyncio.Future[InvokeResult | AwsError]:
    return asyncio.get_running_loop().create_future()


async def invoke(fleet: LocalFleet, body: bytes, target: str | None = None):  # noqa: ANN201
    fut = answer_future()
    fleet.submit(Invocation(body, "text/plain", None), target, fut.set_result)
    return await asyncio.wait_for(fut, 5)


async def send_to(fleet: LocalFleet, inst: Instance, body: bytes):  # noqa: ANN201
    """A call that routing sent to `inst` first; what follows is the fleet's doing."""
    fut = answer_future()
    _Call(fleet, Invocation(body, "text/plain", None), "v", fut.set_result).send_to(inst)
    return await asyncio.wait_for(fut, 5)


def answered_by(result: InvokeResult | AwsError, inst: Instance, body: bytes) -> bool:
    return isinstance(result, InvokeResult) and result.body == f"{inst.pid}:".encode() + body


def errors_5xx(fleet: LocalFleet) -> int:
    return fleet.host.metrics.variant("ep", "v").errors_5xx



def log_of(inst: Instance) -> str:
    return inst.log_path.read_text()


def test_a_call_that_was_not_sent_is_retried_once_on_another_instance(tmp_path: Path) -> None:
    async def scenario() -> None:
        fleet = await fleet_of(tmp_path, ["deaf", "ok"])
        deaf, ok = fleet.instances()
        try:
            got = await send_to(fleet, deaf, b"hello")  # refused: it never reached a model
            assert answered_by(got, ok, b"hello"), got
            assert errors_5xx(fleet) == 0
            await until(lambda: deaf.restarts == 1)  # recycled for the refused connection
        finally:
            await fleet.stop()

    asyncio.run(scenario())


def test_a_call_not_sent_twice_is_answered_model_error(tmp_path: Path) -> None:
    async def scenario() -> None:
        fleet = await fleet_of(tmp_path, ["deaf", "deaf"])
        first, second = fleet.instances()
        try:
            got = await send_to(fleet, first, b"hello")
            assert isinstance(got, AwsError) and got.code == "ModelError", got
            assert "closed the connection without answering" in got.message
            assert errors_5xx(fleet) == 1
            # one try on each, no more
            await until(lambda: first.restarts == 1 and second.restarts == 1)
        finally:
            await fleet.stop()

    asyncio.run(scenario())


def test_a_call_in_flight_when_the_instance_died_is_not_retried(tmp_path: Path) -> None:
    async def scenario() -> None:
        fleet = await fleet_of(tmp_path, ["ok", "ok"], serial=BatchPolicy())
        crashing, other = fleet.instances()
        try:
            got = await send_to(fleet, crashing, b"crash")
            assert isinstance(got, AwsError) and got.code == "ModelError", got
            assert got.status == 424
            assert "closed the connection without answering" in got.message
            assert str(crashing.log_path) in got.message
            assert "invoked crash" in log_of(crashing)
            assert "invoked" not in log_of(other)  # it would have crashed that one too
            assert errors_5xx(fleet) == 1
            await until(lambda: crashing.restarts == 1 and crashing.healthy)
            assert answered_by(await send_to(fleet, crashing, b"x"), crashing, b"x")
        finally:
            await fleet.stop()

    asyncio.run(scenario())


def test_calls_queued_behind_a_busy_instance_move_to_one_that_went_idle(tmp_path: Path) -> None:
    async def scenario() -> None:
        fleet = await fleet_of(tmp_path, ["ok", "ok"], serial=BatchPolicy())
        busy, idle = fleet.instances()
        try:
            idle.healthy = False  # everything goes to `busy` for now
            # `slower` holds `busy` long enough for the rest to happen, however loaded the host
            calls = [asyncio.ensure_future(invoke(fleet, b)) for b in (b"slower", b"q2", b"q3")]
            await until(lambda: busy.outstanding == 3)
            idle.healthy = True
            # `idle` answers this one, goes idle and takes half of what waits on `busy`
            assert answered_by(await invoke(fleet, b"b"), idle, b"b")
            slow, q2, q3 = await asyncio.gather(*calls)
            assert answered_by(q2, idle, b"q2"), q2  # moved, and routed again
            assert answered_by(q3, idle, b"q3"), q3  # idle again after q2: moved too
            assert answered_by(slow, busy, b"slower")
            assert errors_5xx(fleet) == 0
        finally:
            await fleet.stop()

    asyncio.run(scenario())


def test_a_call_in_flight_past_the_model_timeout_recycles_the_instance(tmp_path: Path) -> None:
    async def scenario() -> None:
        fleet = await fleet_of(tmp_path, ["ok"], serial=BatchPolicy(), model_timeout=0.15)
        (inst,) = fleet.instances()
        try:
            got = await invoke(fleet, b"slow")
            assert isinstance(got, AwsError) and got.code == "ModelError", got
            assert "timed out while waiting for a response" in got.message
            await until(lambda: inst.restarts == 1)
        finally:
            await fleet.stop()

    asyncio.run(scenario())


def test_routing_errors_and_a_wait_for_a_healthy_instance(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(fleet_module, "HEALTHY_WAIT", 0.3)

    async def scenario() -> None:
        fleet = await fleet_of(tmp_path, ["ok"])
        (inst,) = fleet.instances()
        try:
            got = await invoke(fleet, b"x", target="nope")
            assert isinstance(got, AwsError) and got.code == "ValidationError"
            assert "The variant nope does not exist for endpoint ep" in got.message

            fleet.set_weight("v", 0)
            got = await invoke(fleet, b"x")
            assert isinstance(got, AwsError) and "no production variant with a weight" in (
                got.message
            )
            assert answered_by(await invoke(fleet, b"x", target="v"), inst, b"x")
            fleet.set_weight("v", 1)

            # recycled: the call waits for the restart and goes to it
            old = inst.pid
            inst.recycle("test")
            got = await invoke(fleet, b"after")
            assert inst.pid != old and answered_by(got, inst, b"after")

            inst.healthy = False  # none comes back in time
            got = await invoke(fleet, b"x")
            assert isinstance(got, AwsError) and (got.code, got.status) == (
                "ServiceUnavailable", 503,
            )
            inst.healthy = True
        finally:
            await fleet.stop()
        assert inst.pid is not None and not running(inst.pid)

    asyncio.run(scenario())


@pytest.mark.parametrize("serial", [None, BatchPolicy()], ids=["pooled", "lane"])
def test_least_outstanding_spreads_concurrent_calls(tmp_path: Path, serial) -> None:
    async def scenario() -> None:
        fleet = await fleet_of(tmp_path, ["ok", "ok"], serial=serial)
        a, b = fleet.instances()
        try:
            got = await asyncio.gather(*(invoke(fleet, b"slow") for _ in range(4)))
            pids = [r.body.split(b":")[0] for r in got]  # type: ignore[union-attr]
            assert sorted(pids) == sorted([str(a.pid).encode()] * 2 + [str(b.pid).encode()] * 2)
        finally:
            await fleet.stop()

    asyncio.run(scenario())
