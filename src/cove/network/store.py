"""The account's network resources in one region, persisted: VPCs and subnets here, the
other kinds in their own modules (security, routing, endpoints, interfaces), joined into
one NetworkStore. The fabric reads `snapshot(vpc_id)` and subscribes to changes.

A VPC's CIDR is /16 to /28 and a subnet's is inside it, /16 to /28, overlapping no other
subnet (Amazon VPC User Guide, "VPC CIDR blocks", "Subnet CIDR blocks"); a new VPC gets
its main route table and its default security group, and enableDnsSupport on,
enableDnsHostnames off ("DNS attributes for your VPC")."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from sqlalchemy import Engine, delete, func, insert, select, update

from cove.network import tables as t
from cove.network.endpoints import EndpointOps
from cove.network.failures import Failure, NetworkError
from cove.network.ids import Prefix, new_id
from cove.network.resources import Subnet, Tag, Vpc, VpcSnapshot, Zone
from cove.network.security import GroupOps
from cove.network.zones import find_zone, region_zones
from cove.storage.db import metadata

MIN_PREFIX, MAX_PREFIX = 16, 28

# resource id prefix -> (its table's id column, the failure when it does not exist)
_TAGGABLE = {
    "vpc": (t.vpcs_table.c.vpc_id, Failure.VPC_NOT_FOUND),
    "subnet": (t.subnets_table.c.subnet_id, Failure.SUBNET_NOT_FOUND),
    "sg": (t.groups_table.c.group_id, Failure.GROUP_NOT_FOUND),
    "sgr": (t.rules_table.c.rule_id, Failure.RULE_NOT_FOUND),
    "rtb": (t.route_tables_table.c.route_table_id, Failure.ROUTE_TABLE_NOT_FOUND),
    "igw": (t.gateways_table.c.gateway_id, Failure.GATEWAY_NOT_FOUND),
    "vpce": (t.endpoints_table.c.endpoint_id, Failure.ENDPOINT_NOT_FOUND),
    "eni": (t.interfaces_table.c.eni_id, Failure.INTERFACE_NOT_FOUND),
}


class NetworkStore(EndpointOps, GroupOps):
    def __init__(self, engine: Engine, region: str, account_id: str) -> None:
        super().__init__(engine, region, account_id)
        metadata.create_all(engine, tables=t.TABLES)

    @property
    def zones(self) -> tuple[Zone, ...]:
        return region_zones(self.region)

    # VPCs

    def vpc_ids(self) -> list[str]:
        with self._read() as reader:
            return [v.vpc_id for v in reader.vpcs()]

    def vpcs(self) -> list[Vpc]:
        with self._read() as reader:
            return reader.vpcs()

    def vpc(self, vpc_id: str) -> Vpc:
        with self._read() as reader:
            found = reader.vpcs(t.vpcs_table.c.vpc_id == vpc_id)
        if not found:
            raise NetworkError(Failure.VPC_NOT_FOUND, id=vpc_id)
        return found[0]

    def create_vpc(self, cidr: str, tags: list[Tag] | None = None) -> Vpc:
        network = _network(cidr, Failure.VPC_RANGE)
        vpc_id = new_id(Prefix.VPC)
        with self._write() as txn:
            txn.conn.execute(
                insert(t.vpcs_table).values(
                    vpc_id=vpc_id, cidr=str(network),
                    cidr_association_id=new_id(Prefix.CIDR_ASSOCIATION),
                    dns_support=True, dns_hostnames=False, created=self._now(),
                )
            )  # fmt: skip
            self._add_route_table(txn, vpc_id, str(network), main=True)
            self._add_default_group(txn, vpc_id)
            self._set_tags(txn.conn, vpc_id, tags or [])
        return self.vpc(vpc_id)

    def set_vpc_attributes(
        self, vpc_id: str, dns_support: bool | None = None, dns_hostnames: bool | None = None
    ) -> None:
        values = {
            k: v
            for k, v in (("dns_support", dns_support), ("dns_hostnames", dns_hostnames))
            if v is not None
        }
        with self._write() as txn:
            self._one(txn.conn, t.vpcs_table, t.vpcs_table.c.vpc_id, vpc_id,
                      Failure.VPC_NOT_FOUND)  # fmt: skip
            if values:
                txn.conn.execute(
                    update(t.vpcs_table).where(t.vpcs_table.c.vpc_id == vpc_id).values(**values)
                )
            txn.touch(vpc_id)

    def delete_vpc(self, vpc_id: str) -> None:
        """Refused while anything the user made is in it (subnets, groups other than the
        default, an attached gateway, endpoints, route tables other than the main one)."""
        with self._write() as txn:
            self._one(txn.conn, t.vpcs_table, t.vpcs_table.c.vpc_id, vpc_id,
                      Failure.VPC_NOT_FOUND)  # fmt: skip
            dependents = (
                (t.subnets_table, t.subnets_table.c.vpc_id == vpc_id),
                (t.groups_table, (t.groups_table.c.vpc_id == vpc_id)
                 & (t.groups_table.c.name != "default")),
                (t.gateways_table, t.gateways_table.c.vpc_id == vpc_id),
                (t.endpoints_table, t.endpoints_table.c.vpc_id == vpc_id),
                (t.route_tables_table, (t.route_tables_table.c.vpc_id == vpc_id)
                 & (t.route_tables_table.c.main.is_(False))),
            )  # fmt: skip
            for table, where in dependents:
                count = txn.conn.execute(select(func.count()).select_from(table).where(where))
                if count.scalar_one():
                    raise NetworkError(Failure.VPC_IN_USE, id=vpc_id)
            for group in txn.conn.execute(
                select(t.groups_table.c.group_id).where(t.groups_table.c.vpc_id == vpc_id)
            ).scalars():
                self._remove_group(txn, group, vpc_id)
            for table_id in txn.conn.execute(
                select(t.route_tables_table.c.route_table_id).where(
                    t.route_tables_table.c.vpc_id == vpc_id
                )
            ).scalars():
                self._remove_route_table(txn, table_id, vpc_id)
            txn.conn.execute(delete(t.vpcs_table).where(t.vpcs_table.c.vpc_id == vpc_id))
            self._drop_tags(txn.conn, vpc_id)
            txn.touch(vpc_id)

    # subnets

    def subnets(self) -> list[Subnet]:
        with self._read() as reader:
            return reader.subnets()

    def subnet(self, subnet_id: str) -> Subnet:
        with self._read() as reader:
            found = reader.subnets(t.subnets_table.c.subnet_id == subnet_id)
        if not found:
            raise NetworkError(Failure.SUBNET_NOT_FOUND, id=subnet_id)
        return found[0]

    def create_subnet(
        self,
        vpc_id: str,
        cidr: str,
        zone_name: str | None = None,
        zone_id: str | None = None,
        tags: list[Tag] | None = None,
    ) -> Subnet:
        zone = self._zone(zone_name, zone_id)
        network = _network(cidr, Failure.SUBNET_RANGE)
        subnet_id = new_id(Prefix.SUBNET)
        with self._write() as txn:
            vpc = self._one(txn.conn, t.vpcs_table, t.vpcs_table.c.vpc_id, vpc_id,
                            Failure.VPC_NOT_FOUND)  # fmt: skip
            if not network.subnet_of(ipaddress.IPv4Network(vpc.cidr)):
                raise NetworkError(Failure.SUBNET_RANGE, cidr=cidr)
            for other in txn.conn.execute(
                select(t.subnets_table.c.cidr).where(t.subnets_table.c.vpc_id == vpc_id)
            ).scalars():
                if network.overlaps(ipaddress.IPv4Network(other)):
                    raise NetworkError(Failure.SUBNET_CONFLICT, cidr=cidr)
            txn.conn.execute(
                insert(t.subnets_table).values(
                    subnet_id=subnet_id, vpc_id=vpc_id, cidr=str(network), zone_name=zone.name,
                    created=self._now(),
                )
            )  # fmt: skip
            self._set_tags(txn.conn, subnet_id, tags or [])
            txn.touch(vpc_id)
        return self.subnet(subnet_id)

    def delete_subnet(self, subnet_id: str) -> None:
        with self._write() as txn:
            row = self._one(txn.conn, t.subnets_table, t.subnets_table.c.subnet_id, subnet_id,
                            Failure.SUBNET_NOT_FOUND)  # fmt: skip
            in_use = txn.conn.execute(
                select(func.count()).select_from(t.interfaces_table)
                .where(t.interfaces_table.c.subnet_id == subnet_id)
            ).scalar_one()  # fmt: skip
            if in_use:
                raise NetworkError(Failure.SUBNET_IN_USE, id=subnet_id)
            txn.conn.execute(
                delete(t.associations_table).where(t.associations_table.c.subnet_id == subnet_id)
            )
            txn.conn.execute(
                delete(t.subnets_table).where(t.subnets_table.c.subnet_id == subnet_id)
            )
            self._drop_tags(txn.conn, subnet_id)
            txn.touch(row.vpc_id)

    def _zone(self, zone_name: str | None, zone_id: str | None) -> Zone:
        names = ", ".join(z.name for z in self.zones)
        if zone_name is not None:
            zone = find_zone(self.region, name=zone_name)
            if zone is None:
                raise NetworkError(Failure.ZONE_UNKNOWN, zone=zone_name, zones=names)
            return zone
        if zone_id is not None:
            zone = find_zone(self.region, zone_id=zone_id)
            if zone is None:
                raise NetworkError(Failure.ZONE_ID_UNKNOWN, zone=zone_id, zones=names)
            return zone
        return self.zones[0]  # EC2 picks one; Cove always the first

    # tags

    def tags(self, resource_ids: Iterable[str] | None = None) -> dict[str, tuple[Tag, ...]]:
        """Every resource's tags, or those of `resource_ids` (a resource without tags, or
        that does not exist, is not in it)."""
        from cove.network.reading import tags_by_id

        with self._read() as reader:
            return tags_by_id(reader.conn, resource_ids)

    def create_tags(self, resource_ids: list[str], tags: list[Tag]) -> None:
        with self._write() as txn:
            for resource_id in resource_ids:
                self._check_taggable(txn.conn, resource_id)
            for resource_id in resource_ids:
                self._set_tags(txn.conn, resource_id, tags)

    def delete_tags(self, resource_ids: list[str], tags: list[tuple[str, str | None]]) -> None:
        """Each (key, value) removes the key, only when its value matches if one is given;
        no tags at all removes every tag of the resources."""
        with self._write() as txn:
            for resource_id in resource_ids:
                self._check_taggable(txn.conn, resource_id)
                table = t.tags_table
                if not tags:
                    self._drop_tags(txn.conn, resource_id)
                for key, value in tags:
                    where = (table.c.resource_id == resource_id) & (table.c.key == key)
                    if value is not None:
                        where = where & (table.c.value == value)
                    txn.conn.execute(delete(table).where(where))

    def _check_taggable(self, conn, resource_id: str) -> None:  # type: ignore[no-untyped-def]
        prefix = resource_id.rsplit("-", 1)[0] if "-" in resource_id else ""
        known = _TAGGABLE.get(prefix)
        if known is None:
            raise NetworkError(Failure.TAG_RESOURCE_NOT_FOUND, id=resource_id)
        column, failure = known
        self._one(conn, column.table, column, resource_id, failure)

    # the fabric's and the policy engine's view

    def snapshot_or_none(self, vpc_id: str) -> VpcSnapshot | None:
        """The VPC's snapshot; None once it is deleted."""
        try:
            return self.snapshot(vpc_id)
        except NetworkError:
            return None

    def policy_of(self, endpoint_id: str) -> str | None:
        """An endpoint's policy document (for the policy engine); None when it is gone."""
        try:
            return self.endpoint(endpoint_id).policy_document
        except NetworkError:
            return None

    def snapshot(self, vpc_id: str) -> VpcSnapshot:
        with self._read() as reader:
            vpcs = reader.vpcs(t.vpcs_table.c.vpc_id == vpc_id)
            if not vpcs:
                raise NetworkError(Failure.VPC_NOT_FOUND, id=vpc_id)
            return VpcSnapshot(
                vpcs[0],
                tuple(reader.subnets(t.subnets_table.c.vpc_id == vpc_id)),
                tuple(reader.groups(t.groups_table.c.vpc_id == vpc_id)),
                tuple(reader.route_tables(t.route_tables_table.c.vpc_id == vpc_id)),
                tuple(reader.gateways(t.gateways_table.c.vpc_id == vpc_id)),
                tuple(reader.endpoints(t.endpoints_table.c.vpc_id == vpc_id)),
                tuple(reader.interfaces(t.interfaces_table.c.vpc_id == vpc_id)),
            )


def _network(cidr: str, failure: Failure) -> ipaddress.IPv4Network:
    """The block in its canonical form: EC2 clears host bits ("if you specify
    100.68.0.18/18, we modify it to 100.68.0.0/18", CreateVpc and CreateSubnet CidrBlock,
    EC2 API reference)."""
    try:
        network = ipaddress.IPv4Network(cidr, strict=False)
    except ValueError:
        raise NetworkError(failure, cidr=cidr) from None
    if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
        raise NetworkError(failure, cidr=cidr)
    return network
