"""IAM's output structures from identity records. Policy documents travel URL-encoded
(RFC 3986), as IAM sends them ("The policy document returned in this structure is
URL-encoded compliant with RFC 3986", IAM API reference, "PolicyVersion"); botocore
decodes them back into dicts for boto3 callers."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from cove.identity.boundaries import BOUNDARY_TYPE
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


def boundary_shape(arn: str | None) -> dict[str, Any]:
    """The PermissionsBoundary member of a User or Role (IAM API reference,
    "AttachedPermissionsBoundary"), none without a boundary."""
    if arn is None:
        return {}
    return {"PermissionsBoundary": {"PermissionsBoundaryType": BOUNDARY_TYPE,
                                    "PermissionsBoundaryArn": arn}}  # fmt: skip


def identity_shape(entity: Entity, account_id: str) -> dict[str, Any]:
    """What every User, Group and Role structure starts with."""
    kind = entity.kind
    return {
        "Path": entity.path,
        name_member(kind): entity.name,
        f"{kind.title}Id": entity.entity_id,
        "Arn": entity.arn(account_id),
        "CreateDate": when(entity.created),
    }


def entity_shape(
    entity: Entity, account_id: str, tags: bool = False, boundary: str | None = None
) -> dict[str, Any]:
    """A User, Group or Role. The List calls leave out its tags and boundary ("This
    operation does not return the following attributes, even though they are an attribute
    of the returned object: PermissionsBoundary, Tags", IAM API reference, "ListUsers")."""
    kind = entity.kind
    shape = identity_shape(entity, account_id)
    if kind is EntityKind.ROLE:
        role = RoleView(entity)
        shape["AssumeRolePolicyDocument"] = encoded(role.trust_policy)
        shape["MaxSessionDuration"] = role.max_session
        if role.description is not None:
            shape["Description"] = role.description
    if tags and entity.tags:
        shape["Tags"] = entity.tags
    return {**shape, **boundary_shape(boundary)}


def policy_shape(
    policy: ManagedPolicy, attachments: int, boundary_uses: int, full: bool = False
) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version,
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundary_uses,
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
