"""A function's resource policy as Lambda builds it from AddPermission: one statement per
call, `{"Sid", "Effect": "Allow", "Principal", "Action", "Resource", "Condition"}`, the
principal written as IAM writes one (an account as its root ARN, a service by name), the
source ARN as `ArnLike AWS:SourceArn` and the source account as `StringEquals
AWS:SourceAccount` (Lambda DG, "Viewing resource-based IAM policies in Lambda")."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_ACCOUNT = re.compile(r"^[0-9]{12}$")
# a service by its principal name: s3.amazonaws.com, alexa-appkit.amazon.com (not a bare
# "amazonaws.com", which Lambda refuses)
_SERVICE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.(amazonaws\.com|amazon\.com)$")
# an account's root, a user or a role (AddPermission's Principal, Lambda API Reference)
_IDENTITY = re.compile(r"^arn:aws:iam::[0-9]{12}:(root|(user|role)/([\w+=,.@-]+/)*[\w+=,.@-]+)$")


def principal_is_valid(principal: str) -> bool:
    """Whether AddPermission takes `principal` as written: "*", an account id, a service
    principal, or the ARN of an account, user or role; anything else Lambda refuses with
    "The provided principal was invalid." (as quoted in
    https://github.com/Pocket/terraform-modules/pull/1037 for "amazonaws.com")."""
    return principal == "*" or bool(
        _ACCOUNT.match(principal) or _SERVICE.match(principal) or _IDENTITY.match(principal)
    )


@dataclass(frozen=True)
class Grant:
    """What one AddPermission call grants."""

    sid: str
    action: str
    principal: str
    resource: str  # the function's ARN, qualified when the permission is
    source_arn: str | None = None
    source_account: str | None = None
    principal_org_id: str | None = None
    function_url_auth_type: str | None = None


def _principal(principal: str) -> Any:
    if principal == "*":
        return "*"
    if _ACCOUNT.match(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}


def statement(grant: Grant) -> dict[str, Any]:
    conditions: dict[str, dict[str, str]] = {}

    def add(operator: str, key: str, value: str | None) -> None:
        if value is not None:
            conditions.setdefault(operator, {})[key] = value

    add("StringEquals", "AWS:SourceAccount", grant.source_account)
    add("StringEquals", "aws:PrincipalOrgID", grant.principal_org_id)
    add("StringEquals", "lambda:FunctionUrlAuthType", grant.function_url_auth_type)
    add("ArnLike", "AWS:SourceArn", grant.source_arn)
    body: dict[str, Any] = {
        "Sid": grant.sid,
        "Effect": "Allow",
        "Principal": _principal(grant.principal),
        "Action": grant.action,
        "Resource": grant.resource,
    }
    if conditions:
        body["Condition"] = conditions
    return body


def document(statements: list[dict[str, Any]]) -> str:
    """GetPolicy's Policy: the statements in the order they were added."""
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": statements})
