"""IAM's output structures from identity records. Policy documents travel URL-encoded
(RFC 3986), as IAM sends them ("The policy document returned in this structure is
URL-encoded compliant with RFC 3986", IAM API reference, "PolicyVersion"); botocore
decodes them back into dicts for boto3 callers."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from cove.identity.entities import Entity
from cove.identity.kinds import EntityKind
from cove.identity.policies import ManagedPolicy, PolicyVersion
from cove.identity.roles import RoleView


def when(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def encoded(document: str) -> str:
    return quote(document, safe="")


def name_member(kind: EntityKind) -> str:
    """UserName, GroupName, RoleName: how operations name an identity of the kind."""
    return f"{kind.title}Name"


def entity_shape(entity: Entity, account_id: str, tags: bool = False) -> dict[str, Any]:
    kind = entity.kind
    shape: dict[str, Any] = {
        "Path": entity.path,
        name_member(kind): entity.name,
        f"{kind.title}Id": entity.entity_id,
        "Arn": entity.arn(account_id),
        "CreateDate": when(entity.created),
    }
    if kind is EntityKind.ROLE:
        role = RoleView(entity)
        shape["AssumeRolePolicyDocument"] = encoded(role.trust_policy)
        shape["MaxSessionDuration"] = role.max_session
        if role.description is not None:
            shape["Description"] = role.description
    if tags and entity.tags:
        shape["Tags"] = entity.tags
    return shape


def policy_shape(policy: ManagedPolicy, attachments: int, full: bool = False) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version,
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": when(policy.created),
        "UpdateDate": when(policy.updated),
    }
    if full:  # GetPolicy and CreatePolicy; the List calls leave these out
        if policy.description:
            shape["Description"] = policy.description
        if policy.tags:
            shape["Tags"] = policy.tags
    return shape


def version_shape(version: PolicyVersion, document: bool = True) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "VersionId": version.version_id,
        "IsDefaultVersion": version.is_default,
        "CreateDate": when(version.created),
    }
    if document:
        shape["Document"] = encoded(version.document)
    return shape
