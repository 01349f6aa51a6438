"""The STS API: GetCallerIdentity and AssumeRole.

- GetCallerIdentity needs no permission: "No permissions are required to perform this
  operation" (STS API reference, "GetCallerIdentity").
- AssumeRole (STS API reference, "AssumeRole"): the role's trust policy must allow the
  caller (and, unless it names the caller itself, the caller's own policies must allow
  sts:AssumeRole); the root user may not assume roles; DurationSeconds from 900 (the
  model's minimum) to the role's MaxSessionDuration, and at most an hour for a role
  session assuming another role ("role chaining"); optional session policies (an inline
  Policy, managed PolicyArns) narrow what the session may do. A role that does not exist
  is refused as one the caller may not assume, as AWS does, so that its existence does not
  leak.
"""

from __future__ import annotations

import datetime as dt
import json
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
MAX_POLICY_ARNS = 10  # "You can provide up to 10 managed policy ARNs" (AssumeRole)


def get_caller_identity(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    principal = ctx.principal
    assert principal is not None  # the gateway authenticated the request
    return {"UserId": principal.user_id, "Account": principal.account_id, "Arn": principal.arn}


def _validation(message: str) -> AwsError:
    return AwsError("ValidationError", message)


def _session_policy(directory: Directory, params: dict[str, Any]) -> str | None:
    """The session policies AssumeRole passes, inline (`Policy`) and managed (`PolicyArns`,
    up to 10, in the role's account), as one document: the session may do what the role's
    policies and any of its session policies allow, and nothing an explicit Deny in one of
    them denies (IAM UG, "Session policies"; STS API Reference, "AssumeRole"), which is what
    one policy holding all their statements allows. The managed ones are read now: STS packs
    them into the session, so later versions do not change it."""
    inline = params.get("Policy")
    if inline is not None:
        parse_policy(inline, PolicyKind.IDENTITY)
    arns = [entry["arn"] for entry in params.get("PolicyArns") or []]
    if len(arns) > MAX_POLICY_ARNS:
        raise _validation(
            f"1 validation error detected: Value '{arns}' at 'policyArns' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_POLICY_ARNS}"
        )
    if not arns:
        return inline
    documents = [] if inline is None else [json.loads(inline)]
    for arn in arns:
        document = directory.policies.default_document(arn)
        if document is None:
            # the documented rule ("The policies must exist in the same account as the
            # role"); the wording is IAM's for a policy it cannot attach
            raise _validation(f"Policy {arn} does not exist or is not attachable.")
        documents.append(json.loads(document))
    statements = []
    for document in documents:
        listed = document["Statement"]
        for statement in [listed] if isinstance(listed, dict) else listed:
            # Sids are unique within a policy, not across the ones merged here
            statements.append({k: v for k, v in statement.items() if k != "Sid"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


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
        session_policy = _session_policy(directory, params)
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
