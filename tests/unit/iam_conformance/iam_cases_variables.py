"""Cases for policy variables (IAM UG, "IAM policy elements: Variables and tags")."""

from __future__ import annotations

from iam_case_model import (
    ACCOUNT,
    OPERATORS,
    OTHER_ACCOUNT,
    SESSION,
    VARIABLES,
    VERSION,
    Case,
    allow,
    policy,
    when,
)

from cove.iam.request import Principal

FAMILY = "Variables"
OWN_FOLDER = allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::mybucket/${aws:username}/*")
USERNAME = {"aws:username": "alice"}
TEAM_BUCKET = allow(
    "s3:*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-${aws:PrincipalTag/team, 'company-wide'}"
)


def _variable(
    title: str, expect: str, document: dict, resource: str, context: dict | None = None, **options
) -> Case:
    context = USERNAME if context is None else context
    return Case(
        FAMILY,
        title,
        options.pop("source", VARIABLES),
        expect,
        resource=resource,
        context=context,
        identity=(document,),
        **options,
    )


def _like(title: str, pattern: str, value: str, holds: bool) -> Case:
    return when(
        FAMILY,
        title,
        VARIABLES,
        {"StringLike": {"s3:prefix": pattern}},
        {"s3:prefix": value},
        holds,
    )


VARIABLE_CASES = [
    _variable(
        "${aws:username} in Resource: the user's own folder",
        "Allow/identity",
        policy(OWN_FOLDER),
        "arn:aws:s3:::mybucket/alice/notes.txt",
    ),
    _variable(
        "... not another user's",
        "ImplicitDeny/identity",
        policy(OWN_FOLDER),
        "arn:aws:s3:::mybucket/bob/notes.txt",
    ),
    _variable(
        "Without a Version the variable is literal text: the own folder is not matched",
        "ImplicitDeny/identity",
        policy(OWN_FOLDER, version=None),
        "arn:aws:s3:::mybucket/alice/notes.txt",
        source=VERSION,
    ),
    _variable(
        "... only a key literally named ${aws:username} is",
        "Allow/identity",
        policy(OWN_FOLDER, version=None),
        "arn:aws:s3:::mybucket/${aws:username}/notes.txt",
        source=VERSION,
    ),
    _variable(
        "Version 2008-10-17 has no variables either",
        "ImplicitDeny/identity",
        policy(OWN_FOLDER, version="2008-10-17"),
        "arn:aws:s3:::mybucket/alice/notes.txt",
        source=VERSION,
    ),
    _variable(
        "Own access keys: iam:*AccessKey* on user/${aws:username}",
        "Allow/identity",
        policy(allow("iam:*AccessKey*", "arn:aws:iam::account-id:user/${aws:username}")),
        "arn:aws:iam::account-id:user/alice",
        action="iam:CreateAccessKey",
    ),
    _variable(
        "... not another user's keys",
        "ImplicitDeny/identity",
        policy(allow("iam:*AccessKey*", "arn:aws:iam::account-id:user/${aws:username}")),
        "arn:aws:iam::account-id:user/bob",
        action="iam:CreateAccessKey",
    ),
    _variable(
        "Queues named after the user: alice-queue",
        "Allow/identity",
        policy(allow("sqs:*", "arn:aws:sqs:us-east-2:*:${aws:username}-queue")),
        f"arn:aws:sqs:us-east-2:{ACCOUNT}:alice-queue",
        action="sqs:CreateQueue",
    ),
    _variable(
        "A variable without a value matches no resource: a role has no aws:username",
        "ImplicitDeny/identity",
        policy(OWN_FOLDER),
        "arn:aws:s3:::mybucket/worker/notes.txt",
        {},
        principal=SESSION,
    ),
    _variable(
        "A principal tag as a variable: bucket/${aws:PrincipalTag/department}",
        "Allow/identity",
        policy(allow("s3:*", "arn:aws:s3:::bucket/${aws:PrincipalTag/department}")),
        "arn:aws:s3:::bucket/finance",
        {"aws:PrincipalTag/department": "finance"},
    ),
    _variable(
        "Default value: a yellow-team member reaches the yellow bucket",
        "Allow/identity",
        policy(TEAM_BUCKET),
        "arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow",
        {"aws:PrincipalTag/team": "yellow"},
    ),
    _variable(
        "... an untagged user gets the default, company-wide",
        "Allow/identity",
        policy(TEAM_BUCKET),
        "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide",
        {},
    ),
    _variable(
        "... and not the yellow bucket",
        "ImplicitDeny/identity",
        policy(TEAM_BUCKET),
        "arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow",
        {},
    ),
    _variable(
        "Variable names are case-insensitive: ${AWS:UserName}",
        "Allow/identity",
        policy(allow("s3:GetObject", "arn:aws:s3:::mybucket/${AWS:UserName}/*")),
        "arn:aws:s3:::mybucket/alice/notes.txt",
    ),
    when(
        FAMILY,
        "In a condition: StringLike s3:prefix ${aws:username}/*",
        VARIABLES,
        {"StringLike": {"s3:prefix": ["${aws:username}/*"]}},
        {**USERNAME, "s3:prefix": "alice/photos/"},
        True,
        action="s3:ListBucket",
        resource="arn:aws:s3:::mybucket",
    ),
    when(
        FAMILY,
        "... another user's prefix does not match",
        VARIABLES,
        {"StringLike": {"s3:prefix": ["${aws:username}/*"]}},
        {**USERNAME, "s3:prefix": "bob/"},
        False,
        action="s3:ListBucket",
        resource="arn:aws:s3:::mybucket",
    ),
    when(
        FAMILY,
        "Deny StringNotEquals object tag vs ${aws:PrincipalTag/Team}: no Team tag is denied",
        VARIABLES,
        {"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}},
        {"s3:ExistingObjectTag/Team": "blue"},
        True,
        effect="Deny",
    ),
    when(
        FAMILY,
        "... the same Team on both is not",
        VARIABLES,
        {"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}},
        {"s3:ExistingObjectTag/Team": "blue", "aws:PrincipalTag/Team": "blue"},
        False,
        effect="Deny",
    ),
    _like("${*} is a literal asterisk", "file${*}.txt", "file*.txt", True),
    _like("... which is not a wildcard", "file${*}.txt", "file-1.txt", False),
    _like("${?} is a literal question mark", "what${?}", "what?", True),
    _like("${$} is a literal dollar sign", "cost${$}", "cost$", True),
    when(
        FAMILY,
        "No variables in Numeric operators: the text is not a number",
        OPERATORS + "#Conditions_Numeric",
        {"NumericEquals": {"s3:max-keys": "${aws:username}"}},
        {"aws:username": "10", "s3:max-keys": "10"},
        False,
    ),
    when(
        FAMILY,
        "ARN operators take variables: the caller's own account",
        OPERATORS + "#Conditions_ARN",
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:${aws:PrincipalAccount}:*"}},
        {
            "aws:PrincipalAccount": ACCOUNT,
            "aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:topic",
        },
        True,
    ),
    when(
        FAMILY,
        "A multivalued key is no variable",
        VARIABLES,
        {"StringEquals": {"s3:prefix": "${aws:TagKeys}"}},
        {"aws:TagKeys": ["a"], "s3:prefix": "a"},
        False,
    ),
]

# The SNS topic policy of the page: account 999999999999 (here OTHER_ACCOUNT) may manage
# the topic when the endpoint is the user's own URL over HTTPS.
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
TOPIC_POLICY = policy(
    {
        "Principal": {"AWS": OTHER_ACCOUNT},
        "Effect": "Allow",
        "Action": "sns:*",
        "Resource": TOPIC,
        "Condition": {
            "StringLike": {"sns:endpoint": "https://example.com/${aws:username}/"},
            "StringEquals": {"sns:Protocol": "https"},
        },
    }
)
CAROL = Principal.user(f"arn:aws:iam::{OTHER_ACCOUNT}:user/carol")


def _topic(title: str, expect: str, endpoint: str) -> Case:
    return Case(
        FAMILY,
        title,
        VARIABLES,
        expect,
        principal=CAROL,
        action="sns:Subscribe",
        resource=TOPIC,
        context={"aws:username": "carol", "sns:endpoint": endpoint, "sns:Protocol": "https"},
        identity=(policy(allow("sns:*")),),
        resource_policies=(TOPIC_POLICY,),
        resource_account=ACCOUNT,
    )


TOPIC_CASES = [
    _topic(
        "Topic policy: the user's own endpoint URL", "Allow/identity", "https://example.com/carol/"
    ),
    _topic(
        "... someone else's URL is not granted",
        "ImplicitDeny/resource",
        "https://example.com/dave/",
    ),
]

CASES = [*VARIABLE_CASES, *TOPIC_CASES]
