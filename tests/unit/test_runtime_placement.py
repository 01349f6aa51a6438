"""Placement: each new instance's AZ. SageMaker spreads an endpoint's instances over
AZs; Cove's default spreads them over the region's AZs as DescribeAvailabilityZones
names them (`cove.network.zones`)."""

from __future__ import annotations

from cove.network.zones import region_zones
from cove.runtime.contract import VariantSpec
from cove.runtime.placement import RegionZones, spread

SPEC = VariantSpec("AllTraffic", "m", "sklearn", None, instance_count=8)


def place(placement: RegionZones, count: int, placed: list[str] | None = None) -> list[str]:
    placed = list(placed or [])
    for _ in range(count):
        placed.append(placement.zone(SPEC, placed))
    return placed


def test_instances_go_round_robin_over_the_regions_zones() -> None:
    zones = [z.name for z in region_zones("us-east-1")]
    assert zones[:3] == ["us-east-1a", "us-east-1b", "us-east-1c"] and len(zones) == 6
    assert place(RegionZones("us-east-1"), 8) == [*zones, "us-east-1a", "us-east-1b"]
    # us-west-1's two zones are a and c
    assert place(RegionZones("us-west-1"), 3) == ["us-west-1a", "us-west-1c", "us-west-1a"]
    assert place(RegionZones("eu-west-3"), 4) == [
        "eu-west-3a", "eu-west-3b", "eu-west-3c", "eu-west-3a",
    ]  # fmt: skip


def test_a_new_instance_goes_where_the_spread_is_thinnest() -> None:
    # after a scale-in took AZ a's instance, the next one replaces it there
    assert spread(("a", "b", "c"), ["b", "c"]) == "a"
    assert spread(("a", "b", "c"), ["a", "a", "b", "c"]) == "b"
    # instances in zones the placement no longer names do not count
    assert spread(("a", "b"), ["z", "z", "b"]) == "a"
