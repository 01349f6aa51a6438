"""The ENIs of SageMaker's instances and jobs (network/sagemaker_hosts.py): one whose
network cannot be built is released, not left holding its two addresses, and after a
restart every ENI a previous run's instances held is adopted or released, however many
share a description (a blue/green update's old and new fleets both number from -1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from network_standins import Vpc, vpc

from cove.network.resources import SAGEMAKER_REQUESTER
from cove.network.sagemaker_hosts import INSTANCE_ADDRESSES, PlacementFailed, description

KEY = description("endpoint ep", "AllTraffic-1")


def test_an_eni_whose_network_cannot_be_built_goes_new_or_adopted(tmp_path: Path) -> None:
    net = vpc(tmp_path)
    free = net.free()
    net.fabric.broken = True

    async def go() -> None:
        with pytest.raises(PlacementFailed, match="could not be built"):
            await net.hosts.attach(net.subnets, [net.group], "us-east-1a", [], KEY)
        assert net.enis() == [] and net.free() == free
        # an ENI a previous run's instance held, adopted and then not built, goes too
        a = net.subnets[0]
        stale = net.store.create_managed_interface(a, [net.group], KEY, SAGEMAKER_REQUESTER,
                                                   INSTANCE_ADDRESSES)  # fmt: skip
        net.hosts.find_stale()
        with pytest.raises(PlacementFailed, match=f"the network of {stale.eni_id} could not"):
            await net.hosts.attach(net.subnets, [net.group], "us-east-1a", [], KEY)
        assert net.enis() == [] and net.free() == free

    asyncio.run(go())


def test_an_eni_whose_build_is_cancelled_goes(tmp_path: Path) -> None:
    net = vpc(tmp_path)
    free = net.free()
    net.fabric.hang_at = 1

    async def go() -> None:
        attach = asyncio.create_task(
            net.hosts.attach(net.subnets, [net.group], "us-east-1b", [], KEY)
        )
        await asyncio.wait_for(net.fabric.hanging.wait(), 5)
        assert len(net.enis()) == 1
        attach.cancel()
        with pytest.raises(asyncio.CancelledError):
            await attach
        assert net.enis() == [] and net.free() == free

    asyncio.run(go())


def stale_pair(net: Vpc) -> tuple[str, str, str]:
    """A previous run's ENIs: two described alike (in subnets a and b), and another."""
    a, b = net.subnets
    made = [
        net.store.create_managed_interface(s, [net.group], key, SAGEMAKER_REQUESTER,
                                           INSTANCE_ADDRESSES).eni_id  # fmt: skip
        for s, key in ((a, KEY), (b, KEY), (a, description("endpoint ep", "AllTraffic-2")))
    ]
    net.hosts.find_stale()
    return made[0], made[1], made[2]


def test_of_stale_enis_sharing_a_description_one_is_adopted_the_rest_released(
    tmp_path: Path,
) -> None:
    net = vpc(tmp_path)
    old, new, _ = stale_pair(net)

    async def go() -> None:
        adopted = await net.hosts.attach(net.subnets, [net.group], "us-east-1a", [], KEY)
        assert adopted.eni_id in (old, new)
        await net.hosts.release_unclaimed()
        assert [e.eni_id for e in net.enis()] == [adopted.eni_id]

    asyncio.run(go())


def test_stale_enis_sharing_a_description_are_adopted_by_as_many(tmp_path: Path) -> None:
    net = vpc(tmp_path)
    old, new, other = stale_pair(net)

    async def go() -> None:
        # the endpoint's restored fleet and its resumed update's
        nics = [await net.hosts.attach(net.subnets, [net.group], "us-east-1a", [], KEY)
                for _ in range(2)]  # fmt: skip
        assert {n.eni_id for n in nics} == {old, new}
        assert {e.eni_id for e in net.enis()} == {old, new, other}  # none made
        # one that no longer fits (its subnet left the VpcConfig) is not adopted
        net.hosts.find_stale()
        nic = await net.hosts.attach([net.subnets[1]], [net.group], "us-east-1b", [], KEY)
        assert nic.eni_id == new

    asyncio.run(go())
