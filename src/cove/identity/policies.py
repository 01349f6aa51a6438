"""Customer managed policies with their versions, the AWS managed policies Cove ships as
data (read-only), and which identities they are attached to.

IAM's rules (IAM User Guide, "Versioning IAM policies", "IAM and AWS STS quotas"): at
most five versions, numbered v1, v2, ... and never reused; the default version cannot be
deleted; a policy is deleted only once detached and down to its default version; a
document is at most 6,144 characters without whitespace; each identity has at most 10
managed policies attached. Customer managed policies take tags as users and roles do
(IAM UG, "Tagging customer managed policies"); AWS managed ones take none."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import importlib.resources
import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from cove.iam.documents import MANAGED_POLICY_MAX_SIZE, PolicyKind, parse_policy, policy_size
from cove.identity.changes import Changes
from cove.identity.entities import (
    Entity,
    Tags,
    checked_tags,
    merged_tags,
    new_id,
    without_tags,
)
from cove.identity.errors import IdentityError, IdentityFailure
from cove.identity.kinds import MAX_ATTACHED_POLICIES
from cove.identity.tables import (
    attachments_table,
    boundaries_table,
    policies_table,
    policy_versions_table,
)

MAX_VERSIONS = 5
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


@dataclass
class ManagedPolicy:
    arn: str
    name: str
    policy_id: str
    path: str
    description: str
    default_version: str
    created: float
    updated: float
    tags: Tags = field(default_factory=list)
    aws_managed: bool = False


@dataclass
class PolicyVersion:
    version_id: str
    document: str
    created: float
    is_default: bool


def check_identity_policy(document: str) -> None:
    """MalformedPolicyDocument unless `document` is an identity policy IAM would take."""
    parse_policy(document, PolicyKind.IDENTITY, require_version=True)
    if policy_size(document) > MANAGED_POLICY_MAX_SIZE:
        raise IdentityError(IdentityFailure.POLICY_TOO_LARGE)


@dataclass(frozen=True)
class _Shipped:
    policy: ManagedPolicy
    document: str


@functools.cache
def aws_managed() -> dict[str, _Shipped]:
    """The AWS managed policies in cove/data, by ARN."""
    path = importlib.resources.files("cove.data") / "aws_managed_policies.json"
    if not path.is_file():
        return {}
    shipped: dict[str, _Shipped] = {}
    for doc in json.loads(path.read_text()):
        # the same id on every start, as AWS's policies keep theirs; dated by their version
        digest = base64.b32encode(hashlib.sha256(doc["Arn"].encode()).digest()).decode()
        dated = dt.datetime.fromisoformat(doc["SourceDate"][:10]).replace(tzinfo=dt.UTC)
        policy = ManagedPolicy(
            doc["Arn"], doc["PolicyName"], "ANPA" + digest[:17], doc["Path"],
            doc.get("Description", ""), doc["DefaultVersionId"], dated.timestamp(),
            dated.timestamp(), aws_managed=True,
        )  # fmt: skip
        shipped[doc["Arn"]] = _Shipped(policy, json.dumps(doc["Document"]))
    return shipped


def _policy(row: Any) -> ManagedPolicy:
    return ManagedPolicy(
        row.arn, row.name, row.policy_id, row.path, row.description, row.default_version,
        row.created, row.updated, json.loads(row.tags),
    )  # fmt: skip


class ManagedPolicies:
    def __init__(self, engine: Engine, account_id: str, changes: Changes) -> None:
        self.engine = engine
        self.account_id = account_id
        self.changes = changes

    def arn_of(self, name: str, path: str) -> str:
        return f"arn:aws:iam::{self.account_id}:policy{path}{name}"

    # -- policies -----------------------------------------------------------------------

    def create(
        self, name: str, document: str, path: str = "/", description: str = "",
        tags: Tags | None = None,
    ) -> ManagedPolicy:  # fmt: skip
        check_identity_policy(document)
        now = time.time()
        policy = ManagedPolicy(
            self.arn_of(name, path), name, new_id("ANPA"), path, description, "v1", now, now,
            checked_tags(tags or []),
        )  # fmt: skip
        p = policies_table
        with self.engine.begin() as conn:
            taken = conn.execute(select(p.c.arn).where(p.c.key == name.lower())).first()
            if taken is not None:
                raise IdentityError(IdentityFailure.POLICY_EXISTS, Name=name)
            conn.execute(
                insert(p).values(
                    arn=policy.arn, key=name.lower(), name=name, policy_id=policy.policy_id,
                    path=path, description=description, default_version="v1",
                    next_version=2, created=now, updated=now, tags=json.dumps(policy.tags),
                )
            )  # fmt: skip
            conn.execute(
                insert(policy_versions_table).values(
                    arn=policy.arn, version_id="v1", document=document, created=now
                )
            )
        self.changes.bump()
        return policy

    def get(
        self, arn: str, missing: IdentityFailure = IdentityFailure.POLICY_NOT_FOUND
    ) -> ManagedPolicy:
        shipped = aws_managed().get(arn)
        if shipped is not None:
            return shipped.policy
        with self.engine.connect() as conn:
            row = conn.execute(select(policies_table).where(policies_table.c.arn == arn)).first()
        if row is None:
            raise IdentityError(missing, Arn=arn)
        return _policy(row)

    def list(
        self, path_prefix: str = "/", local: bool = True, aws: bool = True
    ) -> list[ManagedPolicy]:
        found: list[ManagedPolicy] = []
        if aws:
            found += [s.policy for s in aws_managed().values()]
        if local:
            with self.engine.connect() as conn:
                found += [_policy(r) for r in conn.execute(select(policies_table)).all()]
        return sorted(
            (p for p in found if p.path.startswith(path_prefix)), key=lambda p: p.name.lower()
        )

    def delete(self, arn: str) -> None:
        self._own(arn, "delete policies")
        p, v = policies_table, policy_versions_table
        with self.engine.begin() as conn:
            # a policy some identity has as its permissions boundary is as attached: "it
            # says that I cannot do it because it's attached to an entity as a
            # permissions boundary" (https://github.com/gruntwork-io/cloud-nuke/issues/972)
            if self._attachment_count(conn, arn) or self._boundary_count(conn, arn):
                raise IdentityError(IdentityFailure.POLICY_ATTACHED)
            versions = conn.execute(select(func.count()).select_from(v).where(v.c.arn == arn))
            if versions.scalar_one() > 1:
                raise IdentityError(IdentityFailure.POLICY_HAS_VERSIONS)
            conn.execute(delete(v).where(v.c.arn == arn))
            conn.execute(delete(p).where(p.c.arn == arn))
        self.changes.bump()

    def tag(self, arn: str, tags: Tags) -> None:
        policy = self._own(arn, "tag policies")
        self._save_tags(arn, merged_tags(policy.tags, tags))

    def untag(self, arn: str, keys: list[str]) -> None:
        policy = self._own(arn, "untag policies")
        self._save_tags(arn, without_tags(policy.tags, keys))

    def _save_tags(self, arn: str, tags: Tags) -> None:
        p = policies_table
        with self.engine.begin() as conn:
            conn.execute(update(p).where(p.c.arn == arn).values(tags=json.dumps(tags)))
        self.changes.bump()  # aws:ResourceTag/... may read them

    # -- versions -----------------------------------------------------------------------

    def versions(self, arn: str) -> list[PolicyVersion]:
        policy = self.get(arn, IdentityFailure.NO_SUCH_POLICY)
        if policy.aws_managed:
            shipped = aws_managed()[arn]
            return [PolicyVersion(policy.default_version, shipped.document, 0.0, True)]
        v = policy_versions_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(v).where(v.c.arn == arn).order_by(v.c.created)).all()
        return [
            PolicyVersion(
                r.version_id, r.document, r.created, r.version_id == policy.default_version
            )
            for r in reversed(rows)
        ]

    def version(self, arn: str, version_id: str) -> PolicyVersion:
        for found in self.versions(arn):
            if found.version_id == version_id:
                return found
        raise IdentityError(IdentityFailure.NO_SUCH_POLICY_VERSION, Arn=arn, VersionId=version_id)

    def create_version(self, arn: str, document: str, set_default: bool) -> PolicyVersion:
        self._own(arn, "update policies", missing=IdentityFailure.NO_SUCH_POLICY)
        check_identity_policy(document)
        p, v = policies_table, policy_versions_table
        now = time.time()
        with self.engine.begin() as conn:
            row = conn.execute(select(p).where(p.c.arn == arn)).one()
            count = conn.execute(select(func.count()).select_from(v).where(v.c.arn == arn))
            if count.scalar_one() >= MAX_VERSIONS:
                raise IdentityError(IdentityFailure.TOO_MANY_VERSIONS)
            version_id = f"v{int(row.next_version)}"
            conn.execute(insert(v).values(arn=arn, version_id=version_id, document=document,
                                          created=now))  # fmt: skip
            values: dict[str, Any] = {"next_version": row.next_version + 1, "updated": now}
            if set_default:
                values["default_version"] = version_id
            conn.execute(update(p).where(p.c.arn == arn).values(**values))
        self.changes.bump()
        return PolicyVersion(version_id, document, now, set_default)

    def set_default(self, arn: str, version_id: str) -> None:
        self._own(arn, "update policies", missing=IdentityFailure.NO_SUCH_POLICY)
        self.version(arn, version_id)
        p = policies_table
        with self.engine.begin() as conn:
            conn.execute(update(p).where(p.c.arn == arn).values(
                default_version=version_id, updated=time.time()))  # fmt: skip
        self.changes.bump()

    def delete_version(self, arn: str, version_id: str) -> None:
        self._own(
            arn, "delete policy versions for policies", missing=IdentityFailure.NO_SUCH_POLICY
        )
        if self.version(arn, version_id).is_default:
            raise IdentityError(IdentityFailure.DEFAULT_VERSION)
        v = policy_versions_table
        with self.engine.begin() as conn:
            conn.execute(delete(v).where(v.c.arn == arn, v.c.version_id == version_id))
        self.changes.bump()

    def default_document(self, arn: str) -> str | None:
        """The document of the policy's default version; None once it is gone."""
        try:
            policy = self.get(arn)
            return self.version(arn, policy.default_version).document
        except IdentityError:
            return None

    # -- attachments --------------------------------------------------------------------

    def attach(self, entity: Entity, arn: str) -> None:
        self.get(arn, IdentityFailure.NO_SUCH_POLICY)
        a = attachments_table
        with self.engine.begin() as conn:
            mine = conn.execute(
                select(a.c.policy_arn).where(a.c.entity_id == entity.entity_id)
            ).all()
            if arn in {row.policy_arn for row in mine}:
                return  # attaching again changes nothing
            if len(mine) >= MAX_ATTACHED_POLICIES:
                raise IdentityError(
                    IdentityFailure.TOO_MANY_ATTACHED, Quota=entity.kind.attached_quota
                )
            conn.execute(insert(a).values(entity_id=entity.entity_id, policy_arn=arn))
        self.changes.bump()

    def detach(self, entity: Entity, arn: str) -> None:
        a = attachments_table
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(a).where(a.c.entity_id == entity.entity_id, a.c.policy_arn == arn)
            )
        if gone.rowcount == 0:
            raise IdentityError(IdentityFailure.POLICY_NOT_FOUND, Arn=arn)
        self.changes.bump()

    def attached_to(self, entity: Entity) -> list[ManagedPolicy]:
        a = attachments_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(a.c.policy_arn).where(a.c.entity_id == entity.entity_id)
            ).all()
        found = []
        for row in rows:
            try:
                found.append(self.get(row.policy_arn))
            except IdentityError:
                continue  # a shipped policy no longer in this version's data
        return sorted(found, key=lambda p: p.name.lower())

    def entities_of(self, arn: str) -> list[str]:
        """The ids of the identities `arn` is attached to."""
        self.get(arn, IdentityFailure.NO_SUCH_POLICY)
        a = attachments_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(a.c.entity_id).where(a.c.policy_arn == arn)).all()
        return [row.entity_id for row in rows]

    def attachment_count(self, arn: str) -> int:
        with self.engine.connect() as conn:
            return self._attachment_count(conn, arn)

    def attached_arns(self) -> set[str]:
        """Every policy ARN attached to some identity."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(attachments_table.c.policy_arn).distinct()).all()
        return {row.policy_arn for row in rows}

    @staticmethod
    def _boundary_count(conn: Connection, arn: str) -> int:
        b = boundaries_table
        query = select(func.count()).select_from(b).where(b.c.policy_arn == arn)
        return int(conn.execute(query).scalar_one())

    @staticmethod
    def _attachment_count(conn: Connection, arn: str) -> int:
        a = attachments_table
        query = select(func.count()).select_from(a).where(a.c.policy_arn == arn)
        return int(conn.execute(query).scalar_one())

    def _own(
        self, arn: str, verb: str, missing: IdentityFailure = IdentityFailure.POLICY_NOT_FOUND
    ) -> ManagedPolicy:
        """Only the account's own policies change; AWS's are refused as IAM refuses."""
        policy = self.get(arn, missing)
        if policy.aws_managed:
            raise IdentityError(IdentityFailure.AWS_MANAGED, Verb=verb)
        return policy
