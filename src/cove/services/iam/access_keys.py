"""CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey,
GetAccessKeyLastUsed.

Without a UserName each acts on the caller's own keys (IAM API reference,
"CreateAccessKey"); for the root user those are the account's root keys.

GetAccessKeyLastUsed answers when a key last signed a request, for which service (its
signing name) and in which region; a key never used has "N/A" for both and no date
(IAM API reference, "AccessKeyLastUsed",
https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKeyLastUsed.html). The
UserName is the owner's; a root key has none, as it has no IAM user."""

from __future__ import annotations

from typing import Any

from cove.auth.credentials import KeyUse
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.directory import Directory
from cove.identity.keys import AccessKey, KeyStatus
from cove.services.iam.paging import page
from cove.services.iam.shapes import when
from cove.services.iam.users import callers_user


def key_metadata(key: AccessKey) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "AccessKeyId": key.access_key_id,
        "Status": key.status.value,
        "CreateDate": when(key.created),
    }
    if key.owner is not None:
        shape["UserName"] = key.owner.name
    return shape


NOT_APPLICABLE = "N/A"


def last_used_shape(use: KeyUse | None) -> dict[str, Any]:
    if use is None:
        return {"ServiceName": NOT_APPLICABLE, "Region": NOT_APPLICABLE}
    return {"LastUsedDate": when(use.at), "ServiceName": use.service, "Region": use.region}


def handlers(directory: Directory) -> dict[str, Handler]:
    keys = directory.keys

    def get_access_key_last_used(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key_id = params["AccessKeyId"]
        owner = keys.holder(key_id)
        answer = {"AccessKeyLastUsed": last_used_shape(directory.key_usage.last_used(key_id))}
        return answer if owner is None else {"UserName": owner.name, **answer}

    def create_access_key(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = keys.create(callers_user(ctx, params))
        return {"AccessKey": {**key_metadata(key), "SecretAccessKey": key.secret}}

    def list_access_keys(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = keys.of(callers_user(ctx, params))
        chosen, paging = page(found, params, identity=lambda k: k.access_key_id)
        return {"AccessKeyMetadata": [key_metadata(k) for k in chosen], **paging}

    def update_access_key(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        status = KeyStatus(params["Status"])  # the model's enum has been checked
        keys.set_status(callers_user(ctx, params), params["AccessKeyId"], status)
        return {}

    def delete_access_key(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        keys.delete(callers_user(ctx, params), params["AccessKeyId"])
        return {}

    return {
        "CreateAccessKey": create_access_key,
        "ListAccessKeys": list_access_keys,
        "UpdateAccessKey": update_access_key,
        "DeleteAccessKey": delete_access_key,
        "GetAccessKeyLastUsed": get_access_key_last_used,
    }
