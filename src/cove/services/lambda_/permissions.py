"""AddPermission, RemovePermission, GetPolicy: each function, version and alias has its
own resource policy (Lambda DG, "Viewing resource-based IAM policies in Lambda")."""

from __future__ import annotations

import json
from typing import Any

from cove.functions.failures import Failure, FunctionError
from cove.functions.names import FunctionRef, parse_reference
from cove.functions.permissions import Grant, document, principal_is_valid, statement
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.services.lambda_.context import LambdaContext


def handlers(lc: LambdaContext) -> dict[str, Handler]:
    store, arns = lc.store, lc.arns

    def ref_of(params: dict[str, Any]) -> FunctionRef:
        return parse_reference(params["FunctionName"], params.get("Qualifier"))

    def revision(ref: FunctionRef) -> str:
        version, alias = store.resolve(ref)
        return alias.revision_id if alias is not None else version.revision_id

    def add_permission(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = ref_of(params)
        store.resolve(ref)
        if params.get("RevisionId") not in (None, revision(ref)):
            raise FunctionError(Failure.REVISION_MISMATCH)
        principal = params["Principal"]
        # a user or role of this account must exist: the policy keeps it as its unique id
        # (cove.iam.principals), and Lambda refuses one that has none
        own = f"arn:aws:iam::{lc.directory.account_id}:"
        if not principal_is_valid(principal) or (
            principal.startswith((own + "user/", own + "role/"))
            and lc.directory.identity_by_arn(principal) is None
        ):
            raise FunctionError(Failure.INVALID_PRINCIPAL)
        grant = Grant(
            sid=params["StatementId"],
            action=params["Action"],
            principal=principal,
            resource=arns.function(ref.name, ref.qualifier),
            source_arn=params.get("SourceArn"),
            source_account=params.get("SourceAccount"),
            principal_org_id=params.get("PrincipalOrgID"),
            function_url_auth_type=params.get("FunctionUrlAuthType"),
        )
        body = statement(grant)
        store.add_statement(ref, grant.sid, body)
        return {"Statement": json.dumps(body)}

    def remove_permission(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = ref_of(params)
        if params.get("RevisionId") not in (None, revision(ref)):
            raise FunctionError(Failure.REVISION_MISMATCH)
        store.remove_statement(ref, params["StatementId"])
        return {}

    def get_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = ref_of(params)
        store.resolve(ref)
        statements = store.statements(ref)
        if not statements:
            raise FunctionError(Failure.NO_POLICY)
        return {"Policy": document(statements), "RevisionId": revision(ref)}

    return {
        "AddPermission": add_permission,
        "RemovePermission": remove_permission,
        "GetPolicy": get_policy,
    }
