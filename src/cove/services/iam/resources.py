"""The resource an IAM operation acts on, as its policy Resource names it, with the
condition keys its tags set (Service Authorization Reference, "Actions, resources, and
condition keys for AWS Identity and Access Management (IAM)",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html):

- the user, group or role its input names, with the identity's path when it exists; a
  user's or role's tags as aws:ResourceTag/<key> and iam:ResourceTag/<key> (groups have
  none); the caller's own user where UserName is optional and left out;
- AddUserToGroup and RemoveUserFromGroup act on the group (resource type group*), though
  they name a user too;
- the Create calls on what they create: the name under the input's Path, a policy's
  arn:aws:iam::<account>:policy<path><name>;
- UpdateUser and UpdateGroup that rename or move on the identity under its old and its
  new name, both ("to change Bob to Robert, the entity making the request must have
  permission on Bob and Robert", IAM API reference, "UpdateUser"; "UpdateGroup");
- the managed policy PolicyArn names, with its tags as aws:ResourceTag/<key>;
- SimulatePrincipalPolicy on the identity whose policies it simulates (PolicySourceArn);
- GetAccessKeyLastUsed on the user whose key it names;
- the operations that change what a user or role is allowed (Attach, Detach, Put and
  Delete of its policies, DeleteUserPermissionsBoundary and DeleteRolePermissionsBoundary)
  with its permissions boundary as iam:PermissionsBoundary, where it has one (IAM UG,
  "IAM condition context keys", https://docs.aws.amazon.com/IAM/latest/UserGuide/
  reference_policies_iam-condition-keys.html#ck_PermissionsBoundary; the Create calls and
  Put*PermissionsBoundary set the key from their input, condition_keys.py);
- "*" for the rest (ListUsers, ListPolicies, SimulateCustomPolicy, ...), which take no
  resource.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cove.gateway.operations import ResourceOf, Target
from cove.http.messages import RequestContext
from cove.iam.request import resource_tags
from cove.identity.directory import Directory
from cove.identity.entities import Entity
from cove.identity.errors import IdentityError
from cove.identity.kinds import EntityKind
from cove.services.iam.condition_keys import PERMISSIONS_BOUNDARY
from cove.services.iam.shapes import name_member

USER, GROUP, ROLE = EntityKind.USER, EntityKind.GROUP, EntityKind.ROLE
# The member naming the identity an operation acts on; AttachUserPolicy names a user and a
# policy, and acts on the user.
_NAMED = tuple((name_member(kind), kind) for kind in (USER, GROUP, ROLE))
_CREATES = {"CreateUser": USER, "CreateGroup": GROUP, "CreateRole": ROLE}
_ON_GROUP = frozenset({"AddUserToGroup", "RemoveUserFromGroup"})
_RENAMES = frozenset({"UpdateUser", "UpdateGroup"})
# The Service Authorization Reference's actions for iam:PermissionsBoundary that act on an
# existing user or role: they read the key from it (the Create calls and
# Put*PermissionsBoundary read it from their input).
_BOUNDARY_KEYED = frozenset(
    f"{verb}{kind}{what}"
    for kind in ("User", "Role")
    for verb, what in (("Attach", "Policy"), ("Detach", "Policy"), ("Put", "Policy"),
                       ("Delete", "Policy"), ("Delete", "PermissionsBoundary"))
)  # fmt: skip
# Operations whose UserName is optional act on the caller's own user without one.
_CALLERS_OWN = frozenset({
    "GetUser", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
})  # fmt: skip


def label(kind: EntityKind, name: str) -> str:
    """How IAM's denials name an identity an operation names: "on resource: user bob" (or
    role, group), where a Create call names its new ARN and SimulatePrincipalPolicy its
    PolicySourceArn; "policy <arn>" for a managed policy, "policy <name>" for the one
    CreatePolicy makes (AWS's answers, as quoted in terraform-provider-aws and aws-cdk
    threads, e.g. "iam:GetUser on resource: user deploy-user because no identity-based
    policy allows the iam:GetUser action", "iam:CreatePolicy on resource: policy
    lambda-apigateway-policy", "iam:GetPolicy on resource: policy arn:aws:iam::...")."""
    return f"{kind.value} {name}"


def entity_target(entity: Entity, arn: str, named: bool = True) -> Target:
    """An identity as a resource: users and roles define iam:ResourceTag/<key> besides
    aws:ResourceTag/<key> (IAM UG, "Controlling access to and for IAM users and roles
    using tags")."""
    tags = resource_tags(entity.tags, "iam")
    return Target(arn, tags, label=label(entity.kind, entity.name) if named else None)


def resource_of(directory: Directory) -> ResourceOf:
    account, entities = directory.account_id, directory.entities

    def arn(kind: EntityKind, name: str, path: str = "/") -> str:
        return f"arn:aws:iam::{account}:{kind.value}{path}{name}"

    def named(kind: EntityKind, name: str) -> tuple[Target, Entity | None]:
        try:
            entity = entities.get(kind, name)
        except IdentityError:  # the handler answers NoSuchEntity, once allowed
            return Target(arn(kind, name), label=label(kind, name)), None
        return entity_target(entity, entity.arn(account)), entity

    def policy(policy_arn: str) -> Target:
        try:
            tags = directory.policies.get(policy_arn).tags
        except IdentityError:
            tags = []
        return Target(policy_arn, resource_tags(tags), label=f"policy {policy_arn}")

    def identity(identity_arn: str, named: bool = True) -> Target:
        entity = directory.identity_by_arn(identity_arn)
        if entity is None:
            return Target(identity_arn)
        return entity_target(entity, identity_arn, named)

    def bounded(target: Target, entity: Entity) -> Target:
        boundary = directory.boundaries.of(entity)
        if boundary is None:
            return target
        return replace(target, keys=(*target.keys, (PERMISSIONS_BOUNDARY, boundary)))

    def key_holder(access_key_id: str) -> str | list[Target]:
        try:
            owner = directory.keys.holder(access_key_id)
        except IdentityError:  # the handler answers NoSuchEntity, once allowed
            return "*"
        return "*" if owner is None else [entity_target(owner, owner.arn(account))]

    def renamed(kind: EntityKind, entity: Entity, params: dict[str, Any]) -> list[Target]:
        new_name = params.get(f"New{name_member(kind)}") or entity.name
        new = arn(kind, new_name, params.get("NewPath") or entity.path)
        if new == entity.arn(account):
            return []
        return [Target(new, resource_tags(entity.tags, "iam"), label=label(kind, new_name))]

    def resource(ctx: RequestContext, operation: str, params: dict[str, Any]) -> str | list[Target]:
        created = _CREATES.get(operation)
        if created is not None:
            return [Target(arn(created, params[name_member(created)], params.get("Path", "/")))]
        if operation == "CreatePolicy":
            name = params["PolicyName"]
            policy_arn = directory.policies.arn_of(name, params.get("Path", "/"))
            return [Target(policy_arn, label=f"policy {name}")]
        if operation in _ON_GROUP:
            return [named(GROUP, params["GroupName"])[0]]
        if operation == "SimulatePrincipalPolicy":
            return [identity(params["PolicySourceArn"], named=False)]
        if operation in _CALLERS_OWN and not params.get("UserName") and ctx.principal:
            return [identity(ctx.principal.arn)]
        if operation == "GetAccessKeyLastUsed":
            return key_holder(params["AccessKeyId"])
        for member, kind in _NAMED:
            if isinstance(params.get(member), str):
                target, entity = named(kind, params[member])
                if operation in _RENAMES and entity is not None:
                    return [target, *renamed(kind, entity, params)]
                if operation in _BOUNDARY_KEYED and entity is not None:
                    return [bounded(target, entity)]
                return [target]
        if isinstance(params.get("PolicyArn"), str):
            return [policy(params["PolicyArn"])]
        return "*"

    return resource
