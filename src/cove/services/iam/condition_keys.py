"""The condition keys an IAM request sets, for policies to test (Service Authorization
Reference, "Actions, resources, and condition keys for AWS Identity and Access Management
(IAM)"): aws:RequestTag/${TagKey} and aws:TagKeys where it passes Tags (CreateUser,
CreateRole, CreatePolicy, TagUser, TagRole, TagPolicy), aws:TagKeys the keys UntagUser,
UntagRole and UntagPolicy remove, iam:PolicyARN the managed policy Attach*Policy and
Detach*Policy name (IAM UG, "Controlling access to and for IAM users and roles using
tags", https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html), and
iam:PermissionsBoundary the boundary CreateUser, CreateRole and Put*PermissionsBoundary
set (IAM UG, "IAM condition context keys": "Checks that the specified policy is attached
as permissions boundary on the IAM principal resource"; resources.py gives the other
operations that read it the identity's own)."""

from __future__ import annotations

import re
from typing import Any

from cove.iam.request import request_tag_keys

_ATTACHMENT = re.compile(r"(Attach|Detach)(User|Group|Role)Policy")
_SETS_BOUNDARY = frozenset({
    "CreateUser", "CreateRole", "PutUserPermissionsBoundary", "PutRolePermissionsBoundary",
})  # fmt: skip
PERMISSIONS_BOUNDARY = "iam:PermissionsBoundary"


def keys_of(operation: str, params: dict[str, Any]) -> dict[str, object]:
    keys = request_tag_keys(params.get("Tags"))
    if operation.startswith("Untag") and isinstance(params.get("TagKeys"), list):
        keys["aws:TagKeys"] = list(params["TagKeys"])
    if _ATTACHMENT.fullmatch(operation):
        keys["iam:PolicyARN"] = params["PolicyArn"]
    if operation in _SETS_BOUNDARY and params.get("PermissionsBoundary"):
        keys[PERMISSIONS_BOUNDARY] = params["PermissionsBoundary"]
    return keys
