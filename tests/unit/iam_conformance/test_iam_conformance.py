"""The conformance table: every case decides as AWS's documentation says, and the
generated docs/iam-conformance.md lists exactly these cases."""

from __future__ import annotations

from collections import Counter

import pytest
from iam_case_model import ACCOUNT, ALICE, UG, Case, allow, policy
from iam_conformance_table import CASES, DOC_PATH, GENERATOR, render

from cove.iam.documents import parse_policy
from cove.iam.evaluation import Decision, Outcome, PolicyType, denial_message, evaluate
from cove.iam.request import Principal, Request

ACCESS_DENIED = UG + "troubleshoot_access-denied.html"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.id}-{c.family}" for c in CASES])
def test_case(case: Case) -> None:
    decision = case.decide()
    assert (decision.outcome, decision.policy_type) == (case.outcome, case.policy_type), case.title


def test_the_table_is_large_and_cited() -> None:
    assert len(CASES) >= 150
    assert all(c.source.startswith("https://docs.aws.amazon.com/") for c in CASES)
    assert len({c.id for c in CASES}) == len(CASES)
    outcomes = Counter(c.outcome for c in CASES)
    assert all(outcomes[o] >= 20 for o in Outcome)  # every outcome is exercised, not only Allow


def test_the_committed_document_is_up_to_date() -> None:
    assert DOC_PATH.read_text() == render(), f"run {GENERATOR} and commit docs/iam-conformance.md"


# --- the access-denied messages (IAM UG, "Troubleshoot access denied error messages") -----

JOHN = Principal.user(f"arn:aws:iam::{ACCOUNT}:user/JohnDoe")
GROUP = "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*"


@pytest.mark.parametrize(
    "outcome, policy_type, text",
    [
        (
            Outcome.IMPLICIT_DENY,
            PolicyType.IDENTITY,
            "because no identity-based policy allows the {a} action",
        ),
        (
            Outcome.EXPLICIT_DENY,
            PolicyType.IDENTITY,
            "with an explicit deny in an identity-based policy",
        ),
        (
            Outcome.IMPLICIT_DENY,
            PolicyType.RESOURCE,
            "because no resource-based policy allows the {a} action",
        ),
        (
            Outcome.EXPLICIT_DENY,
            PolicyType.RESOURCE,
            "with an explicit deny in a resource-based policy",
        ),
        (
            Outcome.IMPLICIT_DENY,
            PolicyType.SESSION,
            "because no session policy allows the {a} action",
        ),
        (Outcome.EXPLICIT_DENY, PolicyType.SESSION, "with an explicit deny in a session policy"),
        (
            Outcome.IMPLICIT_DENY,
            PolicyType.BOUNDARY,
            "because no permissions boundary allows the {a} action",
        ),
        (
            Outcome.EXPLICIT_DENY,
            PolicyType.BOUNDARY,
            "with an explicit deny in a permissions boundary",
        ),
        (
            Outcome.IMPLICIT_DENY,
            PolicyType.ENDPOINT,
            "because no VPC endpoint policy allows the {a} action",
        ),
        (
            Outcome.EXPLICIT_DENY,
            PolicyType.ENDPOINT,
            "with an explicit deny in a VPC endpoint policy",
        ),
        (
            Outcome.IMPLICIT_DENY,
            PolicyType.TRUST,
            "because no role trust policy allows the {a} action",
        ),
        (Outcome.EXPLICIT_DENY, PolicyType.TRUST, "with an explicit deny in the role trust policy"),
    ],
)
def test_denial_messages(outcome, policy_type, text) -> None:
    request = Request(JOHN, "codedeploy:ListDeployments", GROUP)
    message = denial_message(Decision(outcome, policy_type), request)
    head = (
        "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: "
        f"codedeploy:ListDeployments on resource: {GROUP} "
    )
    assert message == head + text.format(a="codedeploy:ListDeployments")


def test_an_allow_has_no_denial_message() -> None:
    with pytest.raises(ValueError):
        denial_message(Decision(Outcome.ALLOW, PolicyType.IDENTITY), Request(JOHN, "s3:GetObject"))


def test_a_decision_names_the_deciding_statement() -> None:
    document = parse_policy(
        policy(
            allow("s3:*", Sid="ReadWrite"),
            {**allow("s3:Delete*"), "Effect": "Deny", "Sid": "NoDeletes"},
        )
    )
    assert evaluate(Request(ALICE, "s3:GetObject"), [document]).sid == "ReadWrite"
    assert evaluate(Request(ALICE, "s3:DeleteObject"), [document]).sid == "NoDeletes"
