"""Security groups and their rules. Every VPC has its `default` group; a new group, like
the default one, allows all outbound traffic; the default group also allows all inbound
traffic from itself (Amazon VPC User Guide, "Default security groups for your VPCs")."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, or_, select

from cove.network import tables as t
from cove.network.base import StoreBase, Txn
from cove.network.failures import Failure, NetworkError, invalid
from cove.network.ids import Prefix, new_id
from cove.network.permissions import Permission
from cove.network.resources import Rule, SecurityGroup, Tag

ALL_OUTBOUND = Permission("-1", None, None, cidr="0.0.0.0/0")
DEFAULT_NAME = "default"


class GroupOps(StoreBase):
    def groups(self) -> list[SecurityGroup]:
        with self._read() as reader:
            return reader.groups()

    def group(self, group_id: str) -> SecurityGroup:
        with self._read() as reader:
            found = reader.groups(t.groups_table.c.group_id == group_id)
        if not found:
            raise NetworkError(Failure.GROUP_NOT_FOUND, id=group_id)
        return found[0]

    def rules(self) -> list[Rule]:
        with self._read() as reader:
            return reader.rules()

    def create_group(
        self, vpc_id: str, name: str, description: str, tags: list[Tag] | None = None
    ) -> SecurityGroup:
        if name.lower() == DEFAULT_NAME:  # EC2 keeps the name for the VPC's own group
            raise NetworkError(Failure.GROUP_RESERVED)
        if name.lower().startswith("sg-"):
            raise invalid("Group names may not be in the format sg-*.")
        with self._write() as txn:
            self._one(txn.conn, t.vpcs_table, t.vpcs_table.c.vpc_id, vpc_id,
                      Failure.VPC_NOT_FOUND)  # fmt: skip
            group_id = self._add_group(txn, vpc_id, name, description)
            self._set_tags(txn.conn, group_id, tags or [])
        return self.group(group_id)

    def delete_group(self, group_id: str) -> None:
        with self._write() as txn:
            row = self._one(txn.conn, t.groups_table, t.groups_table.c.group_id, group_id,
                            Failure.GROUP_NOT_FOUND)  # fmt: skip
            if row.name == DEFAULT_NAME:
                raise NetworkError(Failure.DEFAULT_GROUP, id=group_id)
            referenced = txn.conn.execute(
                select(func.count())
                .select_from(t.rules_table)
                .where(
                    t.rules_table.c.peer_group_id == group_id,
                    t.rules_table.c.group_id != group_id,
                )
            ).scalar_one()
            used = txn.conn.execute(
                select(func.count()).select_from(t.interface_groups_table)
                .where(t.interface_groups_table.c.group_id == group_id)
            ).scalar_one() + txn.conn.execute(
                select(func.count()).select_from(t.endpoint_groups_table)
                .where(t.endpoint_groups_table.c.group_id == group_id)
            ).scalar_one()  # fmt: skip
            if referenced or used:
                raise NetworkError(Failure.GROUP_IN_USE, id=group_id)
            self._remove_group(txn, group_id, row.vpc_id)

    def authorize(self, group_id: str, egress: bool, permissions: list[Permission]) -> list[Rule]:
        """Add the rules; a rule the group already has is refused, the whole call with it."""
        with self._write() as txn:
            group = self._one(txn.conn, t.groups_table, t.groups_table.c.group_id, group_id,
                              Failure.GROUP_NOT_FOUND)  # fmt: skip
            existing = {p.key for p in self._permissions(txn, group_id, egress)}
            ids = []
            for permission in permissions:
                if permission.peer_group_id is not None:
                    peer = self._one(txn.conn, t.groups_table, t.groups_table.c.group_id,
                                     permission.peer_group_id, Failure.GROUP_NOT_FOUND)  # fmt: skip
                    if peer.vpc_id != group.vpc_id:
                        raise invalid(
                            f"You have specified two resources that belong to different "
                            f"networks: {group_id}, {permission.peer_group_id}"
                        )
                if permission.key in existing:
                    raise NetworkError(Failure.PERMISSION_DUPLICATE, rule=permission.text())
                existing.add(permission.key)
                ids.append(self._add_rule(txn, group_id, egress, permission))
            txn.touch(group.vpc_id)
        with self._read() as reader:
            return reader.rules(t.rules_table.c.rule_id.in_(ids))

    def revoke(
        self, group_id: str, egress: bool, permissions: list[Permission], rule_ids: list[str]
    ) -> list[Permission]:
        """Remove the rules named by content or by id; returns the permissions that
        matched no rule (EC2's UnknownIpPermissions). None matching at all is an error."""
        with self._write() as txn:
            group = self._one(txn.conn, t.groups_table, t.groups_table.c.group_id, group_id,
                              Failure.GROUP_NOT_FOUND)  # fmt: skip
            rules = self._rule_rows(txn, group_id, egress)
            by_key = {_permission(r).key: r.rule_id for r in rules}
            unknown = [p for p in permissions if p.key not in by_key]
            doomed = [by_key[p.key] for p in permissions if p.key in by_key]
            known_ids = {r.rule_id for r in rules}
            for rule_id in rule_ids:
                if rule_id not in known_ids:
                    raise NetworkError(Failure.RULE_NOT_FOUND, id=rule_id)
                doomed.append(rule_id)
            if not doomed:
                raise NetworkError(Failure.PERMISSION_NOT_FOUND)
            txn.conn.execute(delete(t.rules_table).where(t.rules_table.c.rule_id.in_(doomed)))
            for rule_id in doomed:
                self._drop_tags(txn.conn, rule_id)
            txn.touch(group.vpc_id)
        return unknown

    # shared

    def _add_group(self, txn: Txn, vpc_id: str, name: str, description: str) -> str:
        taken = txn.conn.execute(
            select(t.groups_table.c.group_id).where(
                t.groups_table.c.vpc_id == vpc_id, t.groups_table.c.name == name
            )
        ).first()
        if taken is not None:
            raise NetworkError(Failure.GROUP_DUPLICATE, name=name, vpc=vpc_id)
        group_id = new_id(Prefix.GROUP)
        txn.conn.execute(
            insert(t.groups_table).values(
                group_id=group_id, vpc_id=vpc_id, name=name, description=description,
                created=self._now(),
            )
        )  # fmt: skip
        self._add_rule(txn, group_id, True, ALL_OUTBOUND)
        txn.touch(vpc_id)
        return group_id

    def _add_default_group(self, txn: Txn, vpc_id: str) -> str:
        group_id = self._add_group(txn, vpc_id, DEFAULT_NAME, "default VPC security group")
        self._add_rule(txn, group_id, False, Permission("-1", None, None, peer_group_id=group_id))
        return group_id

    def _remove_group(self, txn: Txn, group_id: str, vpc_id: str) -> None:
        for rule in self._rule_rows(txn, group_id, None):
            self._drop_tags(txn.conn, rule.rule_id)
        txn.conn.execute(delete(t.rules_table).where(t.rules_table.c.group_id == group_id))
        txn.conn.execute(delete(t.groups_table).where(t.groups_table.c.group_id == group_id))
        self._drop_tags(txn.conn, group_id)
        txn.touch(vpc_id)

    def _add_rule(self, txn: Txn, group_id: str, egress: bool, p: Permission) -> str:
        rule_id = new_id(Prefix.RULE)
        txn.conn.execute(
            insert(t.rules_table).values(
                rule_id=rule_id, group_id=group_id, egress=egress, protocol=p.protocol,
                from_port=p.from_port, to_port=p.to_port, cidr=p.cidr,
                peer_group_id=p.peer_group_id, description=p.description,
                position=self._position(),
            )
        )  # fmt: skip
        return rule_id

    @staticmethod
    def _rule_rows(txn: Txn, group_id: str, egress: bool | None) -> list:  # type: ignore[type-arg]
        query = select(t.rules_table).where(t.rules_table.c.group_id == group_id)
        if egress is not None:
            query = query.where(t.rules_table.c.egress == egress)
        return list(txn.conn.execute(query))

    def _permissions(self, txn: Txn, group_id: str, egress: bool) -> list[Permission]:
        return [_permission(r) for r in self._rule_rows(txn, group_id, egress)]

    @staticmethod
    def _vpc_groups_referenced_elsewhere(txn: Txn, vpc_id: str) -> bool:
        groups = select(t.groups_table.c.group_id).where(t.groups_table.c.vpc_id == vpc_id)
        row = txn.conn.execute(
            select(t.rules_table.c.rule_id).where(
                t.rules_table.c.peer_group_id.in_(groups),
                or_(t.rules_table.c.group_id.not_in(groups)),
            )
        ).first()
        return row is not None


def _permission(row) -> Permission:  # type: ignore[no-untyped-def]
    return Permission(row.protocol, row.from_port, row.to_port, row.cidr, row.peer_group_id,
                      row.description)  # fmt: skip
