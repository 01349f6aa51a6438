"""The operations IAM repeats per kind of identity, written once: tags (TagUser,
UntagRole, ListUserTags, ...), permissions boundaries (PutUserPermissionsBoundary,
DeleteRolePermissionsBoundary, ...), inline policies (PutUserPolicy, GetGroupPolicy,
DeleteRolePolicy, ListUserPolicies, ...) and managed-policy attachments
(AttachUserPolicy, DetachGroupPolicy, ListAttachedRolePolicies, ...)."""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.directory import Directory
from cove.identity.entities import Tags
from cove.identity.kinds import EntityKind
from cove.services.iam.paging import page
from cove.services.iam.shapes import encoded, name_member

# IAM tags users and roles (and policies), not groups; and bounds users and roles.
TAGGED = BOUNDED = (EntityKind.USER, EntityKind.ROLE)


def tags_page(tags: Tags, params: dict[str, Any]) -> dict[str, Any]:
    """A List*Tags answer: "The returned list of tags is sorted by tag key." (IAM API
    reference, "ListUserTags", "ListRoleTags", "ListPolicyTags")."""
    ordered = sorted(tags, key=lambda t: t["Key"])
    chosen, paging = page(ordered, params, identity=lambda t: t["Key"].lower())
    return {"Tags": chosen, **paging}


def tag_handlers(directory: Directory, kind: EntityKind) -> dict[str, Handler]:
    entities, member, title = directory.entities, name_member(kind), kind.title

    def tag(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entities.tag(kind, params[member], params["Tags"])
        return {}

    def untag(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entities.untag(kind, params[member], params["TagKeys"])
        return {}

    def list_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return tags_page(entities.get(kind, params[member]).tags, params)

    return {f"Tag{title}": tag, f"Untag{title}": untag, f"List{title}Tags": list_tags}


def boundary_handlers(directory: Directory, kind: EntityKind) -> dict[str, Handler]:
    """Put*PermissionsBoundary sets or replaces the boundary; Delete*PermissionsBoundary
    removes it, and answers as well where there is none (Terraform's provider called it
    on every role it deleted, with a boundary or without,
    https://github.com/hashicorp/terraform-provider-aws/issues/5489)."""
    entities, boundaries, member, title = (
        directory.entities, directory.boundaries, name_member(kind), kind.title
    )  # fmt: skip

    def put(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        boundaries.put(entities.get(kind, params[member]), params["PermissionsBoundary"])
        return {}

    def delete(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        boundaries.delete(entities.get(kind, params[member]))
        return {}

    return {f"Put{title}PermissionsBoundary": put, f"Delete{title}PermissionsBoundary": delete}


def inline_handlers(directory: Directory, kind: EntityKind) -> dict[str, Handler]:
    entities, inline, member, title = (
        directory.entities, directory.inline, name_member(kind), kind.title
    )  # fmt: skip

    def put(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = entities.get(kind, params[member])
        inline.put(entity, params["PolicyName"], params["PolicyDocument"])
        return {}

    def get(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = entities.get(kind, params[member])
        policy = inline.get(entity, params["PolicyName"])
        return {member: entity.name, "PolicyName": policy.name,
                "PolicyDocument": encoded(policy.document)}  # fmt: skip

    def delete(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        inline.delete(entities.get(kind, params[member]), params["PolicyName"])
        return {}

    def list_names(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = [p.name for p in inline.of(entities.get(kind, params[member]))]
        chosen, paging = page(names, params, identity=str.lower)
        return {"PolicyNames": chosen, **paging}

    return {
        f"Put{title}Policy": put,
        f"Get{title}Policy": get,
        f"Delete{title}Policy": delete,
        f"List{title}Policies": list_names,
    }


def attachment_handlers(directory: Directory, kind: EntityKind) -> dict[str, Handler]:
    entities, policies, member, title = (
        directory.entities, directory.policies, name_member(kind), kind.title
    )  # fmt: skip

    def attach(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policies.attach(entities.get(kind, params[member]), params["PolicyArn"])
        return {}

    def detach(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policies.detach(entities.get(kind, params[member]), params["PolicyArn"])
        return {}

    def list_attached(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("PathPrefix", "/")
        found = [p for p in policies.attached_to(entities.get(kind, params[member]))
                 if p.path.startswith(prefix)]  # fmt: skip
        chosen, paging = page(found, params, identity=lambda p: p.arn)
        attached = [{"PolicyName": p.name, "PolicyArn": p.arn} for p in chosen]
        return {"AttachedPolicies": attached, **paging}

    return {
        f"Attach{title}Policy": attach,
        f"Detach{title}Policy": detach,
        f"ListAttached{title}Policies": list_attached,
    }


def handlers(directory: Directory) -> dict[str, Handler]:
    found: dict[str, Handler] = {}
    for kind in EntityKind:
        found |= inline_handlers(directory, kind) | attachment_handlers(directory, kind)
        if kind in TAGGED:
            found |= tag_handlers(directory, kind)
        if kind in BOUNDED:
            found |= boundary_handlers(directory, kind)
    return found
