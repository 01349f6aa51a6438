"""What one conformance case is, and the shorthands the case tables are written in.

A case is a request, the policies in force and the decision AWS's documentation gives
for them: the outcome and the policy type that decided it. `source` is the page the
example comes from (most cases are that page's own example, or one of its statements
turned into a request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cove.iam.context import ConditionContext
from cove.iam.documents import PolicyKind, parse_policy
from cove.iam.evaluation import Decision, Outcome, PolicyType, evaluate
from cove.iam.request import Principal, Request

UG = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
EVALUATION = UG + "reference_policies_evaluation-logic.html"
SINGLE_ACCOUNT = UG + "reference_policies_evaluation-logic_policy-eval-basics.html"
DENY_ALLOW = UG + "reference_policies_evaluation-logic_policy-eval-denyallow.html"
INTERPLAY = UG + "reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html"
CROSS_ACCOUNT = UG + "reference_policies_evaluation-logic-cross-account.html"
BOUNDARIES = UG + "access_policies_boundaries.html"
SESSION_POLICIES = UG + "access_policies.html#policies_session"
ROOT_POLICIES = UG + "access_policies.html#access_policies-root"
ACTION = UG + "reference_policies_elements_action.html"
NOT_ACTION = UG + "reference_policies_elements_notaction.html"
RESOURCE = UG + "reference_policies_elements_resource.html"
NOT_RESOURCE = UG + "reference_policies_elements_notresource.html"
PRINCIPAL = UG + "reference_policies_elements_principal.html"
NOT_PRINCIPAL = UG + "reference_policies_elements_notprincipal.html"
EFFECT = UG + "reference_policies_elements_effect.html"
CONDITION = UG + "reference_policies_elements_condition.html"
OPERATORS = UG + "reference_policies_elements_condition_operators.html"
MULTIPLE = UG + "reference_policies_condition-logic-multiple-context-keys-or-values.html"
SET_OPERATORS = UG + "reference_policies_condition-single-vs-multi-valued-context-keys.html"
MULTIVALUED_EXAMPLES = UG + "reference_policies_condition_examples-multi-valued-context-keys.html"
VARIABLES = UG + "reference_policies_variables.html"
VERSION = UG + "reference_policies_elements_version.html"
GLOBAL_KEYS = UG + "reference_policies_condition-keys.html"
EXAMPLE_DATES = UG + "reference_policies_examples_aws-dates.html"
EXAMPLE_DENY_IP = UG + "reference_policies_examples_aws_deny-ip.html"
EXAMPLE_REGIONS = UG + "reference_policies_examples_aws_deny-requested-region.html"
EXAMPLE_S3_ONLY = UG + "reference_policies_examples_s3_deny-except-bucket.html"
TRUST = UG + "id_roles_compare-resource-policies.html"
VPC_ENDPOINT = "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html"
SAGEMAKER = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/security_iam_id-based-policy-examples.html"
)

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "444455556666"
ALICE = Principal.user(f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDAALICEEXAMPLE12345")
BOB = Principal.user(f"arn:aws:iam::{ACCOUNT}:user/Bob", "AIDABOBEXAMPLE1234567")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION = Principal.assumed_role(
    f"arn:aws:sts::{ACCOUNT}:assumed-role/app/worker", ROLE_ARN, "AROAAPPEXAMPLE1234567"
)
ROOT = Principal.root(ACCOUNT)
ANONYMOUS = Principal.anonymous()

Document = Mapping[str, Any]


def allow(
    action: str | list[str] = "*", resource: str | list[str] | None = "*", **extra: Any
) -> dict:
    """An Allow statement; `extra` adds elements (Condition=..., Principal=..., Sid=...)."""
    return _statement("Allow", action, resource, extra)


def deny(
    action: str | list[str] = "*", resource: str | list[str] | None = "*", **extra: Any
) -> dict:
    return _statement("Deny", action, resource, extra)


def _statement(effect: str, action: Any, resource: Any, extra: dict[str, Any]) -> dict:
    statement: dict[str, Any] = {"Effect": effect}
    if "NotAction" not in extra:
        statement["Action"] = action
    if resource is not None and "NotResource" not in extra:
        statement["Resource"] = resource
    return {**statement, **extra}


def policy(*statements: dict, version: str | None = "2012-10-17") -> dict:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document = {"Version": version, **document}
    return document


_EXPECT = {
    "Allow": Outcome.ALLOW,
    "ImplicitDeny": Outcome.IMPLICIT_DENY,
    "ExplicitDeny": Outcome.EXPLICIT_DENY,
}
_TYPES = {
    "identity": PolicyType.IDENTITY,
    "resource": PolicyType.RESOURCE,
    "trust": PolicyType.TRUST,
    "boundary": PolicyType.BOUNDARY,
    "session": PolicyType.SESSION,
    "endpoint": PolicyType.ENDPOINT,
    "root": None,
}


@dataclass(frozen=True)
class Case:
    family: str
    title: str
    source: str
    expect: str  # "<outcome>/<policy type>", e.g. "ImplicitDeny/boundary", "Allow/root"
    principal: Principal = ALICE
    action: str = "s3:GetObject"
    resource: str = "*"
    context: Mapping[str, Any] = field(default_factory=dict)
    identity: tuple[Document, ...] = ()
    resource_policies: tuple[Document, ...] = ()
    trust: Document | None = None
    session: tuple[Document, ...] | None = None
    endpoint: tuple[Document, ...] | None = None
    boundary: Document | None = None
    resource_account: str | None = None
    id: str = ""

    @property
    def outcome(self) -> Outcome:
        return _EXPECT[self.expect.split("/")[0]]

    @property
    def policy_type(self) -> PolicyType | None:
        return _TYPES[self.expect.split("/")[1]]

    def request(self) -> Request:
        return Request(
            self.principal,
            self.action,
            self.resource,
            ConditionContext(self.context),
            self.resource_account,
        )

    def decide(self) -> Decision:
        def parsed(documents: tuple[Document, ...], kind: PolicyKind) -> list:
            return [parse_policy(d, kind) for d in documents]

        return evaluate(
            self.request(),
            parsed(self.identity, PolicyKind.IDENTITY),
            resource_policies=parsed(self.resource_policies, PolicyKind.RESOURCE),
            trust_policy=parse_policy(self.trust, PolicyKind.TRUST) if self.trust else None,
            session_policies=None
            if self.session is None
            else parsed(self.session, PolicyKind.IDENTITY),
            endpoint_policies=None
            if self.endpoint is None
            else parsed(self.endpoint, PolicyKind.RESOURCE),
            permission_boundary=parse_policy(self.boundary) if self.boundary else None,
        )


def when(
    family: str,
    title: str,
    source: str,
    condition: dict,
    context: Mapping[str, Any],
    holds: bool,
    *,
    effect: str = "Allow",
    version: str | None = "2012-10-17",
    **request: Any,
) -> Case:
    """A condition case: an Allow whose Condition holds or not, or a Deny (beside an Allow
    of everything) whose Condition does or does not deny."""
    if effect == "Allow":
        documents = (policy(allow(Condition=condition), version=version),)
        expect = "Allow/identity" if holds else "ImplicitDeny/identity"
    else:
        documents = (policy(allow(), deny(Condition=condition), version=version),)
        expect = "ExplicitDeny/identity" if holds else "Allow/identity"
    return Case(family, title, source, expect, context=context, identity=documents, **request)
