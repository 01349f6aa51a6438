"""CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
UpdateAssumeRolePolicy, DeleteRole."""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.directory import Directory
from cove.identity.entities import Entity
from cove.identity.kinds import EntityKind
from cove.services.iam.paging import page
from cove.services.iam.shapes import entity_shape

ROLE = EntityKind.ROLE


def handlers(directory: Directory) -> dict[str, Handler]:
    entities, account = directory.entities, directory.account_id

    def full(role: Entity) -> dict[str, Any]:
        boundary = directory.boundaries.of(role)
        return entity_shape(role, account, tags=True, boundary=boundary)

    def create_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = directory.create_role(
            params["RoleName"],
            params["AssumeRolePolicyDocument"],
            params.get("Path", "/"),
            params.get("Description"),
            params.get("MaxSessionDuration"),
            params.get("Tags"),
            params.get("PermissionsBoundary"),
        )
        return {"Role": full(role)}

    def get_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Role": full(entities.get(ROLE, params["RoleName"]))}

    def list_roles(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = entities.list(ROLE, params.get("PathPrefix", "/"))
        chosen, paging = page(found, params, identity=lambda r: r.entity_id)
        return {"Roles": [entity_shape(r, account) for r in chosen], **paging}

    def update_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        directory.update_role(
            params["RoleName"], params.get("Description"), params.get("MaxSessionDuration")
        )
        return {}

    def update_role_description(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        directory.update_role(params["RoleName"], params["Description"], None)
        return {"Role": full(entities.get(ROLE, params["RoleName"]))}

    def update_assume_role_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        directory.update_trust_policy(params["RoleName"], params["PolicyDocument"])
        return {}

    def delete_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entities.delete(ROLE, params["RoleName"])
        return {}

    return {
        "CreateRole": create_role,
        "GetRole": get_role,
        "ListRoles": list_roles,
        "UpdateRole": update_role,
        "UpdateRoleDescription": update_role_description,
        "UpdateAssumeRolePolicy": update_assume_role_policy,
        "DeleteRole": delete_role,
    }
