"""CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser, TagUser, UntagUser, ListUserTags."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import Principal, RequestContext
from cove.identity.errors import IdentityError, IdentityFailure
from cove.identity.users import User, Users
from cove.services.iam.paging import page


def when(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def user_shape(user: User, account_id: str, tags: bool = False) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": user.arn(account_id),
        "CreateDate": when(user.created),
    }
    if tags and user.tags:
        shape["Tags"] = user.tags
    return shape


def callers_user(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    """The user an operation with an optional UserName is about: the one named, else the
    caller's own (None for the root user, whose keys belong to the account)."""
    if params.get("UserName"):
        return params["UserName"]
    principal = ctx.principal
    assert principal is not None  # the gateway authenticated the request
    if principal.is_root:
        return None
    if not principal.name:
        raise IdentityError(IdentityFailure.NOT_A_USER)
    return principal.name


def _root_shape(principal: Principal) -> dict[str, Any]:
    # what GetUser answers the root user: its account id as UserId, the root ARN
    return {"UserId": principal.account_id, "Arn": principal.arn}


def handlers(users: Users) -> dict[str, Handler]:
    account = users.account_id

    def create_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = users.create(params["UserName"], params.get("Path", "/"), params.get("Tags"))
        return {"User": user_shape(user, account, tags=True)}

    def get_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = callers_user(ctx, params)
        if name is None:
            assert ctx.principal is not None
            return {"User": _root_shape(ctx.principal)}
        return {"User": user_shape(users.get(name), account, tags=True)}

    def list_users(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = users.list(params.get("PathPrefix", "/"))
        chosen, paging = page(found, params, key=lambda u: u.name.lower())
        return {"Users": [user_shape(u, account) for u in chosen], **paging}

    def update_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        users.update(params["UserName"], params.get("NewUserName"), params.get("NewPath"))
        return {}

    def delete_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        users.delete(params["UserName"])
        return {}

    def tag_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        users.tag(params["UserName"], params["Tags"])
        return {}

    def untag_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        users.untag(params["UserName"], params["TagKeys"])
        return {}

    def list_user_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = users.get(params["UserName"]).tags
        chosen, paging = page(tags, params, key=lambda t: t["Key"])
        return {"Tags": chosen, **paging}

    return {
        "CreateUser": create_user,
        "GetUser": get_user,
        "ListUsers": list_users,
        "UpdateUser": update_user,
        "DeleteUser": delete_user,
        "TagUser": tag_user,
        "UntagUser": untag_user,
        "ListUserTags": list_user_tags,
    }
