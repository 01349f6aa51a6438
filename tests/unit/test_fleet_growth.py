"""A fleet that grows (its start, a higher instance count) and does not get there: the new
instances are not in the variant, where stopping the fleet would find them, so the grow
itself gives back their ENIs, however it ended: failed, or cancelled (the endpoint deleted
or updated during a long artifact download or start)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from network_standins import Vpc, vpc

from cove.config import Settings
from cove.host.instance_types import lookup
from cove.runtime.contract import VariantSpec
from cove.runtime.fleet import FleetHost, LocalFleet, _Variant
from cove.runtime.images import resolve
from cove.runtime.lane import BatchPolicy
from cove.runtime.metrics import Metrics
from cove.runtime.placement import RegionZones

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def fleet_in(net: Vpc, tmp_path: Path) -> LocalFleet:
    """A fleet whose variant (its model in the VPC) has no instances yet; they would be
    placed in the VPC's two AZs."""
    spec = VariantSpec("AllTraffic", "m", SKLEARN, None, instance_type="ml.m5.large",
                       subnets=net.subnets, security_group_ids=(net.group,))  # fmt: skip
    host = FleetHost(
        Settings(data_dir=tmp_path / "data"), None, tmp_path, None, lambda: 0, Metrics(),  # type: ignore[arg-type]
        RegionZones("us-east-1"), networks=net.hosts,
    )  # fmt: skip
    fleet = LocalFleet("ep", [spec], host)
    fleet._live["AllTraffic"] = _Variant(
        spec, resolve(SKLEARN), lookup("ml.m5.large"), None, [], BatchPolicy()
    )
    return fleet


def test_a_grow_cancelled_while_placing_gives_back_its_instances_enis(tmp_path: Path) -> None:
    net = vpc(tmp_path)
    free = net.free()
    net.fabric.hang_at = 2  # the second instance's ENI

    async def go() -> None:
        fleet = fleet_in(net, tmp_path)
        grow = asyncio.create_task(fleet.set_instance_count("AllTraffic", 2))
        await asyncio.wait_for(net.fabric.hanging.wait(), 5)
        assert len(net.enis()) == 2
        grow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await grow
        assert fleet.instances() == []

    asyncio.run(go())
    assert net.enis() == [] and net.free() == free


def test_a_grow_that_fails_unexpectedly_gives_back_its_instances_enis(tmp_path: Path) -> None:
    net = vpc(tmp_path)
    free = net.free()
    net.fabric.raise_at = 2

    async def go() -> None:
        fleet = fleet_in(net, tmp_path)
        with pytest.raises(OSError, match="build 2 failed"):
            await fleet.set_instance_count("AllTraffic", 2)

    asyncio.run(go())
    assert net.enis() == [] and net.free() == free



def test_an_instance_that_cannot_be_built_gives_back_its_eni(tmp_path: Path) -> None:
    # the ENI is attached before the Instance is built: a failure in between (here the
    # host's CPU slots) must not leave the ENI with no instance to release it
    net = vpc(tmp_path)
    free = net.free()

    def no_slot() -> int:
        raise RuntimeError("no slot")

    async def go() -> None:
        fleet = fleet_in(net, tmp_path)
        fleet.host.next_slot = no_slot
        with pytest.raises(RuntimeError, match="no slot"):
            await fleet.set_instance_count("AllTraffic", 1)

    asyncio.run(go())
    assert net.enis() == [] and net.free() == free
