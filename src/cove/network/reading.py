"""Rows to records: every network resource read back as the typed records of
`resources.py`, in one connection (so a snapshot is consistent)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, select, true

from cove.network import tables as t
from cove.network.addresses import available
from cove.network.endpoint_services import VPCE_HOSTED_ZONE, Catalog
from cove.network.resources import (
    Association,
    DnsEntry,
    EndpointState,
    EndpointType,
    InterfaceType,
    InternetGateway,
    NetworkInterface,
    Route,
    RouteTable,
    Rule,
    SecurityGroup,
    Subnet,
    Tag,
    Vpc,
    VpcEndpoint,
    Zone,
)
from cove.network.zones import find_zone


def _rows(conn: Connection, table: Table, where: ColumnElement[bool] | None, *order) -> list:
    query = select(table).where(where if where is not None else true())
    return list(conn.execute(query.order_by(*order)))


def tags_by_id(conn: Connection, ids: Iterable[str] | None = None) -> dict[str, tuple[Tag, ...]]:
    query = select(t.tags_table).order_by(t.tags_table.c.key)
    if ids is not None:
        query = query.where(t.tags_table.c.resource_id.in_(list(ids)))
    found: dict[str, list[Tag]] = defaultdict(list)
    for row in conn.execute(query):
        found[row.resource_id].append(Tag(row.key, row.value))
    return {k: tuple(v) for k, v in found.items()}


class Reader:
    """Loads records; `region` resolves zone names, `catalog` endpoint DNS names."""

    def __init__(self, conn: Connection, region: str, catalog: Catalog) -> None:
        self.conn = conn
        self.region = region
        self.catalog = catalog
        self._tags: dict[str, tuple[Tag, ...]] | None = None

    def tags(self, resource_id: str) -> tuple[Tag, ...]:
        if self._tags is None:
            self._tags = tags_by_id(self.conn)
        return self._tags.get(resource_id, ())

    def zone(self, name: str) -> Zone:
        return find_zone(self.region, name) or Zone(name, name)

    def vpcs(self, where: ColumnElement[bool] | None = None) -> list[Vpc]:
        return [
            Vpc(r.vpc_id, r.cidr, r.dns_support, r.dns_hostnames, self.tags(r.vpc_id),
                r.cidr_association_id)
            for r in _rows(self.conn, t.vpcs_table, where, t.vpcs_table.c.created)
        ]  # fmt: skip

    def subnets(self, where: ColumnElement[bool] | None = None) -> list[Subnet]:
        used: dict[str, int] = defaultdict(int)
        for row in self.conn.execute(select(t.addresses_table.c.subnet_id)):
            used[row.subnet_id] += 1
        return [
            Subnet(r.subnet_id, r.vpc_id, r.cidr, self.zone(r.zone_name), self.tags(r.subnet_id),
                   available(r.cidr, used[r.subnet_id]))
            for r in _rows(self.conn, t.subnets_table, where, t.subnets_table.c.created)
        ]  # fmt: skip

    def rules(self, where: ColumnElement[bool] | None = None) -> list[Rule]:
        return [
            Rule(r.rule_id, r.group_id, r.egress, r.protocol, r.from_port, r.to_port, r.cidr,
                 r.peer_group_id, r.description)
            for r in _rows(self.conn, t.rules_table, where, t.rules_table.c.position)
        ]  # fmt: skip

    def groups(self, where: ColumnElement[bool] | None = None) -> list[SecurityGroup]:
        rows = _rows(self.conn, t.groups_table, where, t.groups_table.c.created)
        by_group: dict[str, list[Rule]] = defaultdict(list)
        ids = [r.group_id for r in rows]
        for rule in self.rules(t.rules_table.c.group_id.in_(ids)):
            by_group[rule.group_id].append(rule)
        return [
            SecurityGroup(r.group_id, r.vpc_id, r.name, r.description,
                          tuple(by_group[r.group_id]), self.tags(r.group_id))
            for r in rows
        ]  # fmt: skip

    def route_tables(self, where: ColumnElement[bool] | None = None) -> list[RouteTable]:
        rows = _rows(self.conn, t.route_tables_table, where, t.route_tables_table.c.created)
        ids = [r.route_table_id for r in rows]
        routes: dict[str, list[Route]] = defaultdict(list)
        for r in _rows(self.conn, t.routes_table, t.routes_table.c.route_table_id.in_(ids),
                       t.routes_table.c.position):  # fmt: skip
            routes[r.route_table_id].append(Route(r.destination, r.target, r.origin))
        assocs: dict[str, list[Association]] = defaultdict(list)
        where_assoc = t.associations_table.c.route_table_id.in_(ids)
        for r in _rows(self.conn, t.associations_table, where_assoc,
                       t.associations_table.c.association_id):  # fmt: skip
            assocs[r.route_table_id].append(
                Association(r.association_id, r.route_table_id, r.subnet_id)
            )
        return [
            RouteTable(
                r.route_table_id, r.vpc_id, r.main, tuple(routes[r.route_table_id]),
                tuple(a.subnet_id for a in assocs[r.route_table_id]),
                self.tags(r.route_table_id), tuple(assocs[r.route_table_id]),
                r.main_association_id,
            )
            for r in rows
        ]  # fmt: skip

    def gateways(self, where: ColumnElement[bool] | None = None) -> list[InternetGateway]:
        return [
            InternetGateway(r.gateway_id, r.vpc_id, self.tags(r.gateway_id))
            for r in _rows(self.conn, t.gateways_table, where, t.gateways_table.c.created)
        ]

    def interfaces(self, where: ColumnElement[bool] | None = None) -> list[NetworkInterface]:
        rows = _rows(self.conn, t.interfaces_table, where, t.interfaces_table.c.created)
        ids = [r.eni_id for r in rows]
        ips: dict[str, list[str]] = defaultdict(list)
        for r in _rows(self.conn, t.addresses_table, t.addresses_table.c.eni_id.in_(ids),
                       t.addresses_table.c.position):  # fmt: skip
            ips[r.eni_id].append(r.ip)
        groups = _pairs(self.conn, t.interface_groups_table, "eni_id", "group_id", ids)
        zones = {
            r.subnet_id: r.zone_name
            for r in self.conn.execute(select(t.subnets_table.c.subnet_id,
                                              t.subnets_table.c.zone_name))
        }  # fmt: skip
        return [
            NetworkInterface(
                r.eni_id, r.subnet_id, r.vpc_id, self.zone(zones.get(r.subnet_id, "")),
                tuple(ips[r.eni_id]), tuple(groups[r.eni_id]), InterfaceType(r.interface_type),
                r.description, r.requester_managed, r.owner, r.mac, self.tags(r.eni_id),
            )
            for r in rows
        ]  # fmt: skip

    def endpoints(self, where: ColumnElement[bool] | None = None) -> list[VpcEndpoint]:
        rows = _rows(self.conn, t.endpoints_table, where, t.endpoints_table.c.created)
        ids = [r.endpoint_id for r in rows]
        subnet_rows = _rows(self.conn, t.endpoint_subnets_table,
                            t.endpoint_subnets_table.c.endpoint_id.in_(ids),
                            t.endpoint_subnets_table.c.subnet_id)  # fmt: skip
        subnets: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for r in subnet_rows:
            subnets[r.endpoint_id].append((r.subnet_id, r.eni_id))
        groups = _pairs(self.conn, t.endpoint_groups_table, "endpoint_id", "group_id", ids)
        tables = _pairs(
            self.conn, t.endpoint_route_tables_table, "endpoint_id", "route_table_id", ids
        )
        zones = {
            r.subnet_id: r.zone_name
            for r in self.conn.execute(select(t.subnets_table.c.subnet_id,
                                              t.subnets_table.c.zone_name))
        }  # fmt: skip
        found = []
        for r in rows:
            pairs = subnets[r.endpoint_id]
            endpoint_type = EndpointType(r.endpoint_type)
            entries = self._dns_entries(r, sorted({zones[s] for s, _ in pairs if s in zones}))
            found.append(
                VpcEndpoint(
                    r.endpoint_id, r.vpc_id, r.service_name, endpoint_type,
                    EndpointState(r.state), r.policy, r.private_dns,
                    tuple(s for s, _ in pairs), tuple(groups[r.endpoint_id]),
                    tuple(tables[r.endpoint_id]), tuple(e for _, e in pairs),
                    entries if endpoint_type is EndpointType.INTERFACE else (),
                    r.created, self.tags(r.endpoint_id), r.dns_suffix,
                )
            )  # fmt: skip
        return found

    def _dns_entries(self, row: Any, zone_names: list[str]) -> tuple[DnsEntry, ...]:
        """The regional name, then one per AZ, then the private DNS names (as AWS lists
        them in DnsEntries when private DNS is on)."""
        service = self.catalog.get(row.service_name)
        if service is None:
            return ()
        names = [service.regional_dns_name(row.endpoint_id, row.dns_suffix)]
        names += [service.zonal_dns_name(row.endpoint_id, row.dns_suffix, z) for z in zone_names]
        entries = [DnsEntry(n, VPCE_HOSTED_ZONE) for n in names]
        if row.private_dns:
            # the private hosted zone AWS makes for the VPC's private DNS names
            zone = private_zone_id(row.vpc_id, service.service_name)
            entries += [DnsEntry(n, zone) for n in service.private_dns_names]
        return tuple(entries)


def _pairs(
    conn: Connection, table: Table, key: str, value: str, ids: list[str]
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    query = select(table).where(table.c[key].in_(ids)).order_by(table.c[value])
    for row in conn.execute(query):
        found[row._mapping[key]].append(row._mapping[value])
    return found


def private_zone_id(vpc_id: str, service_name: str) -> str:
    """A stable, Route 53-shaped id for the private hosted zone of one service's private
    DNS names in one VPC (AWS reports the zone it manages; its id is opaque)."""
    digest = hashlib.sha256(f"{vpc_id}/{service_name}".encode()).hexdigest().upper()
    return "Z" + digest[:20]
