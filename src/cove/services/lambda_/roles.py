"""The execution role a function is given: the caller needs iam:PassRole on it, and it
must exist and trust lambda.amazonaws.com, which Lambda checks by assuming it; else
InvalidParameterValueException "The role defined for the function cannot be assumed by
Lambda." (Lambda DG, "Defining Lambda function permissions with an execution role")."""

from __future__ import annotations

from cove.http.messages import RequestContext
from cove.services.lambda_.context import LambdaContext
from cove.services.lambda_.errors import invalid

SERVICE_PRINCIPAL = "lambda.amazonaws.com"


def check_role(lc: LambdaContext, ctx: RequestContext, role_arn: str) -> None:
    if lc.access.pass_role(ctx, role_arn, SERVICE_PRINCIPAL) is None:
        raise invalid("The role defined for the function cannot be assumed by Lambda.")
