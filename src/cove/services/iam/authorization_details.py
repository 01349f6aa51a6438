"""GetAccountAuthorizationDetails: the account's users, groups, roles and managed policies
with how they relate, in one answer (IAM API reference, "GetAccountAuthorizationDetails",
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html;
"UserDetail", "GroupDetail", "RoleDetail", "ManagedPolicyDetail"):

- each identity with its inline policies (documents URL-encoded, as IAM returns them
  everywhere), its attached managed policies, a user's groups, a role's trust policy, a
  user's or role's permissions boundary and tags; roles have no instance profiles in
  Cove, so InstanceProfileList is empty;
- Policies: every customer managed policy, and the AWS managed ones the account uses
  (attached, or a boundary), each with all its versions' documents (the AWS CLI's example
  answer lists AmazonEC2FullAccess, attached once, beside the account's own);
- Filter picks the kinds (User, Group, Role, LocalManagedPolicy, AWSManagedPolicy), all
  without one;
- the four lists page as one (MaxItems, Marker): users, groups, roles, then policies,
  each in name order.
"""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.directory import Directory
from cove.identity.entities import Entity
from cove.identity.kinds import EntityKind
from cove.identity.policies import ManagedPolicy
from cove.identity.roles import RoleView
from cove.services.iam.paging import page
from cove.services.iam.shapes import (
    boundary_shape,
    encoded,
    identity_shape,
    policy_shape,
    version_shape,
)

_KINDS = {  # a kind's Filter value, its list, and its inline policies' member
    EntityKind.USER: ("User", "UserDetailList", "UserPolicyList"),
    EntityKind.GROUP: ("Group", "GroupDetailList", "GroupPolicyList"),
    EntityKind.ROLE: ("Role", "RoleDetailList", "RolePolicyList"),
}
LOCAL, AWS = "LocalManagedPolicy", "AWSManagedPolicy"
ALL = frozenset({*(names[0] for names in _KINDS.values()), LOCAL, AWS})

Item = Entity | ManagedPolicy


def _identity(item: Item) -> str:
    return item.entity_id if isinstance(item, Entity) else item.arn


def handlers(directory: Directory) -> dict[str, Handler]:
    entities, policies, boundaries = directory.entities, directory.policies, directory.boundaries
    account = directory.account_id

    def items(wanted: frozenset[str]) -> list[Item]:
        found: list[Item] = []
        for kind, (name, _, _) in _KINDS.items():
            if name in wanted:
                found += entities.list(kind)
        if LOCAL in wanted or AWS in wanted:
            used = policies.attached_arns() | boundaries.in_use()
            found += [p for p in policies.list(local=LOCAL in wanted, aws=AWS in wanted)
                      if not p.aws_managed or p.arn in used]  # fmt: skip
        return found

    def entity_detail(entity: Entity) -> dict[str, Any]:
        kind = entity.kind
        inline = [{"PolicyName": p.name, "PolicyDocument": encoded(p.document)}
                  for p in directory.inline.of(entity)]  # fmt: skip
        attached = [{"PolicyName": p.name, "PolicyArn": p.arn}
                    for p in policies.attached_to(entity)]  # fmt: skip
        detail = {
            **identity_shape(entity, account),
            _KINDS[kind][2]: inline,
            "AttachedManagedPolicies": attached,
        }
        if kind is EntityKind.USER:
            detail["GroupList"] = [g.name for g in directory.memberships.groups_of(entity)]
        if kind is EntityKind.ROLE:
            detail["AssumeRolePolicyDocument"] = encoded(RoleView(entity).trust_policy)
            detail["InstanceProfileList"] = []
        if kind is not EntityKind.GROUP:
            detail |= boundary_shape(boundaries.of(entity))
            if entity.tags:
                detail["Tags"] = entity.tags
        return detail

    def policy_detail(policy: ManagedPolicy) -> dict[str, Any]:
        arn = policy.arn
        detail = policy_shape(policy, policies.attachment_count(arn), boundaries.usage_count(arn))
        if policy.description:
            detail["Description"] = policy.description
        detail["PolicyVersionList"] = [version_shape(v) for v in policies.versions(arn)]
        return detail

    def get_account_authorization_details(
        ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        wanted = frozenset(params.get("Filter") or ALL)
        chosen, paging = page(items(wanted), params, identity=_identity)
        out: dict[str, list[dict[str, Any]]] = {
            **{names[1]: [] for names in _KINDS.values()},
            "Policies": [],
        }
        for item in chosen:
            if isinstance(item, Entity):
                out[_KINDS[item.kind][1]].append(entity_detail(item))
            else:
                out["Policies"].append(policy_detail(item))
        return {**out, **paging}

    return {"GetAccountAuthorizationDetails": get_account_authorization_details}
