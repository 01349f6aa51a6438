"""Cases for the evaluation logic across policy types: identity-based and resource-based
policies, permissions boundaries, session policies, role trust policies, the root user,
VPC endpoint policies and cross-account requests."""

from __future__ import annotations

from iam_case_model import (
    ACCOUNT,
    ALICE,
    BOUNDARIES,
    CROSS_ACCOUNT,
    DENY_ALLOW,
    OTHER_ACCOUNT,
    ROLE_ARN,
    ROOT,
    ROOT_POLICIES,
    SESSION,
    SESSION_POLICIES,
    SINGLE_ACCOUNT,
    TRUST,
    VPC_ENDPOINT,
    Case,
    allow,
    deny,
    policy,
)

from cove.iam.request import Principal

# --- the single-account example: Carlos and his bucket -----------------------------------

CARLOS = Principal.user(f"arn:aws:iam::{ACCOUNT}:user/carlossalazar")
CARLOS_POLICY = policy(
    allow(
        [
            "s3:GetBucketLocation",
            "s3:GetAccountPublicAccessBlock",
            "s3:ListAccessPoints",
            "s3:ListAllMyBuckets",
        ],
        "arn:aws:s3:::*",
        Sid="AllowS3ListRead",
    ),
    allow(
        "s3:*", ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"], Sid="AllowS3Self"
    ),
    deny("s3:*", "arn:aws:s3:::*log*", Sid="DenyS3Logs"),
)
CARLOS_BUCKET = policy(
    allow(
        "s3:*",
        ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
        Principal={"AWS": CARLOS.arn},
    ),
)


def _carlos(
    title: str, expect: str, resource: str, *, identity=(CARLOS_POLICY,), bucket=(CARLOS_BUCKET,)
):
    return Case(
        "Evaluation: identity and resource",
        title,
        SINGLE_ACCOUNT,
        expect,
        principal=CARLOS,
        action="s3:PutObject",
        resource=resource,
        identity=identity,
        resource_policies=bucket,
    )


CARLOS_CASES = [
    _carlos(
        "Saving to carlossalazar-logs: DenyS3Logs denies",
        "ExplicitDeny/identity",
        "arn:aws:s3:::carlossalazar-logs",
    ),
    _carlos(
        "Saving to carlossalazar: both policies allow",
        "Allow/resource",
        "arn:aws:s3:::carlossalazar/file.txt",
    ),
    _carlos(
        "Only the bucket policy allows: still allowed",
        "Allow/resource",
        "arn:aws:s3:::carlossalazar/file.txt",
        identity=(),
    ),
    _carlos(
        "Only the identity policy allows: still allowed",
        "Allow/identity",
        "arn:aws:s3:::carlossalazar/file.txt",
        bucket=(),
    ),
    _carlos(
        "A Deny in the bucket policy overrides the identity policy's Allow",
        "ExplicitDeny/resource",
        "arn:aws:s3:::carlossalazar/file.txt",
        bucket=(policy(deny("s3:PutObject", "arn:aws:s3:::carlossalazar/*", Principal="*")),),
    ),
    _carlos(
        "An identity-based Deny overrides the bucket policy's grant",
        "ExplicitDeny/identity",
        "arn:aws:s3:::carlossalazar/file.txt",
        identity=(policy(deny("s3:PutObject")),),
    ),
]

# --- permissions boundaries -------------------------------------------------------------

OBJECT = "arn:aws:s3:::DOC-EXAMPLE-BUCKET/report.csv"
ALL_S3 = policy(allow("s3:*"))
READ_ONLY = policy(allow("s3:GetObject"))
NAMES_ALICE = policy(
    allow("s3:*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*", Principal={"AWS": ALICE.arn})
)
NAMES_ROLE = policy(allow("s3:*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*", Principal={"AWS": ROLE_ARN}))
NAMES_SESSION = policy(
    allow("s3:*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*", Principal={"AWS": SESSION.arn})
)
EC2_ONLY = policy(allow("ec2:*"))


def _boundary(title: str, expect: str, action: str, **policies) -> Case:
    return Case(
        "Evaluation: permissions boundary",
        title,
        BOUNDARIES,
        expect,
        action=action,
        resource=OBJECT,
        **policies,
    )


BOUNDARY_CASES = [
    _boundary(
        "Identity allows s3:*, the boundary s3:GetObject: GetObject is allowed",
        "Allow/identity",
        "s3:GetObject",
        identity=(ALL_S3,),
        boundary=READ_ONLY,
    ),
    _boundary(
        "... PutObject is outside the boundary",
        "ImplicitDeny/boundary",
        "s3:PutObject",
        identity=(ALL_S3,),
        boundary=READ_ONLY,
    ),
    _boundary(
        "The boundary grants nothing by itself",
        "ImplicitDeny/identity",
        "s3:GetObject",
        boundary=READ_ONLY,
    ),
    _boundary(
        "An explicit Deny in the boundary",
        "ExplicitDeny/boundary",
        "s3:GetObject",
        identity=(ALL_S3,),
        boundary=policy(allow(), deny("s3:GetObject")),
    ),
    _boundary(
        "A resource policy naming the user is not limited by the boundary",
        "Allow/resource",
        "s3:PutObject",
        boundary=EC2_ONLY,
        resource_policies=(NAMES_ALICE,),
    ),
    _boundary(
        "A resource policy naming the role is limited by its session's boundary",
        "ImplicitDeny/boundary",
        "s3:PutObject",
        principal=SESSION,
        boundary=EC2_ONLY,
        resource_policies=(NAMES_ROLE,),
    ),
    _boundary(
        "A resource policy naming the session is not",
        "Allow/resource",
        "s3:PutObject",
        principal=SESSION,
        boundary=EC2_ONLY,
        resource_policies=(NAMES_SESSION,),
    ),
    _boundary(
        "A Deny with NotPrincipal denies a caller with a boundary, though it lists them",
        "ExplicitDeny/resource",
        "s3:GetObject",
        identity=(ALL_S3,),
        boundary=ALL_S3,
        resource_policies=(
            policy(deny("s3:*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*",
                        NotPrincipal={"AWS": [ALICE.arn, f"arn:aws:iam::{ACCOUNT}:root"]})),
        ),  # fmt: skip
    ),
    _boundary(
        "... and spares the same caller without one",
        "Allow/identity",
        "s3:GetObject",
        identity=(ALL_S3,),
        resource_policies=(
            policy(deny("s3:*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*",
                        NotPrincipal={"AWS": [ALICE.arn, f"arn:aws:iam::{ACCOUNT}:root"]})),
        ),  # fmt: skip
    ),
    _boundary(
        "A resource policy naming the account does not escape the boundary",
        "ImplicitDeny/boundary",
        "s3:PutObject",
        identity=(ALL_S3,),
        boundary=EC2_ONLY,
        resource_policies=(policy(allow("s3:*", "*", Principal={"AWS": ACCOUNT})),),
    ),
]

# --- session policies --------------------------------------------------------------------


def _session(title: str, expect: str, action: str = "s3:PutObject", **policies) -> Case:
    return Case(
        "Evaluation: session policy",
        title,
        SESSION_POLICIES,
        expect,
        principal=SESSION,
        action=action,
        resource=OBJECT,
        **policies,
    )


SESSION_CASES = [
    _session(
        "The role allows s3:*, the session policy s3:GetObject: GetObject is allowed",
        "Allow/identity",
        "s3:GetObject",
        identity=(ALL_S3,),
        session=(READ_ONLY,),
    ),
    _session(
        "... PutObject is outside the session policy",
        "ImplicitDeny/session",
        identity=(ALL_S3,),
        session=(READ_ONLY,),
    ),
    _session(
        "A session policy grants nothing the role's policies do not",
        "ImplicitDeny/identity",
        "s3:GetObject",
        session=(READ_ONLY,),
    ),
    _session(
        "An explicit Deny in a session policy",
        "ExplicitDeny/session",
        identity=(ALL_S3,),
        session=(policy(allow(), deny("s3:PutObject")),),
    ),
    _session(
        "Without a session policy the role's own policies decide",
        "Allow/identity",
        identity=(ALL_S3,),
    ),
    _session(
        "A resource policy naming the session is not limited by the session policy",
        "Allow/resource",
        session=(READ_ONLY,),
        resource_policies=(NAMES_SESSION,),
    ),
    _session(
        "A resource policy naming the role is limited by it",
        "ImplicitDeny/session",
        session=(READ_ONLY,),
        resource_policies=(NAMES_ROLE,),
    ),
    _session(
        "A resource policy naming the role needs no identity-based Allow",
        "Allow/resource",
        resource_policies=(NAMES_ROLE,),
    ),
]

# --- role trust policies -----------------------------------------------------------------

ASSUME = "sts:AssumeRole"
TRUSTS_ALICE = policy({"Effect": "Allow", "Principal": {"AWS": ALICE.arn}, "Action": ASSUME})
TRUSTS_ACCOUNT = policy(
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": ASSUME}
)
TRUSTS_OTHER_ACCOUNT = policy(
    {"Effect": "Allow", "Principal": {"AWS": OTHER_ACCOUNT}, "Action": ASSUME}
)
TRUSTS_SAGEMAKER = policy(
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": ASSUME}
)
MAY_ASSUME = policy(allow(ASSUME, ROLE_ARN))
OTHER_USER = Principal.user(f"arn:aws:iam::{OTHER_ACCOUNT}:user/dana")


def _trust(title: str, expect: str, trust: dict, **options) -> Case:
    return Case(
        "Evaluation: role trust policy",
        title,
        TRUST,
        expect,
        action=ASSUME,
        resource=ROLE_ARN,
        trust=trust,
        **options,
    )


TRUST_CASES = [
    _trust(
        "A user named in the trust policy needs no identity policy", "Allow/trust", TRUSTS_ALICE
    ),
    _trust(
        "A trust policy naming the account needs an identity-based Allow",
        "ImplicitDeny/identity",
        TRUSTS_ACCOUNT,
    ),
    _trust(
        "... with it, the user may assume the role",
        "Allow/identity",
        TRUSTS_ACCOUNT,
        identity=(MAY_ASSUME,),
    ),
    _trust(
        "An identity-based Allow is not enough: the trust policy must allow",
        "ImplicitDeny/trust",
        TRUSTS_SAGEMAKER,
        identity=(MAY_ASSUME,),
    ),
    _trust(
        "A service principal named in the trust policy",
        "Allow/trust",
        TRUSTS_SAGEMAKER,
        principal=Principal.service("sagemaker.amazonaws.com"),
    ),
    _trust(
        "... another service is not trusted",
        "ImplicitDeny/trust",
        TRUSTS_SAGEMAKER,
        principal=Principal.service("lambda.amazonaws.com"),
    ),
    _trust(
        "Cross-account: the trusted account's user with an identity-based Allow",
        "Allow/identity",
        TRUSTS_OTHER_ACCOUNT,
        principal=OTHER_USER,
        resource_account=ACCOUNT,
        identity=(MAY_ASSUME,),
    ),
    _trust(
        "... without one",
        "ImplicitDeny/identity",
        TRUSTS_OTHER_ACCOUNT,
        principal=OTHER_USER,
        resource_account=ACCOUNT,
    ),
    _trust(
        "A Deny in the trust policy",
        "ExplicitDeny/trust",
        policy(
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": ASSUME},
            {"Effect": "Deny", "Principal": {"AWS": ALICE.arn}, "Action": ASSUME},
        ),
        identity=(MAY_ASSUME,),
    ),
]

# --- the root user -----------------------------------------------------------------------

ROOT_CASES = [
    Case(
        "Evaluation: root user",
        "The root user has full access without any policy",
        DENY_ALLOW,
        "Allow/root",
        principal=ROOT,
        action="iam:CreateUser",
    ),
    Case(
        "Evaluation: root user",
        "Identity-based policies cannot be attached to root: a Deny there is moot",
        ROOT_POLICIES,
        "Allow/root",
        principal=ROOT,
        identity=(policy(deny()),),
    ),
    Case(
        "Evaluation: root user",
        "A resource-based policy can deny the root user",
        ROOT_POLICIES,
        "ExplicitDeny/resource",
        principal=ROOT,
        resource=OBJECT,
        resource_policies=(policy(deny("s3:*", "*", Principal={"AWS": ACCOUNT})),),
    ),
    Case(
        "Evaluation: root user",
        "Another account's resource needs its resource policy to allow",
        CROSS_ACCOUNT,
        "ImplicitDeny/resource",
        principal=ROOT,
        resource=OBJECT,
        resource_account=OTHER_ACCOUNT,
    ),
    Case(
        "Evaluation: root user",
        "... and with it, root needs nothing more",
        CROSS_ACCOUNT,
        "Allow/resource",
        principal=ROOT,
        resource=OBJECT,
        resource_account=OTHER_ACCOUNT,
        resource_policies=(policy(allow("s3:*", "*", Principal={"AWS": ACCOUNT})),),
    ),
]

# --- VPC endpoint policies ---------------------------------------------------------------

FULL_ACCESS = policy(allow(Principal="*"))
READ_THROUGH = policy(allow("s3:GetObject", "*", Principal="*"))


def _endpoint(title: str, expect: str, action: str, endpoint: dict, **options) -> Case:
    return Case(
        "Evaluation: VPC endpoint policy",
        title,
        VPC_ENDPOINT,
        expect,
        action=action,
        resource=OBJECT,
        endpoint=(endpoint,),
        **options,
    )


ENDPOINT_CASES = [
    _endpoint(
        "The default endpoint policy allows full access: identity policies decide",
        "Allow/identity",
        "s3:PutObject",
        FULL_ACCESS,
        identity=(ALL_S3,),
    ),
    _endpoint(
        "An endpoint policy allowing s3:GetObject lets GetObject through",
        "Allow/identity",
        "s3:GetObject",
        READ_THROUGH,
        identity=(ALL_S3,),
    ),
    _endpoint(
        "... not PutObject",
        "ImplicitDeny/endpoint",
        "s3:PutObject",
        READ_THROUGH,
        identity=(ALL_S3,),
    ),
    _endpoint(
        "An explicit Deny in the endpoint policy",
        "ExplicitDeny/endpoint",
        "s3:GetObject",
        policy(allow(Principal="*"), deny("s3:GetObject", "*", Principal="*")),
        identity=(ALL_S3,),
    ),
    _endpoint(
        "An endpoint policy grants nothing by itself",
        "ImplicitDeny/identity",
        "s3:GetObject",
        READ_THROUGH,
    ),
]

# --- cross-account -------------------------------------------------------------------------

PRODUCTION = "arn:aws:s3:::Production/logs.txt"
CARLOS_ELSEWHERE = Principal.user(f"arn:aws:iam::{OTHER_ACCOUNT}:user/carlossalazar")
PRODUCTION_POLICY = policy(
    allow(
        ["s3:GetObject*", "s3:PutObject*", "s3:ReplicateObject", "s3:RestoreObject"],
        "arn:aws:s3:::Production/*",
        Principal={"AWS": CARLOS_ELSEWHERE.arn},
    )
)
OBJECT_ACTIONS = policy(allow("s3:*Object*", "arn:aws:s3:::Production/*"))


def _cross(title: str, expect: str, **policies) -> Case:
    return Case(
        "Evaluation: cross-account",
        title,
        CROSS_ACCOUNT,
        expect,
        principal=CARLOS_ELSEWHERE,
        action="s3:PutObject",
        resource=PRODUCTION,
        resource_account=ACCOUNT,
        **policies,
    )


CROSS_CASES = [
    _cross(
        "Both the identity policy and the bucket policy allow",
        "Allow/identity",
        identity=(OBJECT_ACTIONS,),
        resource_policies=(PRODUCTION_POLICY,),
    ),
    _cross(
        "The bucket policy alone does not grant another account's user",
        "ImplicitDeny/identity",
        resource_policies=(PRODUCTION_POLICY,),
    ),
    _cross(
        "The identity policy alone does not reach another account's bucket",
        "ImplicitDeny/resource",
        identity=(OBJECT_ACTIONS,),
    ),
    _cross(
        "A Deny in either account wins",
        "ExplicitDeny/resource",
        identity=(OBJECT_ACTIONS,),
        resource_policies=(PRODUCTION_POLICY, policy(deny("s3:PutObject", "*", Principal="*"))),
    ),
]

CASES = [
    *CARLOS_CASES,
    *BOUNDARY_CASES,
    *SESSION_CASES,
    *TRUST_CASES,
    *ROOT_CASES,
    *ENDPOINT_CASES,
    *CROSS_CASES,
]
