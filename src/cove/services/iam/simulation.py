"""SimulatePrincipalPolicy and SimulateCustomPolicy: the policy engine that enforces
requests, asked about actions and resources instead (IAM API reference,
"SimulatePrincipalPolicy": the identity's policies, its groups' for a user, plus any
PolicyInputList; "SimulateCustomPolicy": only the policies given). EvalDecision is
`allowed`, `explicitDeny` or `implicitDeny`; ContextEntries give condition keys' values.
MatchedStatements and MissingContextValues are not reported: the engine does not track
statement positions or the keys a decision lacked."""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.iam.documents import Policy, PolicyKind, parse_policy
from cove.iam.evaluation import Outcome, evaluate
from cove.iam.request import Principal, Request, standard_context
from cove.identity.access import Access
from cove.identity.directory import Directory
from cove.identity.entities import Entity
from cove.identity.kinds import EntityKind
from cove.services.iam.paging import page

_DECISIONS = {
    Outcome.ALLOW: "allowed",
    Outcome.EXPLICIT_DENY: "explicitDeny",
    Outcome.IMPLICIT_DENY: "implicitDeny",
}
_LIST_TYPES = frozenset({"stringList", "numericList", "booleanList", "dateList", "ipList",
                         "binaryList"})  # fmt: skip


def _context_values(entries: list[dict[str, Any]]) -> dict[str, object]:
    values: dict[str, object] = {}
    for entry in entries:
        given = entry.get("ContextKeyValues", [])
        listed = entry.get("ContextKeyType") in _LIST_TYPES
        values[entry["ContextKeyName"]] = given if listed else (given[0] if given else None)
    return {k: v for k, v in values.items() if v is not None}


def _source(directory: Directory, arn: str) -> Entity:
    """The user, group or role PolicySourceArn names (NoSuchEntity if none)."""
    kind = next((k for k in EntityKind if f":{k.value}/" in arn), EntityKind.USER)
    return directory.entities.get(kind, arn.rsplit("/", 1)[-1])


def _results(
    principal: Principal, policies: list[Policy], params: dict[str, Any]
) -> dict[str, Any]:
    extra = _context_values(params.get("ContextEntries", []))
    context = standard_context(principal, secure_transport=True, extra=extra)
    resource_policy = params.get("ResourcePolicy")
    resource_side = [parse_policy(resource_policy, PolicyKind.RESOURCE)] if resource_policy else []
    boundaries = [parse_policy(d) for d in params.get("PermissionsBoundaryPolicyInputList", [])]
    results: list[tuple[int, dict[str, Any]]] = []
    for action in params["ActionNames"]:
        for resource in params.get("ResourceArns") or ["*"]:
            decision = evaluate(
                Request(principal, action, resource, context),
                policies,
                resource_policies=resource_side,
                permission_boundary=boundaries[0] if boundaries else None,
            )
            results.append((len(results), {
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": _DECISIONS[decision.outcome],
            }))  # fmt: skip
    chosen, paging = page(results, params, identity=lambda r: str(r[0]))
    return {"EvaluationResults": [result for _, result in chosen], **paging}


def handlers(directory: Directory, access: Access) -> dict[str, Handler]:
    account = directory.account_id

    def simulate_principal_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source = _source(directory, params["PolicySourceArn"])
        given = [parse_policy(d) for d in params.get("PolicyInputList", [])]
        principal = Principal.user(source.arn(account), source.entity_id)
        return _results(principal, access.identity_policies(source) + given, params)

    def simulate_custom_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        given = [parse_policy(d) for d in params["PolicyInputList"]]
        caller = params.get("CallerArn") or f"arn:aws:iam::{account}:user/simulated"
        return _results(Principal.user(caller), given, params)

    return {
        "SimulatePrincipalPolicy": simulate_principal_policy,
        "SimulateCustomPolicy": simulate_custom_policy,
    }
