"""Which Availability Zone a new instance runs in: one decision, made by a `Placement`
the server wiring hands the runtime.

SageMaker spreads an endpoint's instances over AZs for availability. The default
placement spreads every variant over the region's AZs as Cove's network catalog names
them (what DescribeAvailabilityZones answers); a model with a VpcConfig would spread
over the AZs of its subnets instead, by plugging in a placement that names those.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from cove.network.zones import region_zones
from cove.runtime.contract import VariantSpec


class Placement(Protocol):
    def zone(self, spec: VariantSpec, placed: Sequence[str]) -> str:
        """The AZ name of a new instance of `spec`'s variant, where `placed` are the AZs
        of the variant's other instances (running, or starting beside this one)."""
        ...


def spread(zones: Sequence[str], placed: Iterable[str]) -> str:
    """Round robin that stays even: the first of `zones` holding the fewest instances
    so far (a, b, c, a, ... from none; after a scale-in, the zone that lost one)."""
    counts = dict.fromkeys(zones, 0)
    for zone in placed:
        if zone in counts:
            counts[zone] += 1
    return min(zones, key=counts.__getitem__)


class RegionZones:
    """The default placement: every variant over the region's AZs, in catalog order."""

    def __init__(self, region: str) -> None:
        self.zones = tuple(z.name for z in region_zones(region))

    def zone(self, spec: VariantSpec, placed: Sequence[str]) -> str:
        return spread(self.zones, placed)
