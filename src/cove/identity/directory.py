"""The account's identities as one object: users, groups and roles, their access keys,
memberships, managed and inline policies. The server builds one; the IAM front end and,
later, the policy engine's callers read it."""

from __future__ import annotations

import json
import time

from sqlalchemy import Engine, insert, select

from cove.auth.credentials import CredentialStore
from cove.identity.boundaries import Boundaries
from cove.identity.changes import Changes
from cove.identity.entities import Entities, Entity, Tags
from cove.identity.errors import IdentityError
from cove.identity.groups import Memberships
from cove.identity.inline import InlinePolicies
from cove.identity.key_usage import KeyUsage
from cove.identity.keys import AccessKeys
from cove.identity.kinds import EntityKind
from cove.identity.policies import ManagedPolicies
from cove.identity.roles import (
    DEFAULT_MAX_SESSION,
    DESCRIPTION,
    MAX_SESSION,
    TRUST,
    check_trust_policy,
)
from cove.identity.sessions import Sessions
from cove.identity.tables import TABLES, account_table
from cove.storage.db import metadata

# Created with the account, so the quickstart, the demo and the examples pass a role that
# exists: trusted by SageMaker and Lambda, with AWS's AmazonSageMakerFullAccess (SageMaker,
# writing CloudWatch Logs, S3 only in buckets named for SageMaker) and AmazonS3FullAccess.
# (Accounts set up before this kept the inline policy they were given then.)
DEFAULT_ROLE = "cove"
DEFAULT_ROLE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
)
DEFAULT_ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["sagemaker.amazonaws.com", "lambda.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}


class Directory:
    def __init__(self, engine: Engine, account_id: str, credentials: CredentialStore) -> None:
        # storage's open_engine creates its own tables; this package creates its own
        metadata.create_all(engine, tables=TABLES)
        self.engine = engine
        self.account_id = account_id
        self.changes = Changes()
        self.entities = Entities(engine, self.changes, on_change=self._changed)
        self.keys = AccessKeys(engine, account_id, self.entities, credentials)
        self.memberships = Memberships(engine, self.entities, self.changes)
        self.policies = ManagedPolicies(engine, account_id, self.changes)
        self.inline = InlinePolicies(engine, self.changes)
        self.boundaries = Boundaries(engine, self.policies, self.changes)
        self.key_usage = KeyUsage(engine, credentials)
        self.sessions = Sessions(engine, account_id, self.entities, credentials)
        self.created = self._set_up_account()
        self.keys.publish_all()
        self.sessions.publish_all()

    def _set_up_account(self) -> float:
        """When the account was set up; on the first start, set it up: the default role."""
        a = account_table
        with self.engine.connect() as conn:
            row = conn.execute(select(a).where(a.c.account_id == self.account_id)).first()
        if row is not None:
            return float(row.created)
        role = self.create_role(
            DEFAULT_ROLE,
            json.dumps(DEFAULT_ROLE_TRUST),
            description="Cove's default execution role for SageMaker jobs, models and Lambda",
        )
        for arn in DEFAULT_ROLE_POLICIES:
            self.policies.attach(role, arn)
        created = time.time()
        with self.engine.begin() as conn:
            conn.execute(insert(a).values(account_id=self.account_id, created=created))
        return created

    def role_by_arn(self, arn: str) -> Entity | None:
        """The role `arn` names in this account, path included; None for any other ARN."""
        return self._by_arn(EntityKind.ROLE, arn)

    def identity_by_arn(self, arn: str) -> Entity | None:
        """The user or role `arn` names in this account, path included; None for any other
        ARN (a group is no principal)."""
        for kind in (EntityKind.USER, EntityKind.ROLE):
            if arn.startswith(f"arn:aws:iam::{self.account_id}:{kind.value}/"):
                return self._by_arn(kind, arn)
        return None

    def _by_arn(self, kind: EntityKind, arn: str) -> Entity | None:
        if not arn.startswith(f"arn:aws:iam::{self.account_id}:{kind.value}/"):
            return None
        try:
            entity = self.entities.get(kind, arn.rsplit("/", 1)[-1])
        except IdentityError:
            return None
        return entity if entity.arn(self.account_id) == arn else None

    def _changed(self, entity: Entity) -> None:
        self.keys.republish(entity)

    def create_user(
        self, name: str, path: str = "/", tags: Tags | None = None, boundary: str | None = None
    ) -> Entity:
        if boundary is not None:
            self.boundaries.check(boundary)
        user = self.entities.create(EntityKind.USER, name, path, tags)
        return self._with_boundary(user, boundary)

    def create_role(
        self,
        name: str,
        trust_policy: str,
        path: str = "/",
        description: str | None = None,
        max_session: int | None = None,
        tags: Tags | None = None,
        boundary: str | None = None,
    ) -> Entity:
        check_trust_policy(trust_policy, self)
        if boundary is not None:
            self.boundaries.check(boundary)
        attributes: dict[str, object] = {
            TRUST: trust_policy,
            MAX_SESSION: max_session or DEFAULT_MAX_SESSION,
        }
        if description is not None:
            attributes[DESCRIPTION] = description
        role = self.entities.create(EntityKind.ROLE, name, path, tags, attributes)
        return self._with_boundary(role, boundary)

    def _with_boundary(self, entity: Entity, boundary: str | None) -> Entity:
        # set before the identity has keys or sessions: nothing runs unbounded meanwhile
        if boundary is not None:
            self.boundaries.put(entity, boundary)
        return entity

    def update_trust_policy(self, role_name: str, trust_policy: str) -> None:
        check_trust_policy(trust_policy, self)
        self.entities.update(EntityKind.ROLE, role_name, attributes={TRUST: trust_policy})

    def update_role(self, role_name: str, description: str | None, max_session: int | None) -> None:
        attributes: dict[str, object] = {}
        if description is not None:
            attributes[DESCRIPTION] = description
        if max_session is not None:
            attributes[MAX_SESSION] = max_session
        self.entities.update(EntityKind.ROLE, role_name, attributes=attributes)
