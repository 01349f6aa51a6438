"""Group membership: a user is in at most 10 groups (IAM User Guide, "IAM and AWS STS
quotas")."""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, insert, select

from cove.identity.changes import Changes
from cove.identity.entities import Entities, Entity
from cove.identity.errors import IdentityError, IdentityFailure
from cove.identity.kinds import EntityKind
from cove.identity.tables import group_members_table

MAX_GROUPS_PER_USER = 10


class Memberships:
    def __init__(self, engine: Engine, entities: Entities, changes: Changes) -> None:
        self.engine = engine
        self.entities = entities
        self.changes = changes

    def add(self, group_name: str, user_name: str) -> None:
        group = self.entities.get(EntityKind.GROUP, group_name)
        user = self.entities.get(EntityKind.USER, user_name)
        m = group_members_table
        with self.engine.begin() as conn:
            pair = (m.c.group_id == group.entity_id, m.c.user_id == user.entity_id)
            if conn.execute(select(m.c.user_id).where(*pair)).first() is not None:
                return  # adding a member again changes nothing, as in IAM
            count = select(func.count()).select_from(m).where(m.c.user_id == user.entity_id)
            if conn.execute(count).scalar_one() >= MAX_GROUPS_PER_USER:
                raise IdentityError(IdentityFailure.TOO_MANY_GROUPS)
            conn.execute(insert(m).values(group_id=group.entity_id, user_id=user.entity_id))
        self.changes.bump()

    def remove(self, group_name: str, user_name: str) -> None:
        group = self.entities.get(EntityKind.GROUP, group_name)
        user = self.entities.get(EntityKind.USER, user_name)
        m = group_members_table
        with self.engine.begin() as conn:
            conn.execute(
                delete(m).where(m.c.group_id == group.entity_id, m.c.user_id == user.entity_id)
            )
        self.changes.bump()

    def users_of(self, group: Entity) -> list[Entity]:
        m = group_members_table
        with self.engine.connect() as conn:
            ids = conn.execute(select(m.c.user_id).where(m.c.group_id == group.entity_id)).all()
        return self._entities([row.user_id for row in ids])

    def groups_of(self, user: Entity) -> list[Entity]:
        m = group_members_table
        with self.engine.connect() as conn:
            ids = conn.execute(select(m.c.group_id).where(m.c.user_id == user.entity_id)).all()
        return self._entities([row.group_id for row in ids])

    def _entities(self, ids: list[str]) -> list[Entity]:
        found = [self.entities.by_id(i) for i in ids]
        return sorted((e for e in found if e is not None), key=lambda e: e.name.lower())
