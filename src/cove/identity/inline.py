"""Inline policies: documents embedded in one user, group or role, named per identity, all
of one identity's together within its kind's size (IAM User Guide, "IAM and AWS STS
quotas")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from cove.iam.documents import PolicyKind, parse_policy, policy_size
from cove.identity.changes import Changes
from cove.identity.entities import Entity
from cove.identity.errors import IdentityError, IdentityFailure
from cove.identity.tables import inline_policies_table


@dataclass(frozen=True)
class InlinePolicy:
    name: str
    document: str


class InlinePolicies:
    def __init__(self, engine: Engine, changes: Changes) -> None:
        self.engine = engine
        self.changes = changes

    def put(self, entity: Entity, name: str, document: str) -> None:
        parse_policy(document, PolicyKind.IDENTITY)
        i = inline_policies_table
        others = [p for p in self.of(entity) if p.name.lower() != name.lower()]
        total = policy_size(document) + sum(policy_size(p.document) for p in others)
        if total > entity.kind.inline_size_limit:
            raise IdentityError(
                IdentityFailure.INLINE_TOO_LARGE, Kind=entity.kind.value, Name=entity.name,
                Limit=str(entity.kind.inline_size_limit),
            )  # fmt: skip
        with self.engine.begin() as conn:
            where = (i.c.entity_id == entity.entity_id, i.c.key == name.lower())
            if conn.execute(select(i.c.key).where(*where)).first() is None:
                conn.execute(insert(i).values(entity_id=entity.entity_id, key=name.lower(),
                                              name=name, document=document))  # fmt: skip
            else:
                conn.execute(update(i).where(*where).values(name=name, document=document))
        self.changes.bump()

    def get(self, entity: Entity, name: str) -> InlinePolicy:
        for policy in self.of(entity):
            if policy.name.lower() == name.lower():
                return policy
        raise IdentityError(
            IdentityFailure.NO_SUCH_INLINE_POLICY, Kind=entity.kind.value, Name=name
        )

    def delete(self, entity: Entity, name: str) -> None:
        self.get(entity, name)
        i = inline_policies_table
        with self.engine.begin() as conn:
            conn.execute(
                delete(i).where(i.c.entity_id == entity.entity_id, i.c.key == name.lower())
            )
        self.changes.bump()

    def of(self, entity: Entity) -> list[InlinePolicy]:
        i = inline_policies_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(i).where(i.c.entity_id == entity.entity_id).order_by(i.c.key)
            ).all()
        return [InlinePolicy(row.name, row.document) for row in rows]
