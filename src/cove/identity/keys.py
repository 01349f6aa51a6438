"""Access keys of users (and of the root user), in the metadata database and, while
active, in the credential store: a key deactivated or deleted stops working with the next
request. Two per user, active or not (IAM User Guide, "IAM and AWS STS quotas")."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from cove.auth.credentials import Credential, CredentialStore, new_access_key, new_secret_key
from cove.http.messages import Principal
from cove.identity.entities import Entities, Entity
from cove.identity.errors import IdentityError, IdentityFailure
from cove.identity.kinds import EntityKind
from cove.identity.tables import access_keys_table, key_last_used_table

MAX_ACCESS_KEYS = 2


class KeyStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass
class AccessKey:
    access_key_id: str
    secret: str
    status: KeyStatus
    created: float
    owner: Entity | None  # None: a key of the root user


def _owned_by(owner: Entity | None) -> Any:
    column = access_keys_table.c.owner_id
    return column.is_(None) if owner is None else column == owner.entity_id


class AccessKeys:
    def __init__(
        self, engine: Engine, account_id: str, entities: Entities, credentials: CredentialStore
    ) -> None:
        self.engine = engine
        self.account_id = account_id
        self.entities = entities
        self.credentials = credentials

    def owner(self, user_name: str | None) -> Entity | None:
        return None if user_name is None else self.entities.get(EntityKind.USER, user_name)

    def create(self, user_name: str | None) -> AccessKey:
        """A new active key for the user, or for the root user when `user_name` is None."""
        owner, k = self.owner(user_name), access_keys_table
        key = AccessKey(new_access_key(), new_secret_key(), KeyStatus.ACTIVE, time.time(), owner)
        with self.engine.begin() as conn:
            owned = select(func.count()).select_from(k).where(_owned_by(owner))
            if conn.execute(owned).scalar_one() >= MAX_ACCESS_KEYS:
                raise IdentityError(IdentityFailure.TOO_MANY_ACCESS_KEYS)
            conn.execute(
                insert(k).values(
                    access_key_id=key.access_key_id,
                    owner_id=None if owner is None else owner.entity_id,
                    secret=key.secret,
                    status=key.status.value,
                    created=key.created,
                )
            )
        self._publish(key)
        return key

    def of(self, user_name: str | None) -> list[AccessKey]:
        owner, k = self.owner(user_name), access_keys_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(k).where(_owned_by(owner)).order_by(k.c.created)).all()
        return [self._key(row, owner) for row in rows]

    def set_status(self, user_name: str | None, access_key_id: str, status: KeyStatus) -> None:
        key, k = self._owned(user_name, access_key_id), access_keys_table
        with self.engine.begin() as conn:
            conn.execute(
                update(k).where(k.c.access_key_id == access_key_id).values(status=status.value)
            )
        key.status = status
        self._publish(key)

    def delete(self, user_name: str | None, access_key_id: str) -> None:
        self._owned(user_name, access_key_id)
        k = access_keys_table
        u = key_last_used_table
        with self.engine.begin() as conn:
            conn.execute(delete(k).where(k.c.access_key_id == access_key_id))
            conn.execute(delete(u).where(u.c.access_key_id == access_key_id))
        self.credentials.remove(access_key_id)

    def holder(self, access_key_id: str) -> Entity | None:
        """Whose long-term key `access_key_id` is, active or not: a user's, or None for
        the root user's (the data dir's own key among them); NoSuchEntity for no such
        key."""
        k = access_keys_table
        with self.engine.connect() as conn:
            row = conn.execute(
                select(k.c.owner_id).where(k.c.access_key_id == access_key_id)
            ).first()
        if row is not None:
            return None if row.owner_id is None else self.entities.by_id(row.owner_id)
        cred = self.credentials.get(access_key_id)
        if cred is not None and cred.session_token is None and cred.principal.is_root:
            return None
        raise IdentityError(IdentityFailure.NO_SUCH_ACCESS_KEY, AccessKeyId=access_key_id)

    def principal(self, owner: Entity | None, access_key_id: str) -> Principal:
        if owner is None:
            arn = f"arn:aws:iam::{self.account_id}:root"
            return Principal(self.account_id, arn, access_key_id, user_id=self.account_id)
        arn = owner.arn(self.account_id)
        return Principal(self.account_id, arn, access_key_id, owner.entity_id, owner.name)

    def publish_all(self) -> None:
        """At start: every active key into the credential store."""
        k = access_keys_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(k)).all()
        for row in rows:
            owner = None if row.owner_id is None else self.entities.by_id(row.owner_id)
            self._publish(self._key(row, owner))

    def republish(self, user: Entity) -> None:
        """A user was renamed or moved: its keys' principal names it anew."""
        if user.kind is EntityKind.USER:
            for key in self.of(user.name):
                self._publish(key)

    def _owned(self, user_name: str | None, access_key_id: str) -> AccessKey:
        for key in self.of(user_name):
            if key.access_key_id == access_key_id:
                return key
        raise IdentityError(IdentityFailure.NO_SUCH_ACCESS_KEY, AccessKeyId=access_key_id)

    def _publish(self, key: AccessKey) -> None:
        """Active keys authenticate; inactive ones are refused like unknown ones."""
        if key.status is not KeyStatus.ACTIVE:
            self.credentials.remove(key.access_key_id)
            return
        principal = self.principal(key.owner, key.access_key_id)
        self.credentials.add(Credential(key.access_key_id, key.secret, principal))

    @staticmethod
    def _key(row: Any, owner: Entity | None) -> AccessKey:
        return AccessKey(row.access_key_id, row.secret, KeyStatus(row.status), row.created, owner)
