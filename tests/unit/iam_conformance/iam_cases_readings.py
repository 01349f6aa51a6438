"""Cases where AWS's pages leave the behaviour open, and what Cove chose.

Each cites the page that comes closest; the title says what the page does not settle.
"""

from __future__ import annotations

from iam_case_model import (
    ACCOUNT,
    NOT_PRINCIPAL,
    OPERATORS,
    OTHER_ACCOUNT,
    ROOT,
    SET_OPERATORS,
    VARIABLES,
    VPC_ENDPOINT,
    Case,
    allow,
    deny,
    policy,
    when,
)

from cove.iam.request import Principal

FAMILY = "Cove's reading where the documentation is silent"
BUCKET = "arn:aws:s3:::DOC-EXAMPLE-BUCKET"
BOB = Principal.user(f"arn:aws:iam::{OTHER_ACCOUNT}:user/Bob")

CASES = [
    # "If the NotPrincipal element contained only Bob's ARN, the effect of the policy
    # might be to explicitly deny access to the AWS account that contains the user Bob"
    Case(
        FAMILY,
        "NotPrincipal listing Bob but not his account: Bob is denied with his account",
        NOT_PRINCIPAL,
        "ExplicitDeny/resource",
        principal=BOB,
        resource=BUCKET + "/report.csv",
        resource_account=ACCOUNT,
        identity=(policy(allow("s3:GetObject")),),
        resource_policies=(
            policy(
                allow("s3:*", [BUCKET, BUCKET + "/*"], Principal={"AWS": OTHER_ACCOUNT}),
                deny("s3:*", [BUCKET, BUCKET + "/*"], NotPrincipal={"AWS": BOB.arn}),
            ),
        ),
    ),
    Case(
        FAMILY,
        "A VPC endpoint policy filters the root user as it filters everyone",
        VPC_ENDPOINT,
        "ImplicitDeny/endpoint",
        principal=ROOT,
        action="s3:PutObject",
        resource=BUCKET + "/report.csv",
        endpoint=(policy(allow("s3:GetObject", "*", Principal="*")),),
    ),
    when(
        FAMILY,
        "Bool compares true and false without case",
        OPERATORS + "#Conditions_Boolean",
        {"Bool": {"aws:SecureTransport": "true"}},
        {"aws:SecureTransport": "TRUE"},
        True,
    ),
    when(
        FAMILY,
        "A variable's value is literal in StringLike: a * in a user name is no wildcard",
        VARIABLES,
        {"StringLike": {"s3:prefix": "${aws:username}/*"}},
        {"aws:username": "a*", "s3:prefix": "abc/x"},
        False,
    ),
    when(
        FAMILY,
        "An operator without a set qualifier on several values: any value matching matches",
        SET_OPERATORS,
        {"StringEquals": {"aws:TagKeys": "team"}},
        {"aws:TagKeys": ["cost-center", "team"]},
        True,
    ),
    when(
        FAMILY,
        "... so its negation holds only when none matches",
        SET_OPERATORS,
        {"StringNotEquals": {"aws:TagKeys": "team"}},
        {"aws:TagKeys": ["cost-center", "team"]},
        False,
    ),
]
