"""CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey.

Without a UserName each acts on the caller's own keys (IAM API reference,
"CreateAccessKey": "IAM determines the user name implicitly based on the AWS access key
ID signing the request"); for the root user those are the account's root keys."""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.users import AccessKey, KeyStatus, Users
from cove.services.iam.paging import page
from cove.services.iam.users import callers_user, when


def key_metadata(key: AccessKey) -> dict[str, Any]:
    shape = {"AccessKeyId": key.access_key_id, "Status": key.status.value,
             "CreateDate": when(key.created)}  # fmt: skip
    if key.user_name is not None:
        shape["UserName"] = key.user_name
    return shape


def handlers(users: Users) -> dict[str, Handler]:
    def create_access_key(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = users.create_key(callers_user(ctx, params))
        return {"AccessKey": {**key_metadata(key), "SecretAccessKey": key.secret}}

    def list_access_keys(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        keys = users.keys_of(callers_user(ctx, params))
        chosen, paging = page(keys, params, key=lambda k: k.access_key_id)
        return {"AccessKeyMetadata": [key_metadata(k) for k in chosen], **paging}

    def update_access_key(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        status = KeyStatus(params["Status"])  # the model's enum has been checked
        users.set_key_status(callers_user(ctx, params), params["AccessKeyId"], status)
        return {}

    def delete_access_key(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        users.delete_key(callers_user(ctx, params), params["AccessKeyId"])
        return {}

    return {
        "CreateAccessKey": create_access_key,
        "ListAccessKeys": list_access_keys,
        "UpdateAccessKey": update_access_key,
        "DeleteAccessKey": delete_access_key,
    }
