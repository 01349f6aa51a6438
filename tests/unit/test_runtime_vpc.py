"""Where a new instance of a model in a VPC goes: over the AZs of the model's subnets,
round robin (SageMaker spreads an endpoint's instances over AZs for availability: SageMaker
DG, "Give SageMaker AI hosted endpoints access to resources in your Amazon VPC",
https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html), its subnets within an AZ
taking turns; a model without one over the region's AZs."""

from __future__ import annotations

from pathlib import Path

from cove.network.sagemaker_hosts import in_turn
from cove.network.store import NetworkStore
from cove.runtime.contract import VariantSpec
from cove.runtime.placement import RegionZones
from cove.runtime.vpc import SubnetZones
from cove.storage.db import open_engine

SUBNETS = [("s-a1", "a"), ("s-b1", "b"), ("s-a2", "a"), ("s-c1", "c")]


def test_the_subnets_of_an_az_take_turns_and_the_next_is_the_fallback() -> None:
    assert in_turn(SUBNETS, "a", []) == ["s-a1", "s-a2"]  # tried in turn when one is full
    assert in_turn(SUBNETS, "a", ["a", "b"]) == ["s-a2", "s-a1"]
    assert in_turn(SUBNETS, "b", ["a", "b", "c"]) == ["s-b1"]
    assert in_turn(SUBNETS, "d", []) == ["s-a1", "s-b1", "s-a2", "s-c1"]  # no subnet there


def test_a_model_in_a_vpc_spreads_over_its_subnets_azs_in_their_order(tmp_path: Path) -> None:
    store = NetworkStore(open_engine(f"sqlite:///{tmp_path / 'db'}"), "us-east-1", "0" * 12)
    vpc = store.create_vpc("10.0.0.0/16").vpc_id
    c = store.create_subnet(vpc, "10.0.1.0/24", "us-east-1c").subnet_id
    a = store.create_subnet(vpc, "10.0.2.0/24", "us-east-1a").subnet_id
    a2 = store.create_subnet(vpc, "10.0.3.0/24", "us-east-1a").subnet_id
    placement = SubnetZones(store, RegionZones("us-east-1"))
    spec = VariantSpec("v", "m", "sklearn", None, subnets=(c, a, a2), security_group_ids=("g",))
    placed: list[str] = []
    for _ in range(5):
        placed.append(placement.zone(spec, placed))
    assert placed == ["us-east-1c", "us-east-1a", "us-east-1c", "us-east-1a", "us-east-1c"]
    assert placement.zone(spec, ["us-east-1c", "us-east-1c"]) == "us-east-1a"  # after a loss
    plain = VariantSpec("v", "m", "sklearn", None)
    assert [placement.zone(plain, ["us-east-1a"] * n) for n in (0, 1)] == [
        "us-east-1a", "us-east-1b",
    ]  # fmt: skip
