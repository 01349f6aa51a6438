"""VPC endpoints. An interface endpoint gets one requester-managed ENI per subnet (one
subnet per AZ), the VPC's default group when none is named, and private DNS on by default
(which needs enableDnsSupport and enableDnsHostnames); it is `pending` until the fabric
reports its listeners answer. A gateway endpoint adds a route to the service's prefix list
in each of its route tables and is available at once (AWS PrivateLink Guide, "Interface
VPC endpoints", "Gateway endpoints")."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update

from cove.network import tables as t
from cove.network.base import Txn
from cove.network.failures import Failure, NetworkError
from cove.network.ids import Prefix, dns_suffix, new_id
from cove.network.interfaces import InterfaceOps
from cove.network.resources import EndpointState, EndpointType, InterfaceType, Tag, VpcEndpoint
from cove.network.routing import RoutingOps

# The policy an endpoint has when none is given: full access.
FULL_ACCESS = json.dumps(
    {"Statement": [{"Action": "*", "Effect": "Allow", "Principal": "*", "Resource": "*"}]}
)


@dataclass
class EndpointRequest:
    vpc_id: str
    service_name: str
    endpoint_type: EndpointType = EndpointType.GATEWAY  # EC2's default VpcEndpointType
    subnet_ids: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)
    route_table_ids: list[str] = field(default_factory=list)
    policy: str | None = None
    private_dns: bool | None = None
    tags: list[Tag] = field(default_factory=list)


@dataclass
class EndpointChange:
    add_subnets: list[str] = field(default_factory=list)
    remove_subnets: list[str] = field(default_factory=list)
    add_groups: list[str] = field(default_factory=list)
    remove_groups: list[str] = field(default_factory=list)
    add_route_tables: list[str] = field(default_factory=list)
    remove_route_tables: list[str] = field(default_factory=list)
    policy: str | None = None
    reset_policy: bool = False
    private_dns: bool | None = None


class EndpointOps(InterfaceOps, RoutingOps):
    def endpoints(self) -> list[VpcEndpoint]:
        with self._read() as reader:
            return reader.endpoints()

    def endpoint(self, endpoint_id: str) -> VpcEndpoint:
        with self._read() as reader:
            found = reader.endpoints(t.endpoints_table.c.endpoint_id == endpoint_id)
        if not found:
            raise NetworkError(Failure.ENDPOINT_NOT_FOUND, id=endpoint_id)
        return found[0]

    def create_endpoint(self, req: EndpointRequest) -> VpcEndpoint:
        service = self.catalog.get(req.service_name)
        if service is None:
            raise NetworkError(Failure.SERVICE_NOT_FOUND, name=req.service_name)
        if req.endpoint_type not in service.types:
            types = ", ".join(str(x) for x in service.types)
            raise NetworkError(
                Failure.INVALID_PARAMETER,
                message=f"Endpoint type ({req.endpoint_type}) does not match available "
                f"service types ([{types}]).",
            )
        interface = req.endpoint_type is EndpointType.INTERFACE
        if not interface and req.subnet_ids:
            raise NetworkError(
                Failure.INVALID_PARAMETER,
                message="Subnet IDs are only supported for Interface and GatewayLoadBalancer "
                "type VPC Endpoints.",
            )
        if interface and req.route_table_ids:
            raise NetworkError(
                Failure.INVALID_PARAMETER,
                message="Route table IDs are only supported for Gateway type VPC Endpoint.",
            )
        private_dns = interface if req.private_dns is None else req.private_dns and interface
        endpoint_id = new_id(Prefix.ENDPOINT)
        with self._write() as txn:
            vpc = self._one(txn.conn, t.vpcs_table, t.vpcs_table.c.vpc_id, req.vpc_id,
                            Failure.VPC_NOT_FOUND)  # fmt: skip
            if private_dns:
                self._check_private_dns(txn, vpc, req.service_name, None)
            state = EndpointState.PENDING if interface else EndpointState.AVAILABLE
            txn.conn.execute(
                insert(t.endpoints_table).values(
                    endpoint_id=endpoint_id, vpc_id=req.vpc_id, service_name=req.service_name,
                    endpoint_type=req.endpoint_type.value, state=state.value,
                    policy=req.policy or FULL_ACCESS, private_dns=private_dns,
                    dns_suffix=dns_suffix(), created=self._now(),
                )
            )  # fmt: skip
            if interface:
                groups = self._endpoint_groups(txn, req.vpc_id, req.subnet_ids, req.group_ids)
                self._set_endpoint_groups(txn, endpoint_id, groups)
                self._add_endpoint_subnets(txn, endpoint_id, req.vpc_id, req.subnet_ids, groups)
            else:
                self._add_endpoint_tables(txn, endpoint_id, req.vpc_id, req.route_table_ids)
            self._set_tags(txn.conn, endpoint_id, req.tags)
            txn.touch(req.vpc_id)
            # as committed, before the fabric hears of it (and marks it available)
            (created,) = txn.reader.endpoints(t.endpoints_table.c.endpoint_id == endpoint_id)
        return created

    def modify_endpoint(self, endpoint_id: str, change: EndpointChange) -> None:
        with self._write() as txn:
            row = self._endpoint_row(txn, endpoint_id)
            interface = row.endpoint_type == EndpointType.INTERFACE.value
            (current,) = txn.reader.endpoints(t.endpoints_table.c.endpoint_id == endpoint_id)
            if interface:
                groups = [g for g in current.group_ids if g not in change.remove_groups]
                groups += [g for g in change.add_groups if g not in groups]
                subnets = [s for s in current.subnet_ids if s not in change.remove_subnets]
                checked = self._endpoint_groups(txn, row.vpc_id, subnets, groups)
                self._set_endpoint_groups(txn, endpoint_id, checked)
                for subnet_id in change.remove_subnets:
                    self._remove_endpoint_subnet(txn, endpoint_id, subnet_id, row.vpc_id)
                added = [s for s in change.add_subnets if s not in current.subnet_ids]
                self._add_endpoint_subnets(txn, endpoint_id, row.vpc_id, added, checked)
                for eni_id in self._endpoint_enis(txn, endpoint_id):
                    self._set_interface_groups(txn, eni_id, checked)
            else:
                for table_id in change.remove_route_tables:
                    self._remove_endpoint_table(txn, endpoint_id, table_id)
                added = [r for r in change.add_route_tables if r not in current.route_table_ids]
                self._add_endpoint_tables(txn, endpoint_id, row.vpc_id, added)
            values: dict[str, object] = {}
            if change.reset_policy:
                values["policy"] = FULL_ACCESS
            elif change.policy is not None:
                values["policy"] = change.policy
            if change.private_dns is not None and interface:
                if change.private_dns:
                    vpc = txn.conn.execute(
                        select(t.vpcs_table).where(t.vpcs_table.c.vpc_id == row.vpc_id)
                    ).one()
                    self._check_private_dns(txn, vpc, row.service_name, endpoint_id)
                values["private_dns"] = change.private_dns
            if values:
                txn.conn.execute(
                    update(t.endpoints_table)
                    .where(t.endpoints_table.c.endpoint_id == endpoint_id)
                    .values(**values)
                )
            txn.touch(row.vpc_id)

    def delete_endpoint(self, endpoint_id: str) -> None:
        with self._write() as txn:
            row = self._endpoint_row(txn, endpoint_id)
            for subnet_id in list(self._endpoint_subnet_ids(txn, endpoint_id)):
                self._remove_endpoint_subnet(txn, endpoint_id, subnet_id, row.vpc_id)
            tables = t.endpoint_route_tables_table
            for table_id in txn.conn.execute(
                select(tables.c.route_table_id).where(tables.c.endpoint_id == endpoint_id)
            ).scalars():
                self._remove_endpoint_table(txn, endpoint_id, table_id)
            txn.conn.execute(
                delete(t.endpoint_groups_table).where(
                    t.endpoint_groups_table.c.endpoint_id == endpoint_id
                )
            )
            txn.conn.execute(
                delete(t.endpoints_table).where(t.endpoints_table.c.endpoint_id == endpoint_id)
            )
            self._drop_tags(txn.conn, endpoint_id)
            txn.touch(row.vpc_id)

    def set_endpoint_state(self, endpoint_id: str, state: EndpointState) -> None:
        """The fabric's report: `available` once an interface endpoint's listeners answer."""
        with self._write() as txn:
            row = self._endpoint_row(txn, endpoint_id)
            txn.conn.execute(
                update(t.endpoints_table)
                .where(t.endpoints_table.c.endpoint_id == endpoint_id)
                .values(state=state.value)
            )
            del row  # a state change alters nothing the fabric builds: no notice

    # parts

    def _check_private_dns(
        self, txn: Txn, vpc: Any, service_name: str, endpoint_id: str | None
    ) -> None:
        """Private DNS needs both DNS attributes, and one endpoint per service and VPC may
        hold the service's names."""
        if not (vpc.dns_support and vpc.dns_hostnames):
            raise NetworkError(Failure.PRIVATE_DNS_ATTRIBUTES, vpc=vpc.vpc_id)
        table = t.endpoints_table
        other = txn.conn.execute(
            select(table.c.endpoint_id).where(
                table.c.vpc_id == vpc.vpc_id, table.c.service_name == service_name,
                table.c.private_dns.is_(True), table.c.endpoint_id != (endpoint_id or ""),
            )
        ).first()  # fmt: skip
        service = self.catalog.get(service_name)
        if other is not None and service is not None:
            name = service.private_dns_names[0]
            raise NetworkError(Failure.PRIVATE_DNS_CONFLICT, name=name, vpc=vpc.vpc_id)

    def _endpoint_row(self, txn: Txn, endpoint_id: str):  # type: ignore[no-untyped-def]
        return self._one(txn.conn, t.endpoints_table, t.endpoints_table.c.endpoint_id,
                         endpoint_id, Failure.ENDPOINT_NOT_FOUND)  # fmt: skip

    def _endpoint_groups(
        self, txn: Txn, vpc_id: str, subnet_ids: list[str], group_ids: list[str]
    ) -> list[str]:
        first_subnet = subnet_ids[0] if subnet_ids else ""
        return self._groups_for(txn, vpc_id, first_subnet, group_ids)

    @staticmethod
    def _set_endpoint_groups(txn: Txn, endpoint_id: str, group_ids: list[str]) -> None:
        table = t.endpoint_groups_table
        txn.conn.execute(delete(table).where(table.c.endpoint_id == endpoint_id))
        for group_id in group_ids:
            txn.conn.execute(insert(table).values(endpoint_id=endpoint_id, group_id=group_id))

    @staticmethod
    def _endpoint_subnet_ids(txn: Txn, endpoint_id: str) -> list[str]:
        table = t.endpoint_subnets_table
        return list(
            txn.conn.execute(
                select(table.c.subnet_id).where(table.c.endpoint_id == endpoint_id)
            ).scalars()
        )

    @staticmethod
    def _endpoint_enis(txn: Txn, endpoint_id: str) -> list[str]:
        table = t.endpoint_subnets_table
        return list(
            txn.conn.execute(
                select(table.c.eni_id).where(table.c.endpoint_id == endpoint_id)
            ).scalars()
        )

    def _add_endpoint_subnets(
        self, txn: Txn, endpoint_id: str, vpc_id: str, subnet_ids: list[str], groups: list[str]
    ) -> None:
        zones = {}
        for subnet_id in self._endpoint_subnet_ids(txn, endpoint_id):
            zones[self._subnet_row(txn, subnet_id).zone_name] = subnet_id
        for subnet_id in dict.fromkeys(subnet_ids):
            subnet = self._subnet_row(txn, subnet_id)
            if subnet.vpc_id != vpc_id:
                raise NetworkError(Failure.DIFFERENT_NETWORKS, first=subnet_id, second=vpc_id)
            if subnet.zone_name in zones:
                raise NetworkError(Failure.DUPLICATE_ZONE, subnet=subnet_id)
            zones[subnet.zone_name] = subnet_id
            eni_id = self._add_interface(
                txn, subnet_id, groups, InterfaceType.VPC_ENDPOINT,
                f"VPC Endpoint Interface {endpoint_id}", True, endpoint_id,
            )  # fmt: skip
            txn.conn.execute(
                insert(t.endpoint_subnets_table).values(
                    endpoint_id=endpoint_id, subnet_id=subnet_id, eni_id=eni_id
                )
            )

    def _remove_endpoint_subnet(
        self, txn: Txn, endpoint_id: str, subnet_id: str, vpc_id: str
    ) -> None:
        table = t.endpoint_subnets_table
        row = txn.conn.execute(
            select(table).where(table.c.endpoint_id == endpoint_id, table.c.subnet_id == subnet_id)
        ).first()
        if row is None:
            return  # EC2 ignores a subnet the endpoint does not have
        txn.conn.execute(
            delete(table).where(table.c.endpoint_id == endpoint_id, table.c.subnet_id == subnet_id)
        )
        self._remove_interface(txn, row.eni_id, vpc_id)

    def _subnet_row(self, txn: Txn, subnet_id: str):  # type: ignore[no-untyped-def]
        return self._one(txn.conn, t.subnets_table, t.subnets_table.c.subnet_id, subnet_id,
                         Failure.SUBNET_NOT_FOUND)  # fmt: skip

    def _add_endpoint_tables(
        self, txn: Txn, endpoint_id: str, vpc_id: str, table_ids: list[str]
    ) -> None:
        service_name = self._endpoint_row(txn, endpoint_id).service_name
        service = self.catalog.get(service_name)
        prefix_list = service.prefix_list() if service is not None else None
        assert prefix_list is not None  # a gateway service has one
        for table_id in dict.fromkeys(table_ids):
            table = self._table_row(txn, table_id)
            if table.vpc_id != vpc_id:
                raise NetworkError(Failure.DIFFERENT_NETWORKS, first=table_id, second=vpc_id)
            self._add_route(txn, table_id, prefix_list.prefix_list_id, endpoint_id, "CreateRoute")
            txn.conn.execute(
                insert(t.endpoint_route_tables_table).values(
                    endpoint_id=endpoint_id, route_table_id=table_id
                )
            )

    def _remove_endpoint_table(self, txn: Txn, endpoint_id: str, table_id: str) -> None:
        table = t.endpoint_route_tables_table
        txn.conn.execute(
            delete(table).where(table.c.endpoint_id == endpoint_id,
                                table.c.route_table_id == table_id)
        )  # fmt: skip
        txn.conn.execute(
            delete(t.routes_table).where(
                t.routes_table.c.route_table_id == table_id, t.routes_table.c.target == endpoint_id
            )
        )
