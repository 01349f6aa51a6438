"""Cases for the statement elements: Effect, Action, NotAction, Resource, NotResource,
Principal and NotPrincipal, each from its IAM User Guide page."""

from __future__ import annotations

from iam_case_model import (
    ACCOUNT,
    ACTION,
    ALICE,
    ANONYMOUS,
    BOB,
    EFFECT,
    EXAMPLE_REGIONS,
    EXAMPLE_S3_ONLY,
    INTERPLAY,
    NOT_ACTION,
    NOT_PRINCIPAL,
    NOT_RESOURCE,
    OTHER_ACCOUNT,
    PRINCIPAL,
    RESOURCE,
    ROLE_ARN,
    SESSION,
    Case,
    allow,
    deny,
    policy,
)

from cove.iam.request import Principal

# --- Effect and explicit/implicit deny ------------------------------------------------

# "The difference between explicit and implicit denies": Get*/List* allowed, *Report denied
REPORTS = policy(
    allow(["iam:Get*", "iam:List*"], Sid="AllowGetList"),
    deny("iam:*Report", Sid="DenyReports"),
)

EFFECT_CASES = [
    Case(
        "Effect",
        "An Allow statement allows",
        EFFECT,
        "Allow/identity",
        identity=(policy(allow("s3:*")),),
    ),
    Case("Effect", "No policy at all: implicit deny", INTERPLAY, "ImplicitDeny/identity"),
    Case(
        "Effect",
        "Deny overrides an Allow of the same action",
        EFFECT,
        "ExplicitDeny/identity",
        identity=(policy(allow("s3:*"), deny("s3:GetObject")),),
    ),
    Case(
        "Effect",
        "AllowGetList allows iam:GetUser",
        INTERPLAY,
        "Allow/identity",
        action="iam:GetUser",
        identity=(REPORTS,),
    ),
    Case(
        "Effect",
        "iam:CreatePolicy is implicitly denied",
        INTERPLAY,
        "ImplicitDeny/identity",
        action="iam:CreatePolicy",
        identity=(REPORTS,),
    ),
    Case(
        "Effect",
        "DenyReports explicitly denies iam:GetOrganizationsAccessReport",
        INTERPLAY,
        "ExplicitDeny/identity",
        action="iam:GetOrganizationsAccessReport",
        identity=(REPORTS,),
    ),
    Case(
        "Effect",
        "Another policy allowing iam:GenerateCredentialReport does not lift the deny",
        INTERPLAY,
        "ExplicitDeny/identity",
        action="iam:GenerateCredentialReport",
        identity=(REPORTS, policy(allow("iam:GenerateCredentialReport"))),
    ),
    Case(
        "Effect",
        "A Deny in a group's policy overrides the user's own Allow",
        INTERPLAY,
        "ExplicitDeny/identity",
        identity=(policy(allow()), policy(deny("s3:*"))),
    ),
]

# --- Action ---------------------------------------------------------------------------

ACCESS_KEYS = policy(allow("iam:*AccessKey*", f"arn:aws:iam::{ACCOUNT}:user/*"))
ALICE_USER = f"arn:aws:iam::{ACCOUNT}:user/alice"


def _action(title: str, action: str, allowed: bool, document: dict, resource: str = "*") -> Case:
    expect = "Allow/identity" if allowed else "ImplicitDeny/identity"
    return Case(
        "Action", title, ACTION, expect, action=action, resource=resource, identity=(document,)
    )


ACTION_CASES = [
    _action("s3:* covers s3:GetObject", "s3:GetObject", True, policy(allow("s3:*"))),
    _action(
        "s3:* does not cover ec2:StartInstances", "ec2:StartInstances", False, policy(allow("s3:*"))
    ),
    _action(
        "Prefix and name are case-insensitive: iam:ListAccessKeys is IAM:listaccesskeys",
        "IAM:listaccesskeys",
        True,
        policy(allow("iam:ListAccessKeys")),
    ),
    _action(
        "iam:*AccessKey* covers iam:CreateAccessKey",
        "iam:CreateAccessKey",
        True,
        ACCESS_KEYS,
        ALICE_USER,
    ),
    _action(
        "iam:*AccessKey* covers iam:ListAccessKeys",
        "iam:ListAccessKeys",
        True,
        ACCESS_KEYS,
        ALICE_USER,
    ),
    _action(
        "iam:*AccessKey* covers iam:UpdateAccessKey",
        "iam:UpdateAccessKey",
        True,
        ACCESS_KEYS,
        ALICE_USER,
    ),
    _action(
        "iam:*AccessKey* does not cover iam:GetUser", "iam:GetUser", False, ACCESS_KEYS, ALICE_USER
    ),
    _action(
        "A list of actions: each one is covered",
        "ec2:StartInstances",
        True,
        policy(allow(["sqs:SendMessage", "sqs:ReceiveMessage", "ec2:StartInstances"])),
    ),
    _action(
        '"*" covers every action of every service',
        "sagemaker:CreateModel",
        True,
        policy(allow("*")),
    ),
    _action(
        "s3:Get* covers s3:GetObject", "s3:GetObject", True, policy(allow(["s3:Get*", "s3:List*"]))
    ),
    _action(
        "s3:Get* does not cover s3:PutObject",
        "s3:PutObject",
        False,
        policy(allow(["s3:Get*", "s3:List*"])),
    ),
]

# --- NotAction ------------------------------------------------------------------------

NO_IAM = policy(allow(NotAction="iam:*", Resource="*"))
S3_BUT_DELETE_BUCKET = policy(allow(NotAction="s3:DeleteBucket", Resource="arn:aws:s3:::*"))
MFA_OR_IAM_ONLY = policy(
    allow(),
    deny(
        NotAction="iam:*",
        Sid="DenyAllUsersNotUsingMFA",
        Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    ),
)
REGIONS = policy(
    allow(),
    deny(
        NotAction=["cloudfront:*", "iam:*", "route53:*", "support:*"],
        Sid="DenyAllOutsideRequestedRegions",
        Condition={
            "StringNotEquals": {
                "aws:RequestedRegion": ["eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3"]
            }
        },
    ),
)

NOT_ACTION_CASES = [
    Case(
        "NotAction",
        "Allow NotAction iam:* allows s3:GetObject",
        NOT_ACTION,
        "Allow/identity",
        identity=(NO_IAM,),
    ),
    Case(
        "NotAction",
        "Allow NotAction iam:* does not allow iam:CreateUser",
        NOT_ACTION,
        "ImplicitDeny/identity",
        action="iam:CreateUser",
        identity=(NO_IAM,),
    ),
    Case(
        "NotAction",
        "Allow NotAction s3:DeleteBucket on arn:aws:s3:::* allows s3:GetObject",
        NOT_ACTION,
        "Allow/identity",
        resource="arn:aws:s3:::b/k",
        identity=(S3_BUT_DELETE_BUCKET,),
    ),
    Case(
        "NotAction",
        "... but not s3:DeleteBucket",
        NOT_ACTION,
        "ImplicitDeny/identity",
        action="s3:DeleteBucket",
        resource="arn:aws:s3:::b",
        identity=(S3_BUT_DELETE_BUCKET,),
    ),
    Case(
        "NotAction",
        "... nor actions of other services, whose resources are not S3's",
        NOT_ACTION,
        "ImplicitDeny/identity",
        action="ec2:RunInstances",
        resource=f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1",
        identity=(S3_BUT_DELETE_BUCKET,),
    ),
    Case(
        "NotAction",
        "Deny NotAction iam:* without MFA denies s3:GetObject",
        NOT_ACTION,
        "ExplicitDeny/identity",
        identity=(MFA_OR_IAM_ONLY,),
    ),
    Case(
        "NotAction",
        "... not when signed in with MFA",
        NOT_ACTION,
        "Allow/identity",
        context={"aws:MultiFactorAuthPresent": "true"},
        identity=(MFA_OR_IAM_ONLY,),
    ),
    Case(
        "NotAction",
        "... and never IAM actions",
        NOT_ACTION,
        "Allow/identity",
        action="iam:ListUsers",
        identity=(MFA_OR_IAM_ONLY,),
    ),
    Case(
        "NotAction",
        "Requested-Region deny: ec2 in us-east-1 is denied",
        EXAMPLE_REGIONS,
        "ExplicitDeny/identity",
        action="ec2:DescribeInstances",
        context={"aws:RequestedRegion": "us-east-1"},
        identity=(REGIONS,),
    ),
    Case(
        "NotAction",
        "... ec2 in eu-west-1 is not",
        EXAMPLE_REGIONS,
        "Allow/identity",
        action="ec2:DescribeInstances",
        context={"aws:RequestedRegion": "eu-west-1"},
        identity=(REGIONS,),
    ),
    Case(
        "NotAction",
        "... nor a global service such as IAM in us-east-1",
        EXAMPLE_REGIONS,
        "Allow/identity",
        action="iam:ListRoles",
        context={"aws:RequestedRegion": "us-east-1"},
        identity=(REGIONS,),
    ),
]

# --- Resource -------------------------------------------------------------------------

ACCOUNTING = policy(allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/accounting/*"))
TEST_FOLDERS = policy(allow("s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*"))
TABLES = policy(
    allow(
        "dynamodb:GetItem",
        [
            f"arn:aws:dynamodb:us-east-2:{ACCOUNT}:table/books_table",
            f"arn:aws:dynamodb:us-east-2:{ACCOUNT}:table/magazines_table",
        ],
    )
)


def _object(key: str, matches: bool) -> Case:
    expect = "Allow/identity" if matches else "ImplicitDeny/identity"
    verb = "matches" if matches else "does not match"
    return Case(
        "Resource",
        f"DOC-EXAMPLE-BUCKET/*/test/* {verb} {key}",
        RESOURCE,
        expect,
        resource=f"arn:aws:s3:::DOC-EXAMPLE-BUCKET/{key}",
        identity=(TEST_FOLDERS,),
    )


RESOURCE_CASES = [
    Case(
        "Resource",
        "user/accounting/* covers users under the /accounting path",
        RESOURCE,
        "Allow/identity",
        action="iam:GetUser",
        resource=f"arn:aws:iam::{ACCOUNT}:user/accounting/bob",
        identity=(ACCOUNTING,),
    ),
    Case(
        "Resource",
        "... and no others",
        RESOURCE,
        "ImplicitDeny/identity",
        action="iam:GetUser",
        resource=f"arn:aws:iam::{ACCOUNT}:user/engineering/bob",
        identity=(ACCOUNTING,),
    ),
    # the page's lists of objects that `*` in the resource part does and does not match
    *(
        _object(key, True)
        for key in [
            "1/test/object.jpg",
            "1/2/test/object.jpg",
            "1/2/test/3/object.jpg",
            "1/2/3/test/4/object.jpg",
            "1///test///object.jpg",
            "1/test/.jpg",
            "/test/object.jpg",
            "1/test/",
        ]
    ),
    *(_object(key, False) for key in ["1-test/object.jpg", "test/object.jpg", "1/2/test.jpg"]),
    Case(
        "Resource",
        "A list of resources: each is covered",
        RESOURCE,
        "Allow/identity",
        action="dynamodb:GetItem",
        resource=f"arn:aws:dynamodb:us-east-2:{ACCOUNT}:table/magazines_table",
        identity=(TABLES,),
    ),
    Case(
        "Resource",
        "... and a table not listed is not",
        RESOURCE,
        "ImplicitDeny/identity",
        action="dynamodb:GetItem",
        resource=f"arn:aws:dynamodb:us-east-2:{ACCOUNT}:table/other",
        identity=(TABLES,),
    ),
]

# --- NotResource ----------------------------------------------------------------------

PAYROLL_ONLY = policy(
    allow(),
    deny("s3:*", NotResource=["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]),
)
ONE_BUCKET = policy(
    allow("s3:*", ["arn:aws:s3:::bucket-name", "arn:aws:s3:::bucket-name/*"]),
    deny(NotAction="s3:*", NotResource=["arn:aws:s3:::bucket-name", "arn:aws:s3:::bucket-name/*"]),
)

NOT_RESOURCE_CASES = [
    Case(
        "NotResource",
        "Deny s3:* NotResource Payroll spares the Payroll folder",
        NOT_RESOURCE,
        "Allow/identity",
        resource="arn:aws:s3:::HRBucket/Payroll/2024.csv",
        identity=(PAYROLL_ONLY,),
    ),
    Case(
        "NotResource",
        "... and denies any other S3 resource",
        NOT_RESOURCE,
        "ExplicitDeny/identity",
        resource="arn:aws:s3:::HRBucket/Benefits/plan.pdf",
        identity=(PAYROLL_ONLY,),
    ),
    Case(
        "NotResource",
        "... but not EC2 resources: the statement's actions are S3's",
        NOT_RESOURCE,
        "Allow/identity",
        action="ec2:DescribeInstances",
        identity=(PAYROLL_ONLY,),
    ),
    Case(
        "NotResource",
        "Restrict to one bucket: its objects are allowed",
        EXAMPLE_S3_ONLY,
        "Allow/identity",
        resource="arn:aws:s3:::bucket-name/report.csv",
        identity=(ONE_BUCKET,),
    ),
    Case(
        "NotResource",
        "... every other service is denied",
        EXAMPLE_S3_ONLY,
        "ExplicitDeny/identity",
        action="ec2:DescribeInstances",
        identity=(ONE_BUCKET,),
    ),
    Case(
        "NotResource",
        "... and other buckets are not allowed",
        EXAMPLE_S3_ONLY,
        "ImplicitDeny/identity",
        resource="arn:aws:s3:::other-bucket/report.csv",
        identity=(ONE_BUCKET,),
    ),
]

# --- Principal (resource-based policies) -----------------------------------------------

BUCKET = "arn:aws:s3:::DOC-EXAMPLE-BUCKET"
OBJECT = BUCKET + "/report.csv"


def bucket_policy(principal: object, effect: str = "Allow", **extra: object) -> dict:
    statement = (allow if effect == "Allow" else deny)("s3:*", [BUCKET, BUCKET + "/*"])
    return policy({**statement, "Principal": principal, **extra})


OTHER_USER = Principal.user(f"arn:aws:iam::{OTHER_ACCOUNT}:user/Bob")
S3_READ = policy(allow("s3:GetObject"))

PRINCIPAL_CASES = [
    Case(
        "Principal",
        "Naming the user grants on its own (same account)",
        PRINCIPAL,
        "Allow/resource",
        resource=OBJECT,
        resource_policies=(bucket_policy({"AWS": ALICE.arn}),),
    ),
    Case(
        "Principal",
        "Naming the account delegates: the user's own policies must allow",
        PRINCIPAL,
        "ImplicitDeny/identity",
        resource=OBJECT,
        resource_policies=(bucket_policy({"AWS": ACCOUNT}),),
    ),
    Case(
        "Principal",
        "... and with an identity-based Allow the request is allowed",
        PRINCIPAL,
        "Allow/identity",
        resource=OBJECT,
        identity=(S3_READ,),
        resource_policies=(bucket_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),),
    ),
    Case(
        "Principal",
        '"*" grants everyone, users of the account included',
        PRINCIPAL,
        "Allow/resource",
        resource=OBJECT,
        resource_policies=(bucket_policy("*"),),
    ),
    Case(
        "Principal",
        '"*" grants anonymous callers',
        PRINCIPAL,
        "Allow/resource",
        principal=ANONYMOUS,
        resource=OBJECT,
        resource_policies=(bucket_policy("*"),),
    ),
    Case(
        "Principal",
        '{"AWS": "*"} is the same as "*"',
        PRINCIPAL,
        "Allow/resource",
        principal=ANONYMOUS,
        resource=OBJECT,
        resource_policies=(bucket_policy({"AWS": "*"}),),
    ),
    Case(
        "Principal",
        "Anonymous callers get nothing a policy does not grant everyone",
        PRINCIPAL,
        "ImplicitDeny/resource",
        principal=ANONYMOUS,
        resource=OBJECT,
        resource_policies=(bucket_policy({"AWS": ACCOUNT}),),
    ),
    Case(
        "Principal",
        "An array of accounts: a user of the second, allowed by its own policy",
        PRINCIPAL,
        "Allow/identity",
        principal=OTHER_USER,
        resource=OBJECT,
        resource_account=ACCOUNT,
        identity=(S3_READ,),
        resource_policies=(bucket_policy({"AWS": [ACCOUNT, OTHER_ACCOUNT]}),),
    ),
    Case(
        "Principal",
        "The user name part of a user ARN is case-sensitive",
        PRINCIPAL,
        "ImplicitDeny/identity",
        principal=BOB,
        resource=OBJECT,
        resource_policies=(bucket_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}),),
    ),
    Case(
        "Principal",
        "A policy naming someone else grants this user nothing",
        PRINCIPAL,
        "ImplicitDeny/identity",
        principal=BOB,
        resource=OBJECT,
        resource_policies=(bucket_policy({"AWS": ALICE.arn}),),
    ),
    Case(
        "Principal",
        "Naming the role grants its sessions (no boundary or session policy here)",
        PRINCIPAL,
        "Allow/resource",
        principal=SESSION,
        resource=OBJECT,
        resource_policies=(bucket_policy({"AWS": ROLE_ARN}),),
    ),
    Case(
        "Principal",
        "Naming the role session grants that session",
        PRINCIPAL,
        "Allow/resource",
        principal=SESSION,
        resource=OBJECT,
        resource_policies=(bucket_policy({"AWS": SESSION.arn}),),
    ),
    Case(
        "Principal",
        "Deny Principal * unless aws:PrincipalArn is the named user: others are denied",
        PRINCIPAL,
        "ExplicitDeny/resource",
        principal=BOB,
        resource=OBJECT,
        context={"aws:PrincipalArn": BOB.arn},
        identity=(S3_READ,),
        resource_policies=(
            bucket_policy("*", "Deny", Condition={"ArnNotEquals": {"aws:PrincipalArn": ALICE.arn}}),
        ),
    ),
    Case(
        "Principal",
        "... and the named user is not",
        PRINCIPAL,
        "Allow/identity",
        resource=OBJECT,
        context={"aws:PrincipalArn": ALICE.arn},
        identity=(S3_READ,),
        resource_policies=(
            bucket_policy("*", "Deny", Condition={"ArnNotEquals": {"aws:PrincipalArn": ALICE.arn}}),
        ),
    ),
]

# --- NotPrincipal -----------------------------------------------------------------------

AUDIT_BUCKET = "arn:aws:s3:::Bucket_AccountAudit"
OTHER_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/cross-account-read-only-role"
AUDIT_SESSION = Principal.assumed_role(
    f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/cross-account-read-only-role/cross-account-audit-app",
    OTHER_ROLE,
)
OTHER_SESSION = Principal.assumed_role(
    f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/cross-account-read-only-role/someone-else",
    OTHER_ROLE,
)
BOB_AND_ACCOUNT = policy(
    allow("s3:*", [BUCKET, BUCKET + "/*"], Principal={"AWS": OTHER_ACCOUNT}),
    deny(
        "s3:*",
        [BUCKET, BUCKET + "/*"],
        NotPrincipal={"AWS": [OTHER_USER.arn, f"arn:aws:iam::{OTHER_ACCOUNT}:root"]},
    ),
)
AUDIT_APP = policy(
    allow("s3:*", [AUDIT_BUCKET, AUDIT_BUCKET + "/*"], Principal={"AWS": OTHER_ACCOUNT}),
    deny(
        "s3:*",
        [AUDIT_BUCKET, AUDIT_BUCKET + "/*"],
        NotPrincipal={"AWS": [AUDIT_SESSION.arn, OTHER_ROLE, f"arn:aws:iam::{OTHER_ACCOUNT}:root"]},
    ),
)
ALL_BUT_BOB = policy(allow("s3:GetObject", BUCKET + "/*", NotPrincipal={"AWS": BOB.arn}))
OTHER_ALICE = Principal.user(f"arn:aws:iam::{OTHER_ACCOUNT}:user/alice")


def _not_principal(
    title: str, expect: str, who: Principal, document: dict, resource: str = OBJECT
) -> Case:
    cross = {"resource_account": ACCOUNT, "identity": (S3_READ,)} if who.account != ACCOUNT else {}
    return Case(
        "NotPrincipal",
        title,
        NOT_PRINCIPAL,
        expect,
        principal=who,
        resource=resource,
        resource_policies=(document,),
        **cross,
    )


NOT_PRINCIPAL_CASES = [
    _not_principal(
        "Deny NotPrincipal [Bob, his account]: Bob is spared",
        "Allow/identity",
        OTHER_USER,
        BOB_AND_ACCOUNT,
    ),
    _not_principal(
        "... everyone else in his account is denied",
        "ExplicitDeny/resource",
        OTHER_ALICE,
        BOB_AND_ACCOUNT,
    ),
    _not_principal(
        "Session, role and account listed: the audit app's session is spared",
        "Allow/identity",
        AUDIT_SESSION,
        AUDIT_APP,
        AUDIT_BUCKET + "/log",
    ),
    _not_principal(
        "... another session of the same role is denied",
        "ExplicitDeny/resource",
        OTHER_SESSION,
        AUDIT_APP,
        AUDIT_BUCKET + "/log",
    ),
    _not_principal(
        "Allow NotPrincipal grants everyone but the one named", "Allow/resource", ALICE, ALL_BUT_BOB
    ),
    _not_principal(
        "... and the one named gets nothing from it", "ImplicitDeny/identity", BOB, ALL_BUT_BOB
    ),
]

CASES = [
    *EFFECT_CASES,
    *ACTION_CASES,
    *NOT_ACTION_CASES,
    *RESOURCE_CASES,
    *NOT_RESOURCE_CASES,
    *PRINCIPAL_CASES,
    *NOT_PRINCIPAL_CASES,
]
