"""Cases for the Condition element: each operator family, ...IfExists, Null, several keys
and values, the ForAllValues/ForAnyValue qualifiers, and SageMaker's condition keys."""

from __future__ import annotations

from iam_case_model import (
    ACCOUNT,
    CONDITION,
    EXAMPLE_DATES,
    EXAMPLE_DENY_IP,
    MULTIPLE,
    MULTIVALUED_EXAMPLES,
    OPERATORS,
    SAGEMAKER,
    SET_OPERATORS,
    Case,
    allow,
    deny,
    policy,
    when,
)

STRING = OPERATORS + "#Conditions_String"
NUMERIC = OPERATORS + "#Conditions_Numeric"
DATE = OPERATORS + "#Conditions_Date"
BOOLEAN = OPERATORS + "#Conditions_Boolean"
BINARY = OPERATORS + "#Conditions_BinaryEquals"
IP = OPERATORS + "#Conditions_IPAddress"
ARN = OPERATORS + "#Conditions_ARN"
IF_EXISTS = OPERATORS + "#Conditions_IfExists"
NULL = OPERATORS + "#Conditions_Null"

JOB = {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}
HOME = {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}}


def alice(**values: str) -> dict:
    return {"aws:username": "alice", **values}


STRING_CASES = [
    when(
        "String",
        "StringEquals: the principal's job-category tag is iamuser-admin",
        STRING,
        JOB,
        {"aws:PrincipalTag/job-category": "iamuser-admin"},
        True,
    ),
    when(
        "String",
        "StringEquals: another tag value does not match",
        STRING,
        JOB,
        {"aws:PrincipalTag/job-category": "developer"},
        False,
    ),
    when("String", "StringEquals: a user without the tag does not match", STRING, JOB, {}, False),
    when(
        "String",
        "StringEquals is case-sensitive: johndoe is not JohnDoe",
        CONDITION,
        {"StringEquals": {"aws:username": "johndoe"}},
        {"aws:username": "JohnDoe"},
        False,
    ),
    when(
        "String",
        "StringEqualsIgnoreCase: johndoe matches JohnDoe",
        CONDITION,
        {"StringEqualsIgnoreCase": {"aws:username": "johndoe"}},
        {"aws:username": "JohnDoe"},
        True,
    ),
    when(
        "String",
        "StringNotEquals: another value holds",
        STRING,
        {"StringNotEquals": {"aws:username": "johndoe"}},
        {"aws:username": "mary"},
        True,
    ),
    when(
        "String",
        "StringNotEquals: a missing key holds (negated operator)",
        OPERATORS,
        {"StringNotEquals": {"aws:username": "johndoe"}},
        {},
        True,
    ),
    when(
        "String",
        "StringNotEqualsIgnoreCase: JOHNDOE is johndoe, so it does not hold",
        STRING,
        {"StringNotEqualsIgnoreCase": {"aws:username": "johndoe"}},
        {"aws:username": "JOHNDOE"},
        False,
    ),
    when(
        "String",
        "StringLike home directory: the empty prefix",
        STRING,
        HOME,
        alice(**{"s3:prefix": ""}),
        True,
        action="s3:ListBucket",
    ),
    when(
        "String",
        "StringLike home directory: home/",
        STRING,
        HOME,
        alice(**{"s3:prefix": "home/"}),
        True,
        action="s3:ListBucket",
    ),
    when(
        "String",
        "StringLike home directory: the user's own home/alice/",
        STRING,
        HOME,
        alice(**{"s3:prefix": "home/alice/"}),
        True,
        action="s3:ListBucket",
    ),
    when(
        "String",
        "StringLike home directory: not someone else's home/bob/",
        STRING,
        HOME,
        alice(**{"s3:prefix": "home/bob/"}),
        False,
        action="s3:ListBucket",
    ),
    when(
        "String",
        "StringLike: * matches any run of characters",
        STRING,
        {"StringLike": {"s3:prefix": "janedoe/*"}},
        {"s3:prefix": "janedoe/photos/2024/"},
        True,
    ),
    when(
        "String",
        "StringLike: ? matches one character",
        STRING,
        {"StringLike": {"s3:prefix": "home/?/"}},
        {"s3:prefix": "home/a/"},
        True,
    ),
    when(
        "String",
        "StringLike: ? matches exactly one character, not two",
        STRING,
        {"StringLike": {"s3:prefix": "home/?/"}},
        {"s3:prefix": "home/ab/"},
        False,
    ),
    when(
        "String",
        "StringLike is case-sensitive",
        STRING,
        {"StringLike": {"s3:prefix": "janedoe/*"}},
        {"s3:prefix": "JaneDoe/photos/"},
        False,
    ),
    when(
        "String",
        "StringNotLike: a missing key holds",
        OPERATORS,
        {"StringNotLike": {"s3:prefix": "janedoe/*"}},
        {},
        True,
    ),
    when(
        "String",
        "StringNotLike: a matching value does not hold",
        STRING,
        {"StringNotLike": {"s3:prefix": "janedoe/*"}},
        {"s3:prefix": "janedoe/x"},
        False,
    ),
    when(
        "String",
        "Condition key names are case-insensitive: AWS:UserName is aws:username",
        CONDITION,
        {"StringEquals": {"AWS:UserName": "johndoe"}},
        {"aws:username": "johndoe"},
        True,
    ),
    when(
        "String",
        "aws:ResourceTag/TagKey1 matches a tag key named tagkey1",
        CONDITION,
        {"StringEquals": {"aws:ResourceTag/TagKey1": "Value1"}},
        {"aws:ResourceTag/tagkey1": "Value1"},
        True,
    ),
]

MAX_KEYS = {"NumericLessThanEquals": {"s3:max-keys": "10"}}
MFA_AGE = {"NumericLessThanEquals": {"aws:MultiFactorAuthAge": "3600"}}

NUMERIC_CASES = [
    when(
        "Numeric",
        "NumericLessThanEquals s3:max-keys 10: 10 is allowed",
        NUMERIC,
        MAX_KEYS,
        {"s3:max-keys": "10"},
        True,
        action="s3:ListBucket",
    ),
    when(
        "Numeric",
        "... 5 is allowed",
        NUMERIC,
        MAX_KEYS,
        {"s3:max-keys": "5"},
        True,
        action="s3:ListBucket",
    ),
    when(
        "Numeric",
        "... 11 is not",
        NUMERIC,
        MAX_KEYS,
        {"s3:max-keys": "11"},
        False,
        action="s3:ListBucket",
    ),
    when(
        "Numeric",
        "Recent MFA (1800 s ago) is within 3600",
        CONDITION,
        MFA_AGE,
        {"aws:MultiFactorAuthAge": "1800"},
        True,
        action="iam:DeactivateMFADevice",
    ),
    when(
        "Numeric",
        "MFA 7200 s ago is not",
        CONDITION,
        MFA_AGE,
        {"aws:MultiFactorAuthAge": "7200"},
        False,
        action="iam:DeactivateMFADevice",
    ),
    when(
        "Numeric",
        "Access keys carry no aws:MultiFactorAuthAge: not present, no match",
        CONDITION,
        MFA_AGE,
        {},
        False,
        action="iam:DeactivateMFADevice",
    ),
    when(
        "Numeric",
        "NumericEquals compares values, not text: 10 equals 10.0",
        NUMERIC,
        {"NumericEquals": {"s3:max-keys": "10"}},
        {"s3:max-keys": "10.0"},
        True,
    ),
    when(
        "Numeric",
        "NumericNotEquals: a missing key holds",
        OPERATORS,
        {"NumericNotEquals": {"s3:max-keys": "10"}},
        {},
        True,
    ),
    when(
        "Numeric",
        "NumericGreaterThan takes decimals: 2 > 1.5",
        NUMERIC,
        {"NumericGreaterThan": {"s3:max-keys": "1.5"}},
        {"s3:max-keys": "2"},
        True,
    ),
    when(
        "Numeric",
        "NumericLessThan: 10 is not less than 10",
        NUMERIC,
        {"NumericLessThan": {"s3:max-keys": "10"}},
        {"s3:max-keys": "10"},
        False,
    ),
    when(
        "Numeric",
        "NumericGreaterThanEquals: 10 >= 10",
        NUMERIC,
        {"NumericGreaterThanEquals": {"s3:max-keys": "10"}},
        {"s3:max-keys": "10"},
        True,
    ),
]

ISSUED_2020 = {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}
SPRING = {
    "DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
    "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"},
}

DATE_CASES = [
    when(
        "Date",
        "DateGreaterThan: credentials issued after 2020-01-01",
        DATE,
        ISSUED_2020,
        {"aws:TokenIssueTime": "2020-06-01T12:00:00Z"},
        True,
        action="iam:ListAccessKeys",
    ),
    when(
        "Date",
        "... not those issued before",
        DATE,
        ISSUED_2020,
        {"aws:TokenIssueTime": "2019-12-31T23:59:59Z"},
        False,
        action="iam:ListAccessKeys",
    ),
    when(
        "Date",
        "... and not long-term access keys, which have no aws:TokenIssueTime",
        DATE,
        ISSUED_2020,
        {},
        False,
        action="iam:ListAccessKeys",
    ),
    when(
        "Date",
        "Between April 1 and June 30, 2020: May 15 is inside",
        EXAMPLE_DATES,
        SPRING,
        {"aws:CurrentTime": "2020-05-15T10:00:00Z"},
        True,
    ),
    when(
        "Date",
        "... July 1 is after",
        EXAMPLE_DATES,
        SPRING,
        {"aws:CurrentTime": "2020-07-01T00:00:00Z"},
        False,
    ),
    when(
        "Date",
        "... March 31 is before",
        EXAMPLE_DATES,
        SPRING,
        {"aws:CurrentTime": "2020-03-31T23:00:00Z"},
        False,
    ),
    when(
        "Date",
        "Epoch time compares with ISO 8601",
        DATE,
        {"DateGreaterThan": {"aws:EpochTime": "2020-01-01T00:00:00Z"}},
        {"aws:EpochTime": "1585699200"},
        True,
    ),
    when(
        "Date",
        "DateLessThanEquals holds at the instant itself",
        DATE,
        {"DateLessThanEquals": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}},
        {"aws:CurrentTime": "2020-06-30T23:59:59Z"},
        True,
    ),
    when(
        "Date",
        "W3C date-only form: 2020-04-01 is midnight UTC",
        DATE,
        {"DateEquals": {"aws:CurrentTime": "2020-04-01"}},
        {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
        True,
    ),
    when(
        "Date",
        "DateNotEquals: a missing key holds",
        OPERATORS,
        {"DateNotEquals": {"aws:TokenIssueTime": "2020-04-01T00:00:00Z"}},
        {},
        True,
    ),
]

INSECURE = {"Bool": {"aws:SecureTransport": "false"}}
S3_OBJECT = "arn:aws:s3:::DOC-EXAMPLE-BUCKET/report.csv"

BOOL_CASES = [
    when(
        "Bool",
        "Deny when aws:SecureTransport is false: a plain-HTTP request is denied",
        BOOLEAN,
        INSECURE,
        {"aws:SecureTransport": "false"},
        True,
        effect="Deny",
        resource=S3_OBJECT,
    ),
    when(
        "Bool",
        "... an HTTPS request is not",
        BOOLEAN,
        INSECURE,
        {"aws:SecureTransport": "true"},
        False,
        effect="Deny",
        resource=S3_OBJECT,
    ),
]

BINARY_VALUE = {"BinaryEquals": {"s3:x-amz-meta-key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}

BINARY_CASES = [
    when(
        "Binary",
        "BinaryEquals: the same bytes match",
        BINARY,
        BINARY_VALUE,
        {"s3:x-amz-meta-key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="},
        True,
    ),
    when(
        "Binary",
        "BinaryEquals: other bytes do not",
        BINARY,
        BINARY_VALUE,
        {"s3:x-amz-meta-key": "T3RoZXJWYWx1ZQ=="},
        False,
    ),
    when("Binary", "BinaryEquals: a missing key does not match", BINARY, BINARY_VALUE, {}, False),
]

OFFICE = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
DUAL_STACK = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}
DENY_OUTSIDE = {
    "NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]},
    "Bool": {"aws:ViaAWSService": "false"},
}

IP_CASES = [
    when(
        "IpAddress",
        "203.0.113.7 is in 203.0.113.0/24",
        IP,
        OFFICE,
        {"aws:SourceIp": "203.0.113.7"},
        True,
    ),
    when("IpAddress", "198.51.100.1 is not", IP, OFFICE, {"aws:SourceIp": "198.51.100.1"}, False),
    when(
        "IpAddress",
        "Through a VPC endpoint there is no aws:SourceIp: no match",
        IP,
        OFFICE,
        {},
        False,
    ),
    when(
        "IpAddress",
        "IPv6 in a mixed list: 2001:db8:1234:5678::1 matches",
        IP,
        DUAL_STACK,
        {"aws:SourceIp": "2001:db8:1234:5678::1"},
        True,
    ),
    when(
        "IpAddress",
        "IPv6 outside the /64 does not",
        IP,
        DUAL_STACK,
        {"aws:SourceIp": "2001:db8:1234:9999::1"},
        False,
    ),
    when(
        "IpAddress",
        "An address without a prefix is a /32: itself",
        IP,
        {"IpAddress": {"aws:SourceIp": "203.0.113.5"}},
        {"aws:SourceIp": "203.0.113.5"},
        True,
    ),
    when(
        "IpAddress",
        "... and not its neighbour",
        IP,
        {"IpAddress": {"aws:SourceIp": "203.0.113.5"}},
        {"aws:SourceIp": "203.0.113.6"},
        False,
    ),
    when(
        "IpAddress",
        "Deny outside the ranges: a direct call from elsewhere is denied",
        EXAMPLE_DENY_IP,
        DENY_OUTSIDE,
        {"aws:SourceIp": "198.51.100.1", "aws:ViaAWSService": "false"},
        True,
        effect="Deny",
    ),
    when(
        "IpAddress",
        "... a call from inside a range is not",
        EXAMPLE_DENY_IP,
        DENY_OUTSIDE,
        {"aws:SourceIp": "192.0.2.10", "aws:ViaAWSService": "false"},
        False,
        effect="Deny",
    ),
    when(
        "IpAddress",
        "... nor one a service makes on the principal's behalf",
        EXAMPLE_DENY_IP,
        DENY_OUTSIDE,
        {"aws:SourceIp": "198.51.100.1", "aws:ViaAWSService": "true"},
        False,
        effect="Deny",
    ),
]

TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:TOPIC-ID"
FROM_TOPIC = {"ArnEquals": {"aws:SourceArn": TOPIC}}
FINANCE = "arn:aws:someservice:*:111122223333:finance/*"
TRICKY = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
PUBLIC_TEAM = "arn:aws:sagemaker:us-west-2:394669845002:workteam/public-crowd/default"
PRIVATE_TEAM = f"arn:aws:sagemaker:us-west-2:{ACCOUNT}:workteam/private-crowd/team"
PUBLIC_CROWD = {
    "ArnLike": {"sagemaker:WorkteamArn": "arn:aws:sagemaker:*:*:workteam/public-crowd/*"}
}

ARN_CASES = [
    when(
        "Arn",
        "ArnEquals aws:SourceArn: messages from the topic",
        ARN,
        FROM_TOPIC,
        {"aws:SourceArn": TOPIC},
        True,
        action="sqs:SendMessage",
    ),
    when(
        "Arn",
        "... not from another topic",
        ARN,
        FROM_TOPIC,
        {"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:OTHER"},
        False,
        action="sqs:SendMessage",
    ),
    when(
        "Arn",
        "... and not a user calling directly, without aws:SourceArn",
        ARN,
        FROM_TOPIC,
        {},
        False,
        action="sqs:SendMessage",
    ),
    when(
        "Arn",
        "StringLike lets the first * span colons",
        ARN,
        {"StringLike": {"aws:SourceArn": FINANCE}},
        {"aws:SourceArn": TRICKY},
        True,
    ),
    when(
        "Arn",
        "ArnLike matches segment by segment, so the same value fails",
        ARN,
        {"ArnLike": {"aws:SourceArn": FINANCE}},
        {"aws:SourceArn": TRICKY},
        False,
    ),
    when(
        "Arn",
        "ArnLike: * within the Region segment",
        ARN,
        {"ArnLike": {"aws:SourceArn": FINANCE}},
        {"aws:SourceArn": "arn:aws:someservice:us-east-2:111122223333:finance/document.txt"},
        True,
    ),
    when(
        "Arn",
        "ArnNotEquals: a missing key holds",
        OPERATORS,
        {"ArnNotEquals": {"aws:SourceArn": TOPIC}},
        {},
        True,
    ),
    when(
        "Arn",
        "ArnNotLike: a matching value does not hold",
        ARN,
        {"ArnNotLike": {"aws:SourceArn": FINANCE}},
        {"aws:SourceArn": "arn:aws:someservice:us-east-2:111122223333:finance/x"},
        False,
    ),
    when(
        "Arn",
        "Deny ArnLike public-crowd work teams: a public team is denied",
        SAGEMAKER,
        PUBLIC_CROWD,
        {"sagemaker:WorkteamArn": PUBLIC_TEAM},
        True,
        effect="Deny",
        action="sagemaker:CreateLabelingJob",
    ),
    when(
        "Arn",
        "... a private team is not",
        SAGEMAKER,
        PUBLIC_CROWD,
        {"sagemaker:WorkteamArn": PRIVATE_TEAM},
        False,
        effect="Deny",
        action="sagemaker:CreateLabelingJob",
    ),
]

INSTANCE_TYPES = ["t1.*", "t2.*", "m3.*"]
INSTANCE = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*"
IMAGE = "arn:aws:ec2:us-east-1::image/ami-12345678"

IF_EXISTS_CASES = [
    when(
        "IfExists",
        "StringLike ec2:InstanceType: the image, without the key, fails",
        IF_EXISTS,
        {"StringLike": {"ec2:InstanceType": INSTANCE_TYPES}},
        {},
        False,
        action="ec2:RunInstances",
        resource=IMAGE,
    ),
    when(
        "IfExists",
        "StringLikeIfExists: the image, without the key, passes",
        IF_EXISTS,
        {"StringLikeIfExists": {"ec2:InstanceType": INSTANCE_TYPES}},
        {},
        True,
        action="ec2:RunInstances",
        resource=IMAGE,
    ),
    when(
        "IfExists",
        "StringLikeIfExists: a t2.micro instance passes",
        IF_EXISTS,
        {"StringLikeIfExists": {"ec2:InstanceType": INSTANCE_TYPES}},
        {"ec2:InstanceType": "t2.micro"},
        True,
        action="ec2:RunInstances",
        resource=INSTANCE,
    ),
    when(
        "IfExists",
        "StringLikeIfExists: an m5.large instance fails",
        IF_EXISTS,
        {"StringLikeIfExists": {"ec2:InstanceType": INSTANCE_TYPES}},
        {"ec2:InstanceType": "m5.large"},
        False,
        action="ec2:RunInstances",
        resource=INSTANCE,
    ),
    when(
        "IfExists",
        "Deny StringNotEqualsIfExists: a missing tag is still denied",
        IF_EXISTS,
        {"StringNotEqualsIfExists": {"aws:ResourceTag/team": "blue"}},
        {},
        True,
        effect="Deny",
    ),
    when(
        "IfExists",
        "BoolIfExists false: a missing aws:MultiFactorAuthPresent passes",
        IF_EXISTS,
        {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        {},
        True,
    ),
]

NO_TEMPORARY = {"Null": {"aws:TokenIssueTime": "true"}}

NULL_CASES = [
    when(
        "Null",
        "Null true: long-term credentials, without aws:TokenIssueTime, pass",
        NULL,
        NO_TEMPORARY,
        {},
        True,
        action="ec2:DescribeInstances",
    ),
    when(
        "Null",
        "Null true: temporary credentials fail",
        NULL,
        NO_TEMPORARY,
        {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"},
        False,
        action="ec2:DescribeInstances",
    ),
    when(
        "Null",
        "Null false: the key must be there",
        NULL,
        {"Null": {"aws:TokenIssueTime": "false"}},
        {},
        False,
    ),
    when(
        "Null",
        "Null false: an empty value is null",
        CONDITION,
        {"Null": {"aws:RequestTag/team": "false"}},
        {"aws:RequestTag/team": ""},
        False,
    ),
]

PEOPLE = {
    "StringEqualsIgnoreCase": {
        "aws:PrincipalTag/department": ["finance", "hr", "legal"],
        "aws:PrincipalTag/role": ["audit", "security"],
    },
    "StringEquals": {"aws:PrincipalAccount": ACCOUNT},
}
AUDITOR = {
    "aws:PrincipalTag/department": "HR",
    "aws:PrincipalTag/role": "audit",
    "aws:PrincipalAccount": ACCOUNT,
}
NOT_TWO = {"StringNotEquals": {"aws:PrincipalAccount": ["111111111111", "222222222222"]}}

MULTIPLE_CASES = [
    when(
        "Multiple keys and values",
        "All keys match one of their values (AND of ORs)",
        MULTIPLE,
        PEOPLE,
        AUDITOR,
        True,
    ),
    when(
        "Multiple keys and values",
        "A department outside the list fails",
        MULTIPLE,
        PEOPLE,
        {**AUDITOR, "aws:PrincipalTag/department": "sales"},
        False,
    ),
    when(
        "Multiple keys and values",
        "A missing role tag fails",
        MULTIPLE,
        PEOPLE,
        {k: v for k, v in AUDITOR.items() if k != "aws:PrincipalTag/role"},
        False,
    ),
    when(
        "Multiple keys and values",
        "Another account fails the second operator",
        MULTIPLE,
        PEOPLE,
        {**AUDITOR, "aws:PrincipalAccount": "999999999999"},
        False,
    ),
    when(
        "Multiple keys and values",
        "StringNotEquals with two values: one of them fails (NOR)",
        MULTIPLE,
        NOT_TWO,
        {"aws:PrincipalAccount": "111111111111"},
        False,
    ),
    when(
        "Multiple keys and values",
        "... neither of them holds",
        MULTIPLE,
        NOT_TWO,
        {"aws:PrincipalAccount": "333333333333"},
        True,
    ),
]

THREAD = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Thread"
ONLY_LISTED = {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["ID", "Message", "Tags"]}}
POSTS = {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["PostDateTime", "Message", "Tags"]}}
PROTECTED = {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID", "PostDateTime"]}}
KEY1_ONLY = {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}


def _attributes(
    title: str, condition: dict, attributes: list[str] | None, holds: bool, **options
) -> Case:
    context = {} if attributes is None else {"dynamodb:Attributes": attributes}
    return when(
        "ForAllValues/ForAnyValue",
        title,
        SET_OPERATORS,
        condition,
        context,
        holds,
        resource=THREAD,
        **options,
    )


def _tag_keys(title: str, keys: list[str] | None, denied: bool) -> Case:
    context = {} if keys is None else {"aws:TagKeys": keys}
    return when(
        "ForAllValues/ForAnyValue",
        title,
        MULTIVALUED_EXAMPLES,
        KEY1_ONLY,
        context,
        denied,
        effect="Deny",
        action="iam:TagUser",
    )


SET_CASES = [
    _attributes(
        "ForAllValues: Message and Tags are all listed",
        ONLY_LISTED,
        ["Message", "Tags"],
        True,
        action="dynamodb:GetItem",
    ),
    _attributes(
        "ForAllValues: ID, Message and Tags are all listed",
        ONLY_LISTED,
        ["ID", "Message", "Tags"],
        True,
        action="dynamodb:GetItem",
    ),
    _attributes(
        "ForAllValues: UserName is not listed",
        ONLY_LISTED,
        ["Message", "UserName"],
        False,
        action="dynamodb:GetItem",
    ),
    _attributes(
        "ForAllValues: PostDateTime matches but UserName does not",
        POSTS,
        ["PostDateTime", "UserName"],
        False,
        action="dynamodb:GetItem",
    ),
    _attributes(
        "ForAllValues: true when the key is missing",
        ONLY_LISTED,
        None,
        True,
        action="dynamodb:GetItem",
    ),
    _attributes(
        "ForAllValues: true for an empty set", ONLY_LISTED, [], True, action="dynamodb:GetItem"
    ),
    _attributes(
        "ForAnyValue deny: PostDateTime among the attributes is denied",
        PROTECTED,
        ["PostDateTime", "Message"],
        True,
        effect="Deny",
        action="dynamodb:PutItem",
    ),
    _attributes(
        "ForAnyValue deny: UserName, Message and PostDateTime is denied",
        PROTECTED,
        ["UserName", "Message", "PostDateTime"],
        True,
        effect="Deny",
        action="dynamodb:PutItem",
    ),
    _attributes(
        "ForAnyValue deny: UserName alone is not",
        PROTECTED,
        ["UserName"],
        False,
        effect="Deny",
        action="dynamodb:PutItem",
    ),
    _attributes(
        "ForAnyValue: false when the key is missing",
        PROTECTED,
        None,
        False,
        effect="Deny",
        action="dynamodb:PutItem",
    ),
    _tag_keys("ForAllValues:StringNotLike key1*: key1:legal is not denied", ["key1:legal"], False),
    _tag_keys(
        "... key1:hr and key1:personnel are not denied", ["key1:hr", "key1:personnel"], False
    ),
    _tag_keys("... key2:audit is denied", ["key2:audit"], True),
    _tag_keys("... no aws:TagKeys in the request is denied", None, True),
]

TRAINING = "sagemaker:CreateTrainingJob"
IN_VPC = {
    "ForAllValues:StringEquals": {
        "sagemaker:VpcSubnets": ["subnet-a1234"],
        "sagemaker:VpcSecurityGroupIds": ["sg12345", "sg-67890"],
    },
    "Null": {"sagemaker:VpcSubnets": "false", "sagemaker:VpcSecurityGroupIds": "false"},
}
ISOLATED = {"Bool": {"sagemaker:NetworkIsolation": "true"}}
C5 = {"ForAllValues:StringLike": {"sagemaker:InstanceTypes": ["ml.c5.*"]}}
SAGEMAKER_IPS = {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}
SUBNET_AND_GROUP = {
    "sagemaker:VpcSubnets": ["subnet-a1234"],
    "sagemaker:VpcSecurityGroupIds": ["sg-67890"],
}


def _sagemaker(title: str, condition: dict, context: dict, holds: bool, **options) -> Case:
    return when(
        "SageMaker keys", title, SAGEMAKER, condition, context, holds, action=TRAINING, **options
    )


SAGEMAKER_CASES = [
    _sagemaker(
        "Restrict training to a VPC: listed subnet and security group",
        IN_VPC,
        SUBNET_AND_GROUP,
        True,
    ),
    _sagemaker(
        "... another subnet fails",
        IN_VPC,
        {**SUBNET_AND_GROUP, "sagemaker:VpcSubnets": ["subnet-b"]},
        False,
    ),
    _sagemaker("... no VPC at all fails the Null check", IN_VPC, {}, False),
    _sagemaker(
        "Enforce network isolation: NetworkIsolation true",
        ISOLATED,
        {"sagemaker:NetworkIsolation": "true"},
        True,
    ),
    _sagemaker("... false fails", ISOLATED, {"sagemaker:NetworkIsolation": "false"}, False),
    _sagemaker(
        "Instance types ml.c5.*: ml.c5.xlarge passes",
        C5,
        {"sagemaker:InstanceTypes": ["ml.c5.xlarge"]},
        True,
    ),
    _sagemaker(
        "... with an ml.p3.2xlarge among them fails",
        C5,
        {"sagemaker:InstanceTypes": ["ml.c5.xlarge", "ml.p3.2xlarge"]},
        False,
    ),
    _sagemaker(
        "Training only from the listed IP ranges: 192.0.2.5",
        SAGEMAKER_IPS,
        {"aws:SourceIp": "192.0.2.5"},
        True,
    ),
    _sagemaker("... not from 198.51.100.5", SAGEMAKER_IPS, {"aws:SourceIp": "198.51.100.5"}, False),
    Case(
        "SageMaker keys",
        "Deny on sagemaker:ResourceTag/Project B: a project-B resource is denied",
        SAGEMAKER,
        "ExplicitDeny/identity",
        action="sagemaker:DescribeNotebookInstance",
        context={"sagemaker:ResourceTag/Project": "B"},
        identity=(
            policy(
                allow("sagemaker:*"),
                deny(
                    "sagemaker:*",
                    Condition={"StringEquals": {"sagemaker:ResourceTag/Project": "B"}},
                ),
            ),
        ),
    ),
]

CASES = [
    *STRING_CASES,
    *NUMERIC_CASES,
    *DATE_CASES,
    *BOOL_CASES,
    *BINARY_CASES,
    *IP_CASES,
    *ARN_CASES,
    *IF_EXISTS_CASES,
    *NULL_CASES,
    *MULTIPLE_CASES,
    *SET_CASES,
    *SAGEMAKER_CASES,
]
