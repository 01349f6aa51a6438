"""The Availability Zone of a caller inside a VPC: the zone of the subnet that holds its
address. Asked for requests on a VPC's public edge, whose listener knows the VPC but not
the subnet; answers are kept until the store changes that VPC."""

from __future__ import annotations

import ipaddress

from cove.network.store import NetworkStore


class CallerZones:
    def __init__(self, store: NetworkStore) -> None:
        self.store = store
        self._known: dict[tuple[str, str], str | None] = {}  # (vpc, address) -> AZ name
        store.subscribe(self._changed)

    def zone(self, vpc_id: str, address: str) -> str | None:
        key = (vpc_id, address)
        if key not in self._known:
            self._known[key] = self._look_up(vpc_id, address)
        return self._known[key]

    def _look_up(self, vpc_id: str, address: str) -> str | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        for subnet in self.store.subnets():
            if subnet.vpc_id == vpc_id and ip in ipaddress.ip_network(subnet.cidr):
                return subnet.zone.name
        return None

    def _changed(self, vpc_id: str) -> None:
        self._known = {k: v for k, v in self._known.items() if k[0] != vpc_id}
