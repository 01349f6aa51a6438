"""Role sessions: the temporary credentials AssumeRole issues (an ASIA... key, its secret
and a session token, valid until their expiration), persisted so that clients keep using
them across a restart, and kept in the credential store while they last (STS API
reference, "AssumeRole"; IAM User Guide, "Temporary security credentials in IAM")."""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from cove.auth.credentials import Credential, CredentialStore, new_access_key, new_secret_key
from cove.http.messages import Principal
from cove.identity.entities import Entities, Entity
from cove.identity.tables import sessions_table


@dataclass(frozen=True)
class Session:
    access_key_id: str
    secret: str
    token: str
    role: Entity
    name: str
    expires: float
    session_policy: str | None = None

    def arn(self, account_id: str) -> str:
        return f"arn:aws:sts::{account_id}:assumed-role/{self.role.name}/{self.name}"

    @property
    def assumed_role_id(self) -> str:
        return f"{self.role.entity_id}:{self.name}"


def new_session_token() -> str:
    # Opaque to clients, as AWS's are; long enough that guessing one is out of the question.
    return base64.b64encode(b"cove-session:" + secrets.token_bytes(96)).decode()


# 12 hours, the longest a role session lasts (MaxSessionDuration's maximum)
FORGET_AFTER = 12 * 3600


class Sessions:
    def __init__(
        self, engine: Engine, account_id: str, entities: Entities, credentials: CredentialStore
    ) -> None:
        self.engine = engine
        self.account_id = account_id
        self.entities = entities
        self.credentials = credentials

    def issue(
        self, role: Entity, name: str, duration: int, session_policy: str | None = None
    ) -> Session:
        session = Session(
            new_access_key("ASIA"),
            new_secret_key(),
            new_session_token(),
            role,
            name,
            time.time() + duration,
            session_policy,
        )
        with self.engine.begin() as conn:
            self._forget_expired(conn)
            conn.execute(
                insert(sessions_table).values(
                    access_key_id=session.access_key_id,
                    secret=session.secret,
                    token=session.token,
                    role_id=role.entity_id,
                    session_name=name,
                    expires=session.expires,
                    session_policy=session_policy,
                )
            )
        self._publish(session)
        return session

    def principal(self, session: Session) -> Principal:
        return Principal(
            self.account_id,
            session.arn(self.account_id),
            session.access_key_id,
            user_id=session.assumed_role_id,
            role_arn=session.role.arn(self.account_id),
            session_policy=session.session_policy,
        )

    def _forget_expired(self, conn: Any) -> None:
        """Sessions expired for longer than FORGET_AFTER go from the table and the
        credential store (each issue looks, so the sessions renewed for long-running
        instances do not pile up); until then their keys still answer ExpiredToken."""
        s = sessions_table
        cutoff = time.time() - FORGET_AFTER
        expired = conn.execute(select(s.c.access_key_id).where(s.c.expires <= cutoff))
        keys = [row.access_key_id for row in expired]
        if keys:
            conn.execute(delete(s).where(s.c.access_key_id.in_(keys)))
            for key in keys:
                self.credentials.remove(key)

    def publish_all(self) -> None:
        """At start: forget expired sessions, put the live ones in the credential store."""
        s = sessions_table
        with self.engine.begin() as conn:
            self._forget_expired(conn)
            rows = conn.execute(select(s)).all()
        for row in rows:
            role = self.entities.by_id(row.role_id)
            if role is not None:  # a deleted role's sessions end with it
                self._publish(self._session(row, role))

    def _publish(self, session: Session) -> None:
        self.credentials.add(
            Credential(
                session.access_key_id,
                session.secret,
                self.principal(session),
                session_token=session.token,
                expires=session.expires,
            )
        )

    @staticmethod
    def _session(row: Any, role: Entity) -> Session:
        return Session(
            row.access_key_id, row.secret, row.token, role, row.session_name, row.expires,
            row.session_policy,
        )  # fmt: skip
