"""The STS API: GetCallerIdentity and AssumeRole.

- GetCallerIdentity needs no permission: "No permissions are required to perform this
  operation" (STS API reference, "GetCallerIdentity").
- AssumeRole (STS API reference, "AssumeRole"): the role's trust policy must allow the
  caller (and, unless it names the caller itself, the caller's own policies must allow
  sts:AssumeRole); the root user may not assume roles; DurationSeconds from 900 (the
  model's minimum) to the role's MaxSessionDuration, and at most an hour for a role
  session assuming another role ("role chaining"); an optional session policy narrows
  what the session may do. A role that does not exist is refused as one the caller may
  not assume, as AWS does, so that its existence does not leak.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cove.errors import AwsError
from cove.gateway.form_service import FormService
from cove.http.messages import RequestContext
from cove.iam.documents import PolicyKind, parse_policy
from cove.iam.policy import denied
from cove.identity.access import Access
from cove.identity.directory import Directory
from cove.identity.roles import RoleView

DEFAULT_DURATION = 3600
CHAINED_MAX = 3600


def get_caller_identity(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    principal = ctx.principal
    assert principal is not None  # the gateway authenticated the request
    return {"UserId": principal.user_id, "Account": principal.account_id, "Arn": principal.arn}


def _validation(message: str) -> AwsError:
    return AwsError("ValidationError", message)


def assume_role_handler(directory: Directory, access: Access) -> Any:
    account = directory.account_id

    def assume_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.principal
        assert caller is not None
        if caller.is_root:
            raise denied("Roles may not be assumed by root accounts.")
        role_arn = params["RoleArn"]
        role = directory.role_by_arn(role_arn)
        if role is None:
            raise denied(
                f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on "
                f"resource: {role_arn}"
            )
        access.may_assume(ctx, role, role_arn)
        duration = params.get("DurationSeconds", DEFAULT_DURATION)
        if caller.role_arn and duration > CHAINED_MAX:
            raise _validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining."
            )
        if duration > RoleView(role).max_session:
            raise _validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        if params.get("PolicyArns"):
            raise _validation("Cove does not support PolicyArns (managed session policies) yet.")
        session_policy = params.get("Policy")
        if session_policy is not None:
            parse_policy(session_policy, PolicyKind.IDENTITY)
        session = directory.sessions.issue(
            role, params["RoleSessionName"], duration, session_policy
        )
        return {
            "Credentials": {
                "AccessKeyId": session.access_key_id,
                "SecretAccessKey": session.secret,
                "SessionToken": session.token,
                "Expiration": dt.datetime.fromtimestamp(session.expires, dt.UTC),
            },
            "AssumedRoleUser": {
                "AssumedRoleId": session.assumed_role_id,
                "Arn": session.arn(account),
            },
        }

    return assume_role


def sts_service(directory: Directory, access: Access) -> FormService:
    handlers = {
        "GetCallerIdentity": get_caller_identity,
        "AssumeRole": assume_role_handler(directory, access),
    }
    # AssumeRole is authorized by the role's trust policy, in its handler
    return FormService(
        "sts",
        handlers,
        {"GetCallerIdentity": None, "AssumeRole": None},
        authorizer=access,
    )
