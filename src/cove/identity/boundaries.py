"""Permissions boundaries: the one managed policy (the account's own or an AWS managed one)
that sets the most a user or role may do (IAM UG, "Permissions boundaries for IAM
entities"; IAM API reference, "PutUserPermissionsBoundary", "PutRolePermissionsBoundary").

Setting one replaces the one before; deleting one that is not there changes nothing. A
policy in use as a boundary cannot be deleted (cove.identity.policies), and a boundary
goes with its identity (cove.identity.entities)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, insert, select, update

from cove.identity.changes import Changes
from cove.identity.entities import Entity
from cove.identity.errors import IdentityFailure
from cove.identity.policies import ManagedPolicies
from cove.identity.tables import boundaries_table

# What PermissionsBoundaryType says of every boundary (IAM API reference,
# "AttachedPermissionsBoundary": "This data type can only have a value of Policy").
BOUNDARY_TYPE = "Policy"


class Boundaries:
    def __init__(self, engine: Engine, policies: ManagedPolicies, changes: Changes) -> None:
        self.engine = engine
        self.policies = policies
        self.changes = changes

    def check(self, arn: str) -> None:
        """NoSuchEntity unless `arn` is a managed policy a boundary can be set to."""
        self.policies.get(arn, IdentityFailure.NO_SUCH_BOUNDARY)

    def put(self, entity: Entity, arn: str) -> None:
        self.check(arn)
        b = boundaries_table
        with self.engine.begin() as conn:
            held = b.c.entity_id == entity.entity_id
            if conn.execute(select(b.c.entity_id).where(held)).first() is None:
                conn.execute(insert(b).values(entity_id=entity.entity_id, policy_arn=arn))
            else:
                conn.execute(update(b).where(held).values(policy_arn=arn))
        self.changes.bump()  # the identity's decisions are decided again

    def delete(self, entity: Entity) -> None:
        b = boundaries_table
        with self.engine.begin() as conn:
            gone = conn.execute(delete(b).where(b.c.entity_id == entity.entity_id))
        if gone.rowcount:
            self.changes.bump()

    def of(self, entity: Entity) -> str | None:
        """The ARN of the identity's boundary policy; None without one."""
        b = boundaries_table
        with self.engine.connect() as conn:
            row = conn.execute(
                select(b.c.policy_arn).where(b.c.entity_id == entity.entity_id)
            ).first()
        return None if row is None else str(row.policy_arn)

    def entities_of(self, arn: str) -> list[str]:
        """The ids of the identities `arn` is the boundary of."""
        b = boundaries_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(b.c.entity_id).where(b.c.policy_arn == arn)).all()
        return [row.entity_id for row in rows]

    def usage_count(self, arn: str) -> int:
        """PermissionsBoundaryUsageCount: the users and roles `arn` is the boundary of."""
        b = boundaries_table
        query = select(func.count()).select_from(b).where(b.c.policy_arn == arn)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def in_use(self) -> set[str]:
        """Every policy ARN some identity has as its boundary."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(boundaries_table.c.policy_arn).distinct()).all()
        return {row.policy_arn for row in rows}
