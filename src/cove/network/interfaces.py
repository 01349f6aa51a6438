"""Network interfaces (ENIs) and the private addresses they hold: an interface takes the
lowest free address of its subnet and gives it back when deleted."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from cove.network import tables as t
from cove.network.addresses import lowest_free
from cove.network.base import StoreBase, Txn
from cove.network.failures import Failure, NetworkError
from cove.network.ids import Prefix, mac_address, new_id
from cove.network.resources import InterfaceType, NetworkInterface


class InterfaceOps(StoreBase):
    def interfaces(self) -> list[NetworkInterface]:
        with self._read() as reader:
            return reader.interfaces()

    def interface(self, eni_id: str) -> NetworkInterface:
        with self._read() as reader:
            found = reader.interfaces(t.interfaces_table.c.eni_id == eni_id)
        if not found:
            raise NetworkError(Failure.INTERFACE_NOT_FOUND, id=eni_id)
        return found[0]

    def interface_by_ip(self, vpc_id: str, ip: str) -> NetworkInterface | None:
        with self._read() as reader:
            row = reader.conn.execute(
                select(t.addresses_table.c.eni_id)
                .join(t.interfaces_table, t.interfaces_table.c.eni_id == t.addresses_table.c.eni_id)
                .where(t.addresses_table.c.ip == ip, t.interfaces_table.c.vpc_id == vpc_id)
            ).first()
            if row is None:
                return None
            return reader.interfaces(t.interfaces_table.c.eni_id == row.eni_id)[0]

    def create_host_interface(
        self, subnet_id: str, group_ids: list[str] | None = None, description: str = ""
    ) -> NetworkInterface:
        """An interface for a `cove exec` host: not requester-managed, the VPC's default
        group when no group is named."""
        with self._write() as txn:
            subnet = self._one(txn.conn, t.subnets_table, t.subnets_table.c.subnet_id,
                               subnet_id, Failure.SUBNET_NOT_FOUND)  # fmt: skip
            groups = self._groups_for(txn, subnet.vpc_id, subnet_id, group_ids or [])
            eni_id = self._add_interface(
                txn, subnet_id, groups, InterfaceType.INTERFACE, description, False, None
            )
        return self.interface(eni_id)

    def create_function_interface(
        self, subnet_id: str, group_ids: list[str], description: str
    ) -> NetworkInterface:
        """A Lambda function's ENI: requester-managed (Lambda makes and deletes it, not the
        account), interface type `lambda` (EC2 API reference, NetworkInterfaceType)."""
        with self._write() as txn:
            subnet = self._one(txn.conn, t.subnets_table, t.subnets_table.c.subnet_id,
                               subnet_id, Failure.SUBNET_NOT_FOUND)  # fmt: skip
            groups = self._groups_for(txn, subnet.vpc_id, subnet_id, group_ids)
            eni_id = self._add_interface(
                txn, subnet_id, groups, InterfaceType.LAMBDA, description, True, None
            )
        return self.interface(eni_id)

    def create_managed_interface(
        self, subnet_id: str, group_ids: list[str], description: str, requester: str,
        addresses: int = 1,
    ) -> NetworkInterface:  # fmt: skip
        """A requester-managed ENI of another service (`requester`, its RequesterId),
        interface type `interface`, with `addresses` private IPs: the lowest free ones of
        the subnet, the first primary (EC2 UG, "Multiple IP addresses"); all of them or
        InsufficientFreeAddressesInSubnet."""
        with self._write() as txn:
            subnet = self._one(txn.conn, t.subnets_table, t.subnets_table.c.subnet_id,
                               subnet_id, Failure.SUBNET_NOT_FOUND)  # fmt: skip
            groups = self._groups_for(txn, subnet.vpc_id, subnet_id, group_ids)
            eni_id = self._add_interface(
                txn, subnet_id, groups, InterfaceType.INTERFACE, description, True, requester,
                addresses,
            )  # fmt: skip
        return self.interface(eni_id)

    def release_interface(self, eni_id: str) -> None:
        """Its owner (a function, an instance) is done with a requester-managed ENI: it goes."""
        with self._write() as txn:
            row = self._one(txn.conn, t.interfaces_table, t.interfaces_table.c.eni_id, eni_id,
                            Failure.INTERFACE_NOT_FOUND)  # fmt: skip
            self._remove_interface(txn, eni_id, row.vpc_id)

    def delete_interface(self, eni_id: str) -> None:
        with self._write() as txn:
            row = self._one(txn.conn, t.interfaces_table, t.interfaces_table.c.eni_id, eni_id,
                            Failure.INTERFACE_NOT_FOUND)  # fmt: skip
            if row.requester_managed:  # its owner (an endpoint) deletes it
                raise NetworkError(Failure.INTERFACE_IN_USE, id=eni_id)
            self._remove_interface(txn, eni_id, row.vpc_id)

    # shared with endpoints

    def _groups_for(self, txn: Txn, vpc_id: str, subnet_id: str, group_ids: list[str]) -> list[str]:
        """`group_ids` checked to exist and to be of the VPC, else the VPC's default."""
        if not group_ids:
            row = txn.conn.execute(
                select(t.groups_table.c.group_id).where(
                    t.groups_table.c.vpc_id == vpc_id, t.groups_table.c.name == "default"
                )
            ).first()
            return [row.group_id] if row is not None else []
        for group_id in group_ids:
            row = self._one(txn.conn, t.groups_table, t.groups_table.c.group_id, group_id,
                            Failure.GROUP_NOT_FOUND)  # fmt: skip
            if row.vpc_id != vpc_id:
                raise NetworkError(Failure.GROUPS_DIFFERENT_VPC, id=group_id, subnet=subnet_id)
        return list(dict.fromkeys(group_ids))

    def _add_interface(
        self,
        txn: Txn,
        subnet_id: str,
        group_ids: list[str],
        interface_type: InterfaceType,
        description: str,
        requester_managed: bool,
        owner: str | None,
        addresses: int = 1,
    ) -> str:
        subnet = txn.conn.execute(
            select(t.subnets_table).where(t.subnets_table.c.subnet_id == subnet_id)
        ).one()
        used = list(txn.conn.execute(
            select(t.addresses_table.c.ip).where(t.addresses_table.c.subnet_id == subnet_id)
        ).scalars())  # fmt: skip
        ips: list[str] = []
        for _ in range(addresses):
            ip = lowest_free(subnet.cidr, [*used, *ips])
            if ip is None:
                raise NetworkError(Failure.SUBNET_FULL, id=subnet_id)
            ips.append(ip)
        eni_id = new_id(Prefix.INTERFACE)
        txn.conn.execute(
            insert(t.interfaces_table).values(
                eni_id=eni_id, subnet_id=subnet_id, vpc_id=subnet.vpc_id,
                interface_type=interface_type.value, description=description,
                requester_managed=requester_managed, owner=owner, mac=mac_address(),
                created=self._now(),
            )
        )  # fmt: skip
        for position, ip in enumerate(ips):
            txn.conn.execute(
                insert(t.addresses_table).values(
                    subnet_id=subnet_id, ip=ip, eni_id=eni_id, position=position
                )
            )
        self._set_interface_groups(txn, eni_id, group_ids)
        txn.touch(subnet.vpc_id)
        return eni_id

    @staticmethod
    def _set_interface_groups(txn: Txn, eni_id: str, group_ids: list[str]) -> None:
        table = t.interface_groups_table
        txn.conn.execute(delete(table).where(table.c.eni_id == eni_id))
        for group_id in group_ids:
            txn.conn.execute(insert(table).values(eni_id=eni_id, group_id=group_id))

    def _remove_interface(self, txn: Txn, eni_id: str, vpc_id: str) -> None:
        for table in (t.addresses_table, t.interface_groups_table, t.interfaces_table):
            txn.conn.execute(delete(table).where(table.c.eni_id == eni_id))
        self._drop_tags(txn.conn, eni_id)
        txn.touch(vpc_id)
