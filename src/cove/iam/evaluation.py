"""AWS's policy evaluation logic (IAM UG, "Policy evaluation logic" and its pages on
single-account and cross-account requests, permissions boundaries and session policies).

1. An explicit Deny in any policy that applies wins; a resource-based policy's Deny with
   a NotPrincipal applies to every caller with a permissions boundary, whatever it lists.
2. A VPC endpoint policy, where the request came through one, must allow. It filters
   every principal; that this includes the account's root user is Cove's reading.
3. The account's root user has full access to its own account's resources.
4. Same account: an Allow in an identity-based policy or in a resource-based policy is
   enough, but what a resource-based policy grants depends on whom it names:
   - the user, the role session itself, or everyone ("*"): granted outright, no
     identity-based policy, permissions boundary or session policy can take it away;
   - the role behind a session: still limited by a permissions boundary and a session
     policy (not by the identity-based policies);
   - the account: a delegation only, so the identity-based policies must allow.
   A role trust policy must always allow (it is not enough that an identity policy does).
5. Otherwise the identity-based policies must allow, then the permissions boundary (if
   any), then the session policies (if any were passed).
6. Cross-account: both the resource-based policy and the principal's side must allow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from functools import lru_cache

from cove.iam.documents import Effect, Policy, Principals, Statement
from cove.iam.request import Principal, PrincipalKind, Request


class Outcome(Enum):
    ALLOW = "Allow"
    IMPLICIT_DENY = "ImplicitDeny"
    EXPLICIT_DENY = "ExplicitDeny"


class PolicyType(Enum):
    """Policy types and how AWS's access-denied messages name them (IAM UG,
    "Troubleshoot access denied error messages")."""

    IDENTITY = ("identity-based policy", "an identity-based policy")
    RESOURCE = ("resource-based policy", "a resource-based policy")
    TRUST = ("role trust policy", "the role trust policy")
    BOUNDARY = ("permissions boundary", "a permissions boundary")
    SESSION = ("session policy", "a session policy")
    ENDPOINT = ("VPC endpoint policy", "a VPC endpoint policy")

    def __init__(self, implicit: str, explicit: str) -> None:
        self.implicit = implicit
        self.explicit = explicit


@dataclass(frozen=True)
class Decision:
    """The outcome and the policy type that decided it (None: the root user's own access).
    `sid` names the deciding statement where it has one."""

    outcome: Outcome
    policy_type: PolicyType | None = None
    sid: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW


class Grant(IntEnum):
    """How directly a resource-based policy's Principal names the caller."""

    NONE = 0
    ACCOUNT = 1  # the caller's account: the account's own policies must allow too
    ROLE = 2  # the role behind the session: boundary and session policies still apply
    DIRECT = 3  # the caller itself or everyone


@lru_cache(maxsize=1024)
def _identities(principal: Principal) -> tuple[tuple[str, Grant], ...]:
    """The names a policy may give the caller, and what naming each one grants."""
    if principal.kind is PrincipalKind.SERVICE:
        return ((principal.arn.lower(), Grant.DIRECT),)
    names = [(principal.arn, Grant.DIRECT)]
    if principal.role_arn:
        names.append((principal.role_arn, Grant.ROLE))
    if principal.root_arn and principal.kind is not PrincipalKind.ROOT:
        names.append((principal.root_arn, Grant.ACCOUNT))
    return tuple(names)


def _grant(principals: Principals, principal: Principal, negated: bool) -> Grant:
    # The caller is its own ARN, its role's and its account's at once, and AWS may check
    # the account first (IAM UG, "NotPrincipal"): a Principal element grants by the most
    # direct of those names it lists, a NotPrincipal element by the most direct one it
    # does not list, so NotPrincipal spares a user only with its account listed as well.
    if principals.wildcard:
        return Grant.NONE if negated else Grant.DIRECT
    listed = principals.names
    best = Grant.NONE
    for name, grant in _identities(principal):
        if (name in listed) != negated and grant > best:
            best = grant
    return best


def principal_grant(statement: Statement, principal: Principal) -> Grant:
    """How a statement's Principal or NotPrincipal element applies to the caller. A
    statement without either (an identity-based policy's) applies as its holder's own."""
    if statement.principals is not None:
        return _grant(statement.principals, principal, negated=False)
    if statement.not_principals is not None:
        return _grant(statement.not_principals, principal, negated=True)
    return Grant.DIRECT


def _statements(policies: Iterable[Policy], effect: Effect) -> Iterable[Statement]:
    for policy in policies:
        yield from policy.allows if effect is Effect.ALLOW else policy.denies


def best_grant(
    policies: Iterable[Policy], effect: Effect, request: Request
) -> tuple[Grant, str | None]:
    """The most direct grant among the matching statements of `effect`, and its Sid."""
    best, sid = Grant.NONE, None
    for statement in _statements(policies, effect):
        grant = principal_grant(statement, request.principal)
        if grant > best and statement.matches(request.action, request.resource, request.context):
            best, sid = grant, statement.sid
            if best is Grant.DIRECT:
                break
    return best, sid


def _first(
    policies: Iterable[Policy], effect: Effect, request: Request, bounded: bool = False
) -> Statement | None:
    """The first statement of `effect` that applies to the request. A caller with a
    permissions boundary is denied by every Deny with a NotPrincipal, whatever it lists
    ("The NotPrincipal element with a Deny effect will always deny any IAM principal that
    has a permissions boundary policy attached, regardless of the values specified in the
    NotPrincipal element", IAM UG, "Permissions boundaries for IAM entities")."""
    action, resource, context = request.action, request.resource, request.context
    for statement in _statements(policies, effect):
        if statement.matches(action, resource, context) and (
            principal_grant(statement, request.principal)
            or (bounded and statement.not_principals is not None)
        ):
            return statement
    return None


_GOVERNED = frozenset({PrincipalKind.USER, PrincipalKind.ASSUMED_ROLE})


def evaluate(
    request: Request,
    identity_policies: Sequence[Policy] = (),
    *,
    resource_policies: Sequence[Policy] = (),
    trust_policy: Policy | None = None,
    session_policies: Sequence[Policy] | None = None,
    endpoint_policies: Sequence[Policy] | None = None,
    permission_boundary: Policy | None = None,
) -> Decision:
    """Decide `request`.

    `identity_policies` are the user's (with its groups') or the role's; None-valued
    policy types are absent, which is not the same as present and allowing nothing: an
    empty `session_policies` sequence denies everything a session does.
    """
    principal = request.principal
    governed = principal.kind in _GOVERNED
    resource_type = PolicyType.TRUST if trust_policy is not None else PolicyType.RESOURCE
    resource_side = (trust_policy,) if trust_policy is not None else resource_policies
    # in the order a denial names them when several types deny
    layers: list[tuple[PolicyType, Sequence[Policy]]] = [
        (PolicyType.ENDPOINT, endpoint_policies or ()),
        (resource_type, resource_side),
    ]
    if governed:  # the root user, services and anonymous callers have no policies of their own
        layers += [
            (PolicyType.IDENTITY, identity_policies),
            (PolicyType.BOUNDARY, (permission_boundary,) if permission_boundary else ()),
            (PolicyType.SESSION, session_policies or ()),
        ]
    bounded = governed and permission_boundary is not None
    for policy_type, policies in layers:
        denied = _first(policies, Effect.DENY, request, bounded) if policies else None
        if denied is not None:
            return Decision(Outcome.EXPLICIT_DENY, policy_type, denied.sid)

    if endpoint_policies is not None and not _first(endpoint_policies, Effect.ALLOW, request):
        return Decision(Outcome.IMPLICIT_DENY, PolicyType.ENDPOINT)

    grant, sid = (
        best_grant(resource_side, Effect.ALLOW, request) if resource_side else (Grant.NONE, None)
    )
    if trust_policy is not None and grant is Grant.NONE:
        return Decision(Outcome.IMPLICIT_DENY, PolicyType.TRUST)
    same_account = not request.cross_account

    if not governed:
        if principal.kind is PrincipalKind.ROOT and same_account:
            return Decision(Outcome.ALLOW)
        if grant is Grant.NONE:
            return Decision(Outcome.IMPLICIT_DENY, resource_type)
        return Decision(Outcome.ALLOW, resource_type, sid)
    if grant is Grant.NONE and not same_account:
        return Decision(Outcome.IMPLICIT_DENY, resource_type)
    if grant is Grant.DIRECT and same_account:
        return Decision(Outcome.ALLOW, resource_type, sid)

    decided_by = resource_type
    if not (same_account and grant is Grant.ROLE):
        allowed = _first(identity_policies, Effect.ALLOW, request)
        if allowed is None:
            return Decision(Outcome.IMPLICIT_DENY, PolicyType.IDENTITY)
        decided_by, sid = PolicyType.IDENTITY, allowed.sid
    if permission_boundary is not None and not _first(
        (permission_boundary,), Effect.ALLOW, request
    ):
        return Decision(Outcome.IMPLICIT_DENY, PolicyType.BOUNDARY)
    if session_policies is not None and not _first(session_policies, Effect.ALLOW, request):
        return Decision(Outcome.IMPLICIT_DENY, PolicyType.SESSION)
    return Decision(Outcome.ALLOW, decided_by, sid)


def denial_message(decision: Decision, request: Request) -> str:
    """AWS's access-denied text for a decision that denies."""
    if decision.allowed or decision.policy_type is None:
        raise ValueError("an Allow has no denial message")
    head = (
        f"User: {request.principal.arn} is not authorized to perform: {request.action} "
        f"on resource: {request.resource}"
    )
    if decision.outcome is Outcome.EXPLICIT_DENY:
        return f"{head} with an explicit deny in {decision.policy_type.explicit}"
    return f"{head} because no {decision.policy_type.implicit} allows the {request.action} action"
