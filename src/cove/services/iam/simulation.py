"""SimulatePrincipalPolicy and SimulateCustomPolicy: the policy engine that enforces
requests, asked about actions and resources instead (cove.iam.simulator), in IAM's shapes
(IAM API reference, "SimulatePrincipalPolicy", "SimulateCustomPolicy", "EvaluationResult",
https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html):

- SimulatePrincipalPolicy evaluates the policies of the user (with its groups'), group or
  role PolicySourceArn names, plus any PolicyInputList; SimulateCustomPolicy only the
  policies given. ContextEntries give condition keys' values.
- One EvaluationResult per action: EvalDecision (`allowed`, `explicitDeny`,
  `implicitDeny`) the most restrictive over the resources, each resource's own decision in
  ResourceSpecificResults when ResourceArns name them. MatchedStatements and
  MissingContextValues are always there, empty or not (as in AWS's answers);
  EvalDecisionDetails is there, empty, for a same-account simulation with resources and
  absent for `*`; PermissionsBoundaryDecisionDetail only with a permissions boundary:
  the one PermissionsBoundaryPolicyInputList gives, else, for SimulatePrincipalPolicy,
  the user's or role's own (IAM API reference, "SimulatePrincipalPolicy").
- Statements are named by SourcePolicyId: an inline or managed policy by its name, a
  PolicyInputList entry as `PolicyInputList.<n>` (as AWS names them), the ResourcePolicy
  as `ResourcePolicy` (by the same rule). SourcePolicyType is left out, as in the API
  reference's examples.
- EvalResourceName is `*`: AWS answers with the ARN format of the action's resource type
  where one is defined, which needs the Service Authorization Reference's catalog that
  Cove does not have; `*` is AWS's answer for an action without one.
- Results are paged by action (MaxItems, default 100; Marker).

Cove's account belongs to no organization, so OrganizationsDecisionDetail is never there
("Only applies if the simulated user's account is part of an organization").
"""

from __future__ import annotations

import re
from typing import Any

from cove.errors import AwsError
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.iam.documents import PolicyKind, parse_policy
from cove.iam.evaluation import Outcome
from cove.iam.request import Principal, standard_context
from cove.iam.simulator import (
    ActionResult,
    MatchedStatement,
    ResourceResult,
    SimulatedPolicy,
    Simulation,
)
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
_ENTITY_ARN = re.compile(r"arn:[\w-]+:iam::\d*:(user|group|role)/(?:.*/)?([^/]+)")


def _context_values(entries: list[dict[str, Any]]) -> dict[str, object]:
    values: dict[str, object] = {}
    for entry in entries:
        given = entry.get("ContextKeyValues", [])
        listed = entry.get("ContextKeyType") in _LIST_TYPES
        values[entry["ContextKeyName"]] = given if listed else (given[0] if given else None)
    return {k: v for k, v in values.items() if v is not None}


def _source(directory: Directory, arn: str) -> Entity:
    """The user, group or role PolicySourceArn names; anything else, a role session's ARN
    among them, is not an entity (InvalidInput, with AWS's text as quoted in
    https://github.com/aws-containers/amazon-ecs-exec-checker/pull/10), and one that does
    not exist is NoSuchEntity."""
    match = _ENTITY_ARN.fullmatch(arn)
    if match is None:
        raise AwsError(
            "InvalidInput",
            f"Invalid Entity Arn: {arn} does not clearly define entity type and name.",
        )
    return directory.entities.get(EntityKind(match.group(1)), match.group(2))


def _given(documents: list[str], member: str) -> list[SimulatedPolicy]:
    return [
        SimulatedPolicy(f"{member}.{n}", text, parse_policy(text))
        for n, text in enumerate(documents, start=1)
    ]


def _statement_shape(matched: MatchedStatement) -> dict[str, Any]:
    shape: dict[str, Any] = {"SourcePolicyId": matched.source_id}
    if matched.span is not None:
        start, end = matched.span.start, matched.span.end
        shape["StartPosition"] = {"Line": start.line, "Column": start.column}
        shape["EndPosition"] = {"Line": end.line, "Column": end.column}
    return shape


def _boundary_detail(allowed: bool | None) -> dict[str, Any]:
    if allowed is None:
        return {}
    return {"PermissionsBoundaryDecisionDetail": {"AllowedByPermissionsBoundary": allowed}}


def _resource_shape(result: ResourceResult) -> dict[str, Any]:
    return {
        "EvalResourceName": result.resource,
        "EvalResourceDecision": _DECISIONS[result.outcome],
        "MatchedStatements": [_statement_shape(m) for m in result.matched],
        "MissingContextValues": list(result.missing_context),
        **_boundary_detail(result.allowed_by_boundary),
    }


def _action_shape(result: ActionResult, resources_named: bool) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "EvalActionName": result.action,
        "EvalResourceName": "*",
        "EvalDecision": _DECISIONS[result.outcome],
        "MatchedStatements": [_statement_shape(m) for m in result.matched],
        "MissingContextValues": list(result.missing_context),
        **_boundary_detail(result.allowed_by_boundary),
    }
    if resources_named:
        shape["EvalDecisionDetails"] = {}
        shape["ResourceSpecificResults"] = [_resource_shape(r) for r in result.resources]
    return shape


def _simulate(
    principal: Principal,
    identity: list[SimulatedPolicy],
    params: dict[str, Any],
    held_boundary: SimulatedPolicy | None = None,
) -> dict[str, Any]:
    extra = _context_values(params.get("ContextEntries", []))
    resource_policy = params.get("ResourcePolicy")
    given = _given(params.get("PermissionsBoundaryPolicyInputList", []),
                   "PermissionsBoundaryPolicyInputList")  # fmt: skip
    simulation = Simulation(
        principal,
        identity,
        standard_context(principal, secure_transport=True, extra=extra),
        resource_policy=SimulatedPolicy(
            "ResourcePolicy", resource_policy, parse_policy(resource_policy, PolicyKind.RESOURCE)
        ) if resource_policy else None,
        # one given replaces the entity's own ("if a permissions boundary is attached to
        # an entity and you pass in a different permissions boundary policy using this
        # parameter, then the new permissions boundary policy is used for the simulation")
        boundary=given[0] if given else held_boundary,
    )  # fmt: skip
    named = params.get("ResourceArns") or []
    results = [
        (i, _action_shape(simulation.action(action, named or ["*"]), bool(named)))
        for i, action in enumerate(params["ActionNames"])
    ]
    chosen, paging = page(results, params, identity=lambda r: str(r[0]))
    return {"EvaluationResults": [result for _, result in chosen], **paging}


def handlers(directory: Directory, access: Access) -> dict[str, Handler]:
    account = directory.account_id

    def simulate_principal_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source = _source(directory, params["PolicySourceArn"])
        held = [
            SimulatedPolicy(p.name, p.document, parse_policy(p.document))
            for p in access.identity_documents(source)
        ]
        given = _given(params.get("PolicyInputList", []), "PolicyInputList")
        principal = Principal.user(source.arn(account), source.entity_id)
        boundary = access.boundary_document(source)
        held_boundary = None if boundary is None else SimulatedPolicy(
            boundary.name, boundary.document, parse_policy(boundary.document)
        )  # fmt: skip
        return _simulate(principal, held + given, params, held_boundary)

    def simulate_custom_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        given = _given(params["PolicyInputList"], "PolicyInputList")
        caller = params.get("CallerArn") or f"arn:aws:iam::{account}:user/simulated"
        return _simulate(Principal.user(caller), given, params)

    return {
        "SimulatePrincipalPolicy": simulate_principal_policy,
        "SimulateCustomPolicy": simulate_custom_policy,
    }
