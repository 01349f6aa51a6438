"""The region's Availability Zones: names (`us-east-1a`) and zone ids (`use1-az1`).

AWS maps names to zone ids per account in the regions opened before November 2012 and
uniformly after (AWS Regions and Availability Zones, "AZ IDs":
https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html). Cove is
one account, so a fixed mapping is faithful: for us-east-1 the six zones of one real
account as `describe-availability-zones` lists them (use1-az1..az6; the zone ids AWS
documents for the region, e.g. EFS User Guide "Supported Availability Zones for One Zone
file systems"), for other known regions their documented zone ids in order, and for any
other region three zones, `<region>a..c` -> `<prefix>-az1..3`.
"""

from __future__ import annotations

from cove.network.resources import Zone

# region -> zone ids in the order of the names a, b, c, ...
_KNOWN: dict[str, tuple[str, ...]] = {
    "us-east-1": ("use1-az6", "use1-az1", "use1-az2", "use1-az4", "use1-az3", "use1-az5"),
    "us-east-2": ("use2-az1", "use2-az2", "use2-az3"),
    "us-west-1": ("usw1-az1", "usw1-az3"),
    "us-west-2": ("usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"),
}
# us-west-1 names its two zones a and c (the b of older accounts was retired)
_LETTERS: dict[str, str] = {"us-west-1": "ac"}
_DIRECTIONS = {
    "east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}  # fmt: skip


def zone_id_prefix(region: str) -> str:
    """`eu-central-1` -> `euc1`, `ap-southeast-2` -> `apse2`, as AWS forms zone ids."""
    parts = region.split("-")
    if len(parts) != 3:
        return region.replace("-", "")
    area, direction, number = parts
    return f"{area}{_DIRECTIONS.get(direction, direction[:1])}{number}"


def region_zones(region: str) -> tuple[Zone, ...]:
    ids = _KNOWN.get(region) or tuple(f"{zone_id_prefix(region)}-az{n}" for n in (1, 2, 3))
    letters = _LETTERS.get(region, "abcdefghij")
    return tuple(
        Zone(f"{region}{letter}", zone_id) for letter, zone_id in zip(letters, ids, strict=False)
    )


def find_zone(region: str, name: str | None = None, zone_id: str | None = None) -> Zone | None:
    for zone in region_zones(region):
        if (name is None or zone.name == name) and (zone_id is None or zone.zone_id == zone_id):
            return zone
    return None
