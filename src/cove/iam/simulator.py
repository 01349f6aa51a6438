"""The policy simulator: the engine that decides requests (evaluation.py), asked about
actions on resources, reporting what IAM's simulator reports (IAM API reference,
"SimulatePrincipalPolicy", "EvaluationResult", "ResourceSpecificResult"):

- one result per action, whatever the number of resources: its decision is the most
  restrictive of the resources' (an explicit deny over an implicit one over an allow),
  with the decision on each resource beside it;
- the statements that decided: the matching Allow statements of an allowed request, the
  matching Deny statements of an explicitly denied one, none for an implicit deny; only
  identity-based and resource-based policies' ("This field doesn't include statements
  from service control policies"); at the action's level those of the resources whose
  decision is the action's;
- the context keys the conditions of the statements that apply to the action and
  resource read but the request does not carry;
- with a permissions boundary, whether the boundary alone allows the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from cove.iam.context import ConditionContext
from cove.iam.documents import Effect, Policy, Statement
from cove.iam.evaluation import Grant, Outcome, evaluate, principal_grant
from cove.iam.positions import Span, statement_spans
from cove.iam.request import Principal, Request

T = TypeVar("T")
_SEVERITY = {Outcome.ALLOW: 0, Outcome.IMPLICIT_DENY: 1, Outcome.EXPLICIT_DENY: 2}


@dataclass(frozen=True)
class SimulatedPolicy:
    """One policy of a simulation: `source_id` is how MatchedStatements names it, `text`
    the document its statements' positions are counted in."""

    source_id: str
    text: str
    policy: Policy
    spans: tuple[Span, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spans", statement_spans(self.text))

    def span_of(self, index: int) -> Span | None:
        return self.spans[index] if index < len(self.spans) else None


@dataclass(frozen=True)
class MatchedStatement:
    source_id: str
    span: Span | None


@dataclass(frozen=True)
class ResourceResult:
    resource: str
    outcome: Outcome
    matched: tuple[MatchedStatement, ...]
    missing_context: tuple[str, ...]
    allowed_by_boundary: bool | None  # None: no permissions boundary in the simulation


@dataclass(frozen=True)
class ActionResult:
    action: str
    outcome: Outcome
    matched: tuple[MatchedStatement, ...]
    missing_context: tuple[str, ...]
    allowed_by_boundary: bool | None
    resources: tuple[ResourceResult, ...]


def _unique(items: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True)
class Simulation:
    principal: Principal
    identity: Sequence[SimulatedPolicy]
    context: ConditionContext
    resource_policy: SimulatedPolicy | None = None
    boundary: SimulatedPolicy | None = None

    def action(self, action: str, resources: Sequence[str]) -> ActionResult:
        """`action` simulated on each of `resources` (at least one)."""
        each = tuple(self._resource(action, resource) for resource in resources)
        outcome = max((r.outcome for r in each), key=_SEVERITY.__getitem__)
        boundary = None
        if self.boundary is not None:
            boundary = all(r.allowed_by_boundary for r in each)
        return ActionResult(
            action,
            outcome,
            _unique(m for r in each if r.outcome is outcome for m in r.matched),
            _unique(key for r in each for key in r.missing_context),
            boundary,
            each,
        )

    def _resource(self, action: str, resource: str) -> ResourceResult:
        request = Request(self.principal, action, resource, self.context)
        decision = evaluate(
            request,
            [p.policy for p in self.identity],
            resource_policies=[self.resource_policy.policy] if self.resource_policy else [],
            permission_boundary=self.boundary.policy if self.boundary else None,
        )
        boundary = None
        if self.boundary is not None:
            boundary = evaluate(request, [self.boundary.policy]).allowed
        return ResourceResult(
            resource,
            decision.outcome,
            self._matched(request, decision.outcome),
            self._missing(request),
            boundary,
        )

    def _deciding(self) -> list[SimulatedPolicy]:
        return [*self.identity, *([self.resource_policy] if self.resource_policy else [])]

    def _matched(self, request: Request, outcome: Outcome) -> tuple[MatchedStatement, ...]:
        if outcome is Outcome.IMPLICIT_DENY:
            return ()
        effect = Effect.ALLOW if outcome is Outcome.ALLOW else Effect.DENY
        return tuple(
            MatchedStatement(source.source_id, source.span_of(index))
            for source in self._deciding()
            for index, statement in enumerate(source.policy.statements)
            if statement.effect is effect and _applies(statement, request)
        )

    def _missing(self, request: Request) -> tuple[str, ...]:
        """Condition keys of the statements about this action and resource that the
        request context lacks, as the policies spell them."""
        sources = [*self._deciding(), *([self.boundary] if self.boundary else [])]
        return _unique(
            condition.key
            for source in sources
            for statement in source.policy.statements
            if statement.matches_action(request.action)
            and statement.matches_resource(request.resource, request.context)
            for condition in statement.conditions
            if condition.key not in request.context
        )


def _applies(statement: Statement, request: Request) -> bool:
    return statement.matches(request.action, request.resource, request.context) and (
        principal_grant(statement, request.principal) is not Grant.NONE
    )
