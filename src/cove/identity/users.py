"""IAM users and their access keys, in the metadata database and, for active keys, in the
credential store: a key deactivated or deleted stops working with the next request.

Quotas and rules are IAM's (IAM User Guide, "IAM and AWS STS quotas": two access keys per
user, active or not; 50 tags per user; "Managing access keys": a user is deleted only
after its keys).
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from cove.auth.credentials import Credential, CredentialStore, new_access_key, new_secret_key
from cove.http.messages import Principal
from cove.identity.errors import IdentityError, IdentityFailure
from cove.identity.tables import access_keys_table, users_table
from cove.storage.db import metadata

MAX_ACCESS_KEYS = 2
MAX_TAGS = 50


class KeyStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass
class User:
    name: str
    user_id: str
    path: str
    created: float
    tags: list[dict[str, str]] = field(default_factory=list)

    def arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:user{self.path}{self.name}"


@dataclass
class AccessKey:
    access_key_id: str
    secret: str
    status: KeyStatus
    created: float
    user_name: str | None  # None: a key of the root user


def new_user_id() -> str:
    """AIDA and 17 more characters, the form of AWS's user ids."""
    return "AIDA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(17))


def _user(row: Any) -> User:
    return User(row.name, row.user_id, row.path, row.created, json.loads(row.tags))


class Users:
    def __init__(self, engine: Engine, account_id: str, credentials: CredentialStore) -> None:
        self.engine = engine
        self.account_id = account_id
        self.credentials = credentials
        self._lock = threading.Lock()  # check-then-write sequences (quotas, renames)
        # storage's open_engine creates its own tables; this package creates its own
        metadata.create_all(engine, tables=[users_table, access_keys_table])
        self._load_active_keys()

    # -- users --------------------------------------------------------------------------

    def create(self, name: str, path: str = "/", tags: list[dict[str, str]] | None = None) -> User:
        user = User(name, new_user_id(), path, time.time(), _checked_tags(tags or []))
        with self._lock, self.engine.begin() as conn:
            if self._row(conn, name) is not None:
                raise IdentityError(IdentityFailure.USER_EXISTS, UserName=name)
            conn.execute(
                insert(users_table).values(
                    key=name.lower(),
                    name=name,
                    user_id=user.user_id,
                    path=path,
                    created=user.created,
                    tags=json.dumps(user.tags),
                )
            )
        return user

    def get(self, name: str) -> User:
        with self.engine.connect() as conn:
            row = self._row(conn, name)
        if row is None:
            raise IdentityError(IdentityFailure.NO_SUCH_USER, UserName=name)
        return _user(row)

    def list(self, path_prefix: str = "/") -> list[User]:
        t = users_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.key)).all()
        return [_user(r) for r in rows if r.path.startswith(path_prefix)]

    def update(self, name: str, new_name: str | None, new_path: str | None) -> None:
        t, k = users_table, access_keys_table
        with self._lock, self.engine.begin() as conn:
            row = self._row(conn, name)
            if row is None:
                raise IdentityError(IdentityFailure.NO_SUCH_USER, UserName=name)
            values: dict[str, Any] = {}
            if new_path is not None:
                values["path"] = new_path
            if new_name is not None and new_name != row.name:
                if new_name.lower() != row.key and self._row(conn, new_name) is not None:
                    raise IdentityError(IdentityFailure.USER_EXISTS, UserName=new_name)
                values.update(key=new_name.lower(), name=new_name)
            if not values:
                return
            conn.execute(update(t).where(t.c.key == row.key).values(**values))
            if values.get("key", row.key) != row.key:  # the user's keys move with it
                owned = k.c.user_key == row.key
                conn.execute(update(k).where(owned).values(user_key=values["key"]))
        self._reload_keys_of(new_name or name)  # their principal's ARN changed

    def delete(self, name: str) -> None:
        t, k = users_table, access_keys_table
        with self._lock, self.engine.begin() as conn:
            if self._row(conn, name) is None:
                raise IdentityError(IdentityFailure.NO_SUCH_USER, UserName=name)
            if conn.execute(select(k.c.access_key_id).where(k.c.user_key == name.lower())).first():
                raise IdentityError(IdentityFailure.USER_HAS_ACCESS_KEYS, UserName=name)
            conn.execute(delete(t).where(t.c.key == name.lower()))

    def tag(self, name: str, tags: list[dict[str, str]]) -> None:
        user = self.get(name)
        merged = {t["Key"]: t["Value"] for t in user.tags} | {t["Key"]: t["Value"] for t in tags}
        self._save_tags(name, [{"Key": k, "Value": v} for k, v in merged.items()])

    def untag(self, name: str, keys: list[str]) -> None:
        user = self.get(name)
        self._save_tags(name, [t for t in user.tags if t["Key"] not in set(keys)])

    def _save_tags(self, name: str, tags: list[dict[str, str]]) -> None:
        t = users_table
        text = json.dumps(_checked_tags(tags))
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.key == name.lower()).values(tags=text))

    @staticmethod
    def _row(conn: Connection, name: str) -> Any:
        return conn.execute(select(users_table).where(users_table.c.key == name.lower())).first()

    # -- access keys --------------------------------------------------------------------

    def create_key(self, user_name: str | None) -> AccessKey:
        """A new active key for the user, or for the root user when `user_name` is None."""
        k = access_keys_table
        owner = None if user_name is None else user_name.lower()
        with self._lock, self.engine.begin() as conn:
            if user_name is not None and self._row(conn, user_name) is None:
                raise IdentityError(IdentityFailure.NO_SUCH_USER, UserName=user_name)
            owned = select(func.count()).select_from(k).where(_owned_by(owner))
            if conn.execute(owned).scalar_one() >= MAX_ACCESS_KEYS:
                raise IdentityError(IdentityFailure.TOO_MANY_ACCESS_KEYS)
            key = AccessKey(
                new_access_key(), new_secret_key(), KeyStatus.ACTIVE, time.time(), user_name
            )
            conn.execute(
                insert(k).values(
                    access_key_id=key.access_key_id,
                    user_key=owner,
                    secret=key.secret,
                    status=key.status.value,
                    created=key.created,
                )
            )
        self._publish(key)
        return key

    def keys_of(self, user_name: str | None) -> list[AccessKey]:
        if user_name is not None:
            self.get(user_name)  # NoSuchEntity for an unknown user
        k = access_keys_table
        owner = None if user_name is None else user_name.lower()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(k, users_table.c.name)
                .outerjoin(users_table, users_table.c.key == k.c.user_key)
                .where(_owned_by(owner))
                .order_by(k.c.created)
            ).all()
        return [_key(r) for r in rows]

    def set_key_status(self, user_name: str | None, access_key_id: str, status: KeyStatus) -> None:
        key = self._owned_key(user_name, access_key_id)
        k = access_keys_table
        with self.engine.begin() as conn:
            conn.execute(
                update(k).where(k.c.access_key_id == access_key_id).values(status=status.value)
            )
        key.status = status
        self._publish(key)

    def delete_key(self, user_name: str | None, access_key_id: str) -> None:
        self._owned_key(user_name, access_key_id)
        k = access_keys_table
        with self.engine.begin() as conn:
            conn.execute(delete(k).where(k.c.access_key_id == access_key_id))
        self.credentials.remove(access_key_id)

    def _owned_key(self, user_name: str | None, access_key_id: str) -> AccessKey:
        for key in self.keys_of(user_name):
            if key.access_key_id == access_key_id:
                return key
        raise IdentityError(IdentityFailure.NO_SUCH_ACCESS_KEY, AccessKeyId=access_key_id)

    # -- the credential store -----------------------------------------------------------

    def principal(self, user: User | None, access_key_id: str) -> Principal:
        if user is None:
            arn = f"arn:aws:iam::{self.account_id}:root"
            return Principal(self.account_id, arn, access_key_id, user_id=self.account_id)
        return Principal(
            self.account_id, user.arn(self.account_id), access_key_id, user.user_id, user.name
        )

    def _publish(self, key: AccessKey) -> None:
        """Active keys authenticate; inactive ones are refused like unknown ones."""
        if key.status is not KeyStatus.ACTIVE:
            self.credentials.remove(key.access_key_id)
            return
        user = None if key.user_name is None else self.get(key.user_name)
        principal = self.principal(user, key.access_key_id)
        self.credentials.add(Credential(key.access_key_id, key.secret, principal))

    def _load_active_keys(self) -> None:
        k = access_keys_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(k, users_table.c.name).outerjoin(
                    users_table, users_table.c.key == k.c.user_key
                )
            ).all()
        for row in rows:
            self._publish(_key(row))

    def _reload_keys_of(self, user_name: str) -> None:
        for key in self.keys_of(user_name):
            self._publish(key)


def _owned_by(owner: str | None) -> Any:
    column = access_keys_table.c.user_key
    return column.is_(None) if owner is None else column == owner


def _key(row: Any) -> AccessKey:
    return AccessKey(
        row.access_key_id, row.secret, KeyStatus(row.status), row.created, row.name
    )


def _checked_tags(tags: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(tags) > MAX_TAGS:
        raise IdentityError(IdentityFailure.TOO_MANY_TAGS)
    return tags
