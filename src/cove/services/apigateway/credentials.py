"""An integration's `credentials` as PutIntegration and UpdateIntegration take them: a
role's ARN, which the caller passes to API Gateway (iam:PassRole, with
iam:PassedToService apigateway.amazonaws.com), or arn:aws:iam::*:user/* for the caller's
own identity. Anything else is "Invalid ARN specified in the request" (aws/aws-sdk-java#860).
A role API Gateway cannot assume is taken all the same: it fails when the method is
called, in the stage's execution log (Miserlou/Zappa#479)."""

from __future__ import annotations

import re

from cove.apis.engine import APIGATEWAY_PRINCIPAL
from cove.apis.model import CALLER_CREDENTIALS
from cove.http.messages import RequestContext
from cove.identity.access import Access
from cove.services.apigateway.errors import bad_request

INVALID_ARN = "Invalid ARN specified in the request"
_ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$")


def checked_credentials(access: Access, ctx: RequestContext, value: str | None) -> str | None:
    if not value:
        return None
    if value == CALLER_CREDENTIALS:
        return value
    if _ROLE_ARN.match(value) is None:
        raise bad_request(INVALID_ARN)
    # AccessDenied without iam:PassRole; the role's trust is API Gateway's to find later
    access.pass_role(ctx, value, APIGATEWAY_PRINCIPAL)
    return value
