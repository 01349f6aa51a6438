"""Route tables, routes, subnet associations and internet gateways. A VPC's main table
has the local route for the VPC's CIDR (which cannot be removed) and serves every subnet
not explicitly associated with another table (Amazon VPC User Guide, "Route tables")."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update

from cove.network import tables as t
from cove.network.base import StoreBase, Txn
from cove.network.failures import Failure, NetworkError
from cove.network.ids import Prefix, new_id
from cove.network.resources import Association, InternetGateway, RouteTable, Tag

LOCAL = "local"


class RoutingOps(StoreBase):
    def route_tables(self) -> list[RouteTable]:
        with self._read() as reader:
            return reader.route_tables()

    def route_table(self, route_table_id: str) -> RouteTable:
        with self._read() as reader:
            found = reader.route_tables(t.route_tables_table.c.route_table_id == route_table_id)
        if not found:
            raise NetworkError(Failure.ROUTE_TABLE_NOT_FOUND, id=route_table_id)
        return found[0]

    def create_route_table(self, vpc_id: str, tags: list[Tag] | None = None) -> RouteTable:
        with self._write() as txn:
            vpc = self._one(txn.conn, t.vpcs_table, t.vpcs_table.c.vpc_id, vpc_id,
                            Failure.VPC_NOT_FOUND)  # fmt: skip
            table_id = self._add_route_table(txn, vpc_id, vpc.cidr, main=False)
            self._set_tags(txn.conn, table_id, tags or [])
        return self.route_table(table_id)

    def delete_route_table(self, route_table_id: str) -> None:
        with self._write() as txn:
            row = self._table_row(txn, route_table_id)
            associated = txn.conn.execute(
                select(func.count()).select_from(t.associations_table)
                .where(t.associations_table.c.route_table_id == route_table_id)
            ).scalar_one()  # fmt: skip
            if row.main or associated:
                raise NetworkError(Failure.ROUTE_TABLE_IN_USE, id=route_table_id)
            self._remove_route_table(txn, route_table_id, row.vpc_id)

    def associate(self, route_table_id: str, subnet_id: str) -> Association:
        with self._write() as txn:
            table = self._table_row(txn, route_table_id)
            subnet = self._one(txn.conn, t.subnets_table, t.subnets_table.c.subnet_id,
                               subnet_id, Failure.SUBNET_NOT_FOUND)  # fmt: skip
            if subnet.vpc_id != table.vpc_id:
                raise NetworkError(Failure.DIFFERENT_NETWORKS, first=route_table_id,
                                   second=subnet_id)  # fmt: skip
            taken = txn.conn.execute(
                select(t.associations_table).where(t.associations_table.c.subnet_id == subnet_id)
            ).first()
            if taken is not None:
                raise NetworkError(Failure.ASSOCIATION_EXISTS, table=route_table_id)
            association_id = new_id(Prefix.ASSOCIATION)
            txn.conn.execute(
                insert(t.associations_table).values(
                    association_id=association_id, route_table_id=route_table_id,
                    subnet_id=subnet_id,
                )
            )  # fmt: skip
            txn.touch(table.vpc_id)
        return Association(association_id, route_table_id, subnet_id)

    def association(self, association_id: str) -> Association | None:
        """A subnet's association by its id; None for an unknown one (or a main table's)."""
        table = t.associations_table
        with self._read() as reader:
            row = reader.conn.execute(
                select(table).where(table.c.association_id == association_id)
            ).first()
        return None if row is None else Association(row.association_id, row.route_table_id,
                                                    row.subnet_id)  # fmt: skip

    def disassociate(self, association_id: str) -> None:
        with self._write() as txn:
            main = txn.conn.execute(
                select(t.route_tables_table).where(
                    t.route_tables_table.c.main_association_id == association_id
                )
            ).first()
            if main is not None:
                raise NetworkError(Failure.MAIN_ASSOCIATION, id=association_id)
            row = self._one(txn.conn, t.associations_table,
                            t.associations_table.c.association_id, association_id,
                            Failure.ASSOCIATION_NOT_FOUND)  # fmt: skip
            txn.conn.execute(
                delete(t.associations_table).where(
                    t.associations_table.c.association_id == association_id
                )
            )
            txn.touch(self._table_row(txn, row.route_table_id).vpc_id)

    def create_route(self, route_table_id: str, destination: str, gateway_id: str) -> None:
        """A route to an internet gateway attached to the table's VPC."""
        with self._write() as txn:
            table = self._table_row(txn, route_table_id)
            gateway = self._one(txn.conn, t.gateways_table, t.gateways_table.c.gateway_id,
                                gateway_id, Failure.GATEWAY_NOT_FOUND)  # fmt: skip
            if gateway.vpc_id != table.vpc_id:
                raise NetworkError(Failure.ROUTE_TARGET_NETWORK, table=route_table_id,
                                   target=gateway_id)  # fmt: skip
            self._add_route(txn, route_table_id, destination, gateway_id, "CreateRoute")
            txn.touch(table.vpc_id)

    def delete_route(self, route_table_id: str, destination: str) -> None:
        with self._write() as txn:
            table = self._table_row(txn, route_table_id)
            row = txn.conn.execute(
                select(t.routes_table).where(
                    t.routes_table.c.route_table_id == route_table_id,
                    t.routes_table.c.destination == destination,
                )
            ).first()
            if row is None:
                raise NetworkError(Failure.ROUTE_NOT_FOUND, destination=destination,
                                   table=route_table_id)  # fmt: skip
            if row.target == LOCAL:
                raise NetworkError(Failure.ROUTE_LOCAL, destination=destination,
                                   table=route_table_id)  # fmt: skip
            self._remove_route(txn, route_table_id, destination)
            txn.touch(table.vpc_id)

    # internet gateways

    def gateways(self) -> list[InternetGateway]:
        with self._read() as reader:
            return reader.gateways()

    def gateway(self, gateway_id: str) -> InternetGateway:
        with self._read() as reader:
            found = reader.gateways(t.gateways_table.c.gateway_id == gateway_id)
        if not found:
            raise NetworkError(Failure.GATEWAY_NOT_FOUND, id=gateway_id)
        return found[0]

    def create_gateway(self, tags: list[Tag] | None = None) -> InternetGateway:
        gateway_id = new_id(Prefix.INTERNET_GATEWAY)
        with self._write() as txn:
            txn.conn.execute(
                insert(t.gateways_table).values(gateway_id=gateway_id, vpc_id=None,
                                                created=self._now())
            )  # fmt: skip
            self._set_tags(txn.conn, gateway_id, tags or [])
        return self.gateway(gateway_id)

    def attach_gateway(self, gateway_id: str, vpc_id: str) -> None:
        with self._write() as txn:
            row = self._gateway_row(txn, gateway_id)
            self._one(txn.conn, t.vpcs_table, t.vpcs_table.c.vpc_id, vpc_id,
                      Failure.VPC_NOT_FOUND)  # fmt: skip
            if row.vpc_id is not None:
                raise NetworkError(Failure.GATEWAY_ATTACHED, id=gateway_id, vpc=row.vpc_id)
            other = txn.conn.execute(
                select(t.gateways_table).where(t.gateways_table.c.vpc_id == vpc_id)
            ).first()
            if other is not None:
                raise NetworkError(Failure.VPC_HAS_GATEWAY, vpc=vpc_id)
            self._set_gateway_vpc(txn, gateway_id, vpc_id)
            txn.touch(vpc_id)

    def detach_gateway(self, gateway_id: str, vpc_id: str) -> None:
        with self._write() as txn:
            row = self._gateway_row(txn, gateway_id)
            self._one(txn.conn, t.vpcs_table, t.vpcs_table.c.vpc_id, vpc_id,
                      Failure.VPC_NOT_FOUND)  # fmt: skip
            if row.vpc_id != vpc_id:
                raise NetworkError(Failure.GATEWAY_NOT_ATTACHED, id=gateway_id, vpc=vpc_id)
            # EC2 keeps routes to a detached gateway as blackholes; Cove's fabric drops
            # what has no gateway behind it, so the routes stay and lead nowhere.
            self._set_gateway_vpc(txn, gateway_id, None)
            txn.touch(vpc_id)

    def delete_gateway(self, gateway_id: str) -> None:
        with self._write() as txn:
            row = self._gateway_row(txn, gateway_id)
            if row.vpc_id is not None:
                raise NetworkError(Failure.GATEWAY_IN_USE, id=gateway_id)
            txn.conn.execute(
                delete(t.gateways_table).where(t.gateways_table.c.gateway_id == gateway_id)
            )
            self._drop_tags(txn.conn, gateway_id)

    # shared

    def _table_row(self, txn: Txn, route_table_id: str):  # type: ignore[no-untyped-def]
        return self._one(txn.conn, t.route_tables_table, t.route_tables_table.c.route_table_id,
                         route_table_id, Failure.ROUTE_TABLE_NOT_FOUND)  # fmt: skip

    def _gateway_row(self, txn: Txn, gateway_id: str):  # type: ignore[no-untyped-def]
        return self._one(txn.conn, t.gateways_table, t.gateways_table.c.gateway_id,
                         gateway_id, Failure.GATEWAY_NOT_FOUND)  # fmt: skip

    @staticmethod
    def _set_gateway_vpc(txn: Txn, gateway_id: str, vpc_id: str | None) -> None:
        txn.conn.execute(
            update(t.gateways_table)
            .where(t.gateways_table.c.gateway_id == gateway_id)
            .values(vpc_id=vpc_id)
        )

    def _add_route_table(self, txn: Txn, vpc_id: str, cidr: str, main: bool) -> str:
        table_id = new_id(Prefix.ROUTE_TABLE)
        txn.conn.execute(
            insert(t.route_tables_table).values(
                route_table_id=table_id, vpc_id=vpc_id, main=main,
                main_association_id=new_id(Prefix.ASSOCIATION) if main else None,
                created=self._now(),
            )
        )  # fmt: skip
        self._add_route(txn, table_id, cidr, LOCAL, "CreateRouteTable")
        txn.touch(vpc_id)
        return table_id

    def _remove_route_table(self, txn: Txn, route_table_id: str, vpc_id: str) -> None:
        for table in (t.routes_table, t.associations_table, t.endpoint_route_tables_table):
            txn.conn.execute(delete(table).where(table.c.route_table_id == route_table_id))
        txn.conn.execute(
            delete(t.route_tables_table).where(
                t.route_tables_table.c.route_table_id == route_table_id
            )
        )
        self._drop_tags(txn.conn, route_table_id)
        txn.touch(vpc_id)

    def _add_route(
        self, txn: Txn, route_table_id: str, destination: str, target: str, origin: str
    ) -> None:
        exists = txn.conn.execute(
            select(t.routes_table).where(
                t.routes_table.c.route_table_id == route_table_id,
                t.routes_table.c.destination == destination,
            )
        ).first()
        if exists is not None:
            raise NetworkError(Failure.ROUTE_EXISTS, destination=destination)
        txn.conn.execute(
            insert(t.routes_table).values(
                route_table_id=route_table_id, destination=destination, target=target,
                origin=origin, position=self._position(),
            )
        )  # fmt: skip

    @staticmethod
    def _remove_route(txn: Txn, route_table_id: str, destination: str) -> None:
        txn.conn.execute(
            delete(t.routes_table).where(
                t.routes_table.c.route_table_id == route_table_id,
                t.routes_table.c.destination == destination,
            )
        )
