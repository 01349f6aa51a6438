"""CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, CreatePolicyVersion,
GetPolicyVersion, ListPolicyVersions, SetDefaultPolicyVersion, DeletePolicyVersion,
ListEntitiesForPolicy, TagPolicy, UntagPolicy, ListPolicyTags."""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.directory import Directory
from cove.identity.kinds import EntityKind
from cove.services.iam.paging import page
from cove.services.iam.per_kind import tags_page
from cove.services.iam.shapes import policy_shape, version_shape

# ListPolicies' Scope: the account's own (Local), AWS's, or both (All, the default).
_SCOPES = {"All": (True, True), "Local": (True, False), "AWS": (False, True)}
_ENTITY_LISTS = {
    EntityKind.GROUP: "PolicyGroups",
    EntityKind.USER: "PolicyUsers",
    EntityKind.ROLE: "PolicyRoles",
}
_ENTITY_ORDER = list(_ENTITY_LISTS)
_PERMISSIONS_USE, _BOUNDARY_USE = "PermissionsPolicy", "PermissionsBoundary"


def handlers(directory: Directory) -> dict[str, Handler]:
    policies, boundaries = directory.policies, directory.boundaries

    def shape(arn: str, full: bool = False) -> dict[str, Any]:
        return policy_shape(
            policies.get(arn), policies.attachment_count(arn), boundaries.usage_count(arn), full
        )

    def create_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = policies.create(
            params["PolicyName"],
            params["PolicyDocument"],
            params.get("Path", "/"),
            params.get("Description", ""),
            params.get("Tags"),
        )
        return {"Policy": shape(policy.arn, full=True)}

    def get_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Policy": shape(params["PolicyArn"], full=True)}

    def list_policies(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        local, aws = _SCOPES[params.get("Scope", "All")]
        found = policies.list(params.get("PathPrefix", "/"), local=local, aws=aws)
        counts = {p.arn: policies.attachment_count(p.arn) for p in found}
        if params.get("OnlyAttached"):
            found = [p for p in found if counts[p.arn]]
        chosen, paging = page(found, params, identity=lambda p: p.arn)
        listed = [policy_shape(p, counts[p.arn], boundaries.usage_count(p.arn)) for p in chosen]
        return {"Policies": listed, **paging}

    def delete_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policies.delete(params["PolicyArn"])
        return {}

    def create_policy_version(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        version = policies.create_version(
            params["PolicyArn"], params["PolicyDocument"], bool(params.get("SetAsDefault"))
        )
        return {"PolicyVersion": version_shape(version, document=False)}

    def get_policy_version(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        version = policies.version(params["PolicyArn"], params["VersionId"])
        return {"PolicyVersion": version_shape(version)}

    def list_policy_versions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = policies.versions(params["PolicyArn"])
        chosen, paging = page(found, params, identity=lambda v: v.version_id)
        return {"Versions": [version_shape(v, document=False) for v in chosen], **paging}

    def set_default_policy_version(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policies.set_default(params["PolicyArn"], params["VersionId"])
        return {}

    def delete_policy_version(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policies.delete_version(params["PolicyArn"], params["VersionId"])
        return {}

    def entity_ids(arn: str, usage: str | None) -> list[str]:
        """The identities `arn` is attached to, is the boundary of, or both (IAM API
        reference, "ListEntitiesForPolicy": PolicyUsageFilter "PermissionsPolicy" lists
        the first, "PermissionsBoundary" the second, none all)."""
        attached = policies.entities_of(arn)  # NoSuchEntity for no such policy
        ids = [] if usage == _BOUNDARY_USE else attached
        if usage != _PERMISSIONS_USE:
            ids = [*ids, *boundaries.entities_of(arn)]
        return list(dict.fromkeys(ids))

    def list_entities_for_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted, prefix = params.get("EntityFilter"), params.get("PathPrefix", "/")
        ids = entity_ids(params["PolicyArn"], params.get("PolicyUsageFilter"))
        found = [e for e in map(directory.entities.by_id, ids)
                 if e is not None and e.path.startswith(prefix)
                 and wanted in (None, e.kind.title)]  # fmt: skip
        # the three lists page as one (one Marker): groups, users, roles, each by name
        found.sort(key=lambda e: (_ENTITY_ORDER.index(e.kind), e.name.lower()))
        chosen, paging = page(found, params, identity=lambda e: e.entity_id)
        out: dict[str, Any] = {name: [] for name in _ENTITY_LISTS.values()}
        for entity in chosen:
            title = entity.kind.title
            out[_ENTITY_LISTS[entity.kind]].append(
                {f"{title}Name": entity.name, f"{title}Id": entity.entity_id}
            )
        return {**out, **paging}

    def tag_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policies.tag(params["PolicyArn"], params["Tags"])
        return {}

    def untag_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policies.untag(params["PolicyArn"], params["TagKeys"])
        return {}

    def list_policy_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return tags_page(policies.get(params["PolicyArn"]).tags, params)

    return {
        "TagPolicy": tag_policy,
        "UntagPolicy": untag_policy,
        "ListPolicyTags": list_policy_tags,
        "CreatePolicy": create_policy,
        "GetPolicy": get_policy,
        "ListPolicies": list_policies,
        "DeletePolicy": delete_policy,
        "CreatePolicyVersion": create_policy_version,
        "GetPolicyVersion": get_policy_version,
        "ListPolicyVersions": list_policy_versions,
        "SetDefaultPolicyVersion": set_default_policy_version,
        "DeletePolicyVersion": delete_policy_version,
        "ListEntitiesForPolicy": list_entities_for_policy,
    }
