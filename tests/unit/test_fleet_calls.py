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
from cove.runtime.placement import RegionZones

SPEC = VariantSpec("v", "m", "tiny", None)


async def fleet_of(
    tmp_path: Path, modes: list[str], serial: BatchPolicy | None = None,
    model_timeout: float = 5.0, zones: list[str] | None = None, cross_az_delay_ms: float = 0,
) -> LocalFleet:
    settings = Settings(
        data_dir=tmp_path / "data", model_timeout=model_timeout,
        cross_az_delay_ms=cross_az_delay_ms,
    )  # fmt: skip
    host = FleetHost(
        settings, None, tmp_path, None, lambda: 0, Metrics(), RegionZones("us-east-1"),  # type: ignore[arg-type]
    )
    fleet = LocalFleet("ep", [SPEC], host)
    instances = [
        tiny_instance(
            tmp_path / f"i{n}", mode, name=f"v-{n}", serial=serial, timeout=model_timeout,
            on_healthy=fleet._healthy_changed.set, on_idle=fleet._rebalance,
            az=(zones or ["us-east-1a"] * len(modes))[n - 1],
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


async def invoke(  # noqa: ANN201
    fleet: LocalFleet, body: bytes, target: str | None = None, az: str | None = None,
    caller_az: str | None = None,
):
    fut = answer_future()
    call = Invocation(body, "text/plain", None, az=az, caller_az=caller_az)
    fleet.submit(call, target, fut.set_result)
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


def test_a_call_through_an_az_is_served_there_while_it_has_a_healthy_instance(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        zones = ["us-east-1a", "us-east-1b", "us-east-1b"]
        fleet = await fleet_of(tmp_path, ["ok", "ok", "ok"], zones=zones)
        in_a, b1, b2 = fleet.instances()
        try:
            for _ in range(4):
                assert answered_by(await invoke(fleet, b"x", az="us-east-1a"), in_a, b"x")
            # the least busy of AZ b's, even while AZ a's is idle
            got = await asyncio.gather(*(invoke(fleet, b"slow", az="us-east-1b") for _ in range(4)))
            assert sorted(r.body.split(b":")[0] for r in got) == sorted(  # type: ignore[union-attr]
                [str(b1.pid).encode()] * 2 + [str(b2.pid).encode()] * 2
            )
            # the public path (no AZ) spreads over every AZ
            got = await asyncio.gather(*(invoke(fleet, b"slow") for _ in range(3)))
            assert {r.body.split(b":")[0] for r in got} == {  # type: ignore[union-attr]
                str(i.pid).encode() for i in (in_a, b1, b2)
            }
            # AZ a's instance is down: AZ a's calls go to another AZ, until it is back
            in_a.recycle("test")
            assert not answered_by(await invoke(fleet, b"y", az="us-east-1a"), in_a, b"y")
            await until(lambda: in_a.healthy)
            assert answered_by(await invoke(fleet, b"z", az="us-east-1a"), in_a, b"z")
            # a zone the variant has no instance in: any
            assert isinstance(await invoke(fleet, b"w", az="us-east-1c"), InvokeResult)
            # what each answered, for /metrics: AZ a's 4 + 1 of the public 3 + z (+ w?)
            assert sum(i.served for i in (in_a, b1, b2)) == 14
            assert in_a.served in (6, 7)
        finally:
            await fleet.stop()

    asyncio.run(scenario())


def test_calls_bound_to_an_az_do_not_move_to_an_idle_instance_elsewhere(tmp_path: Path) -> None:
    async def scenario() -> None:
        fleet = await fleet_of(
            tmp_path, ["ok", "ok"], serial=BatchPolicy(), zones=["us-east-1a", "us-east-1b"]
        )
        busy, idle = fleet.instances()
        try:
            idle.healthy = False  # everything goes to `busy` for now
            order: list[bytes] = []
            sent: list[bytes] = []
            route = fleet._send

            def spy(call: _Call) -> None:
                sent.append(call.invocation.body)
                route(call)

            fleet._send = spy  # type: ignore[method-assign]

            async def call(body: bytes, az: str | None = None) -> InvokeResult | AwsError:
                got = await invoke(fleet, body, az=az)
                order.append(body)
                return got

            calls = [
                asyncio.ensure_future(call(b"slower")),
                asyncio.ensure_future(call(b"bound", "us-east-1a")),
                asyncio.ensure_future(call(b"free")),
                asyncio.ensure_future(call(b"later", "us-east-1a")),
            ]
            await until(lambda: busy.outstanding == 4)
            idle.healthy = True
            # `idle` answers this one, goes idle, and takes what may be served in AZ b
            assert answered_by(await invoke(fleet, b"b"), idle, b"b")
            slow, bound, free, later = await asyncio.gather(*calls)
            assert answered_by(free, idle, b"free"), free  # moved: the public path
            assert answered_by(slow, busy, b"slower")
            # AZ a's calls stayed, in their order (moved, `bound` would have come back
            # to AZ a behind `later`)
            assert answered_by(bound, busy, b"bound") and answered_by(later, busy, b"later")
            assert order.index(b"bound") < order.index(b"later"), order
            # and only `free` was routed a second time
            assert sent == [b"slower", b"bound", b"free", b"later", b"b", b"free"]
        finally:
            await fleet.stop()

    asyncio.run(scenario())


def test_a_call_served_in_another_az_than_its_callers_waits_the_cross_az_delay(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        fleet = await fleet_of(tmp_path, ["ok"], zones=["us-east-1a"], cross_az_delay_ms=200)
        (inst,) = fleet.instances()
        loop = asyncio.get_running_loop()
        try:
            took = {}
            for caller in ("us-east-1a", "us-east-1b", None):
                start = loop.time()
                assert answered_by(await invoke(fleet, b"x", caller_az=caller), inst, b"x")
                took[caller] = loop.time() - start
            assert took["us-east-1b"] >= 0.2, took
            assert took["us-east-1a"] < 0.1 and took[None] < 0.1, took  # same AZ, or none
        finally:
            await fleet.stop()

    asyncio.run(scenario())


def test_a_call_waiting_out_the_cross_az_delay_counts_as_its_instances_load(
    tmp_path: Path,
) -> None:
    # Otherwise the other AZ's instance looks idle while its calls wait, takes the next
    # public-path calls too, and far more than half of them pay the delay.
    async def scenario() -> None:
        fleet = await fleet_of(
            tmp_path, ["ok", "ok"], zones=["us-east-1a", "us-east-1b"], cross_az_delay_ms=300
        )
        a, b = fleet.instances()
        try:
            calls = [invoke(fleet, f"{n}".encode(), caller_az="us-east-1a") for n in range(4)]
            submitted = asyncio.gather(*calls)
            await asyncio.sleep(0.05)  # all routed; those bound for b still waiting
            assert b.outstanding == 2 and a.served + a.outstanding == 2
            await submitted
            assert (a.served, b.served) == (2, 2)
            assert b.in_transit == 0
        finally:
            await fleet.stop()

    asyncio.run(scenario())
