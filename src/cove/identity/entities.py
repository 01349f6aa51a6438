"""Users, groups and roles: one store for the three kinds, which IAM creates, names,
lists, renames, tags and deletes alike.

An entity is deleted only once nothing hangs off it: IAM answers DeleteConflict while a
user has access keys, an entity has inline or attached policies, a group has users or a
user is in a group (IAM API reference, "DeleteUser", "DeleteGroup", "DeleteRole"); a
permissions boundary is not among those, and is deleted with its identity."""

from __future__ import annotations

import json
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection

from cove.identity.changes import Changes
from cove.identity.errors import IdentityError, IdentityFailure
from cove.identity.kinds import EntityKind
from cove.identity.tables import (
    access_keys_table,
    attachments_table,
    boundaries_table,
    entities_table,
    group_members_table,
    inline_policies_table,
)

MAX_TAGS = 50
Tags = list[dict[str, str]]


@dataclass
class Entity:
    kind: EntityKind
    name: str
    entity_id: str
    path: str
    created: float
    tags: Tags = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)

    def arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:{self.kind.value}{self.path}{self.name}"


def new_id(prefix: str) -> str:
    """A prefix (AIDA, AGPA, AROA, ANPA) and 17 more characters, the form of IAM's ids."""
    return prefix + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(17))


def checked_tags(tags: Tags) -> Tags:
    """Tags as a request gives them, or as a resource keeps them: at most MAX_TAGS, and no
    key twice, however it is cased (IAM's tag keys are case-insensitive: "Duplicate tag
    keys found. Please note that Tag keys are case insensitive.")."""
    if len({t["Key"].lower() for t in tags}) < len(tags):
        raise IdentityError(IdentityFailure.DUPLICATE_TAG_KEYS)
    return _within_quota(tags)


def _within_quota(tags: Tags) -> Tags:
    if len(tags) > MAX_TAGS:
        raise IdentityError(IdentityFailure.TOO_MANY_TAGS)
    return tags


def merged_tags(held: Tags, added: Tags) -> Tags:
    """`added` over `held`: a key already there, in any case, takes the new tag, key and
    value as written ("you cannot have separate Department and department tag keys. If
    you have tagged a user with the Department=foo tag and you add the department=bar tag,
    it replaces the first tag", IAM UG, "Tagging IAM resources")."""
    replaced = {t["Key"].lower() for t in checked_tags(added)}
    kept = [t for t in held if t["Key"].lower() not in replaced]
    return _within_quota(kept + [{"Key": t["Key"], "Value": t["Value"]} for t in added])


def without_tags(held: Tags, keys: list[str]) -> Tags:
    gone = {key.lower() for key in keys}
    return [t for t in held if t["Key"].lower() not in gone]


def _entity(row: Any) -> Entity:
    return Entity(
        EntityKind(row.kind),
        row.name,
        row.entity_id,
        row.path,
        row.created,
        json.loads(row.tags),
        json.loads(row.attributes),
    )


def _missing(kind: EntityKind, name: str) -> IdentityError:
    return IdentityError(IdentityFailure.NO_SUCH_ENTITY, Kind=kind.value, Name=name)


class Entities:
    def __init__(
        self, engine: Engine, changes: Changes, on_change: Callable[[Entity], None]
    ) -> None:
        self.engine = engine
        self.changes = changes
        self.on_change = on_change  # e.g. republish a renamed user's keys

    def create(
        self,
        kind: EntityKind,
        name: str,
        path: str = "/",
        tags: Tags | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Entity:
        entity = Entity(
            kind, name, new_id(kind.id_prefix), path, time.time(),
            checked_tags(tags or []), attributes or {},
        )  # fmt: skip
        with self.engine.begin() as conn:
            if self._row(conn, kind, name) is not None:
                raise IdentityError(IdentityFailure.ENTITY_EXISTS, Kind=kind.value, Name=name)
            conn.execute(insert(entities_table).values(**self._values(entity)))
        self.changes.bump()
        return entity

    def get(self, kind: EntityKind, name: str) -> Entity:
        with self.engine.connect() as conn:
            row = self._row(conn, kind, name)
        if row is None:
            raise _missing(kind, name)
        return _entity(row)

    def by_id(self, entity_id: str) -> Entity | None:
        t = entities_table
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.entity_id == entity_id)).first()
        return None if row is None else _entity(row)

    def list(self, kind: EntityKind, path_prefix: str = "/") -> list[Entity]:
        t = entities_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.kind == kind.value).order_by(t.c.key)).all()
        return [_entity(r) for r in rows if r.path.startswith(path_prefix)]

    def update(
        self,
        kind: EntityKind,
        name: str,
        new_name: str | None = None,
        new_path: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Entity:
        """Rename, move or change attributes; what hangs off it follows by id."""
        t = entities_table
        with self.engine.begin() as conn:
            row = self._row(conn, kind, name)
            if row is None:
                raise _missing(kind, name)
            entity = _entity(row)
            renamed = new_name is not None and new_name.lower() != name.lower()
            if renamed and self._row(conn, kind, str(new_name)) is not None:
                raise IdentityError(IdentityFailure.ENTITY_EXISTS, Kind=kind.value, Name=new_name)
            entity.name = new_name or entity.name
            entity.path = new_path or entity.path
            entity.attributes.update(attributes or {})
            conn.execute(
                update(t)
                .where(t.c.kind == kind.value, t.c.key == row.key)
                .values(**self._values(entity))
            )
        self.changes.bump()
        self.on_change(entity)
        return entity

    def tag(self, kind: EntityKind, name: str, tags: Tags) -> None:
        entity = self.get(kind, name)
        self._save_tags(entity, merged_tags(entity.tags, tags))

    def untag(self, kind: EntityKind, name: str, keys: list[str]) -> None:
        entity = self.get(kind, name)
        self._save_tags(entity, without_tags(entity.tags, keys))

    def delete(self, kind: EntityKind, name: str) -> None:
        t = entities_table
        with self.engine.begin() as conn:
            row = self._row(conn, kind, name)
            if row is None:
                raise _missing(kind, name)
            blocker = _what_blocks_deleting(conn, kind, row.entity_id)
            if blocker is not None:
                raise IdentityError(blocker)
            conn.execute(delete(t).where(t.c.kind == kind.value, t.c.key == row.key))
            # a permissions boundary is not among what must go first: it goes with it
            b = boundaries_table
            conn.execute(delete(b).where(b.c.entity_id == row.entity_id))
        self.changes.bump()

    def _save_tags(self, entity: Entity, tags: Tags) -> None:
        t = entities_table
        text = json.dumps(tags)
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.entity_id == entity.entity_id).values(tags=text))
        self.changes.bump()  # aws:ResourceTag/... may read them

    @staticmethod
    def _values(entity: Entity) -> dict[str, Any]:
        return {
            "kind": entity.kind.value,
            "key": entity.name.lower(),
            "name": entity.name,
            "entity_id": entity.entity_id,
            "path": entity.path,
            "created": entity.created,
            "tags": json.dumps(entity.tags),
            "attributes": json.dumps(entity.attributes),
        }

    @staticmethod
    def _row(conn: Connection, kind: EntityKind, name: str) -> Any:
        t = entities_table
        return conn.execute(
            select(t).where(t.c.kind == kind.value, t.c.key == name.lower())
        ).first()


def _what_blocks_deleting(
    conn: Connection, kind: EntityKind, entity_id: str
) -> IdentityFailure | None:
    """The first of what must go before the entity, in the order IAM's docs list it."""

    def any_row(column: Any) -> bool:
        return conn.execute(select(column).where(column == entity_id).limit(1)).first() is not None

    if kind is EntityKind.USER and any_row(access_keys_table.c.owner_id):
        return IdentityFailure.HAS_ACCESS_KEYS
    if any_row(inline_policies_table.c.entity_id):
        return IdentityFailure.HAS_INLINE_POLICIES
    if any_row(attachments_table.c.entity_id):
        return IdentityFailure.HAS_ATTACHED_POLICIES
    members = group_members_table.c
    column = members.user_id if kind is EntityKind.USER else members.group_id
    if kind is not EntityKind.ROLE and any_row(column):
        return IdentityFailure.HAS_GROUP_MEMBERSHIPS
    return None
