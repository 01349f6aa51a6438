"""CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser."""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.directory import Directory
from cove.identity.entities import Entity
from cove.identity.errors import IdentityError, IdentityFailure
from cove.identity.kinds import EntityKind
from cove.services.iam.paging import page
from cove.services.iam.shapes import entity_shape, when

USER = EntityKind.USER


def callers_user(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    """The user an operation with an optional UserName is about: the one named, else the
    caller's own (IAM API reference, "GetUser": "IAM determines the user name implicitly
    based on the AWS access key ID used to sign the request"); None for the root user."""
    if params.get("UserName"):
        return params["UserName"]
    principal = ctx.principal
    assert principal is not None  # the gateway authenticated the request
    if principal.is_root:
        return None
    if not principal.name:
        raise IdentityError(IdentityFailure.NOT_A_USER)
    return principal.name


def handlers(directory: Directory) -> dict[str, Handler]:
    entities, account = directory.entities, directory.account_id

    def full(user: Entity) -> dict[str, Any]:
        boundary = directory.boundaries.of(user)
        return entity_shape(user, account, tags=True, boundary=boundary)

    def create_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = directory.create_user(
            params["UserName"], params.get("Path", "/"), params.get("Tags"),
            params.get("PermissionsBoundary"),
        )  # fmt: skip
        return {"User": full(user)}

    def get_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = callers_user(ctx, params)
        if name is None:  # the root user: its account id as UserId, the root ARN
            assert ctx.principal is not None
            root = {"UserId": account, "Arn": ctx.principal.arn}
            return {"User": {**root, "CreateDate": when(directory.created)}}
        return {"User": full(entities.get(USER, name))}

    def list_users(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = entities.list(USER, params.get("PathPrefix", "/"))
        chosen, paging = page(found, params, identity=lambda u: u.entity_id)
        return {"Users": [entity_shape(u, account) for u in chosen], **paging}

    def update_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entities.update(USER, params["UserName"], params.get("NewUserName"), params.get("NewPath"))
        return {}

    def delete_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entities.delete(USER, params["UserName"])
        return {}

    return {
        "CreateUser": create_user,
        "GetUser": get_user,
        "ListUsers": list_users,
        "UpdateUser": update_user,
        "DeleteUser": delete_user,
    }
