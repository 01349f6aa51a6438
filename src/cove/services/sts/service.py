"""The STS API. GetCallerIdentity needs no permission: "No permissions are required to
perform this operation" (STS API reference, "GetCallerIdentity")."""

from __future__ import annotations

from typing import Any

from cove.gateway.form_service import FormService
from cove.http.messages import RequestContext


def get_caller_identity(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    principal = ctx.principal
    assert principal is not None  # the gateway authenticated the request
    return {"UserId": principal.user_id, "Account": principal.account_id, "Arn": principal.arn}


def sts_service() -> FormService:
    return FormService(
        "sts", {"GetCallerIdentity": get_caller_identity}, {"GetCallerIdentity": None}
    )
