"""Policy grammar: what IAM accepts, and what it refuses with MalformedPolicyDocument.

Grammar from the IAM User Guide ("Grammar of the IAM JSON policy language" and the
element pages); IAM's refusal messages as IAM returned them in the issue threads cited
beside each case, where the documentation does not quote them.
"""

from __future__ import annotations

import json

import pytest

from cove.errors import AwsError
from cove.iam.documents import (
    Effect,
    PolicyKind,
    PolicyVersion,
    parse_policy,
    policy_size,
)

UG = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
GRAMMAR = UG + "reference_policies_grammar.html"
TROUBLESHOOT = UG + "troubleshoot_policies.html#troubleshoot_policies-json"

ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
USER = "arn:aws:iam::123456789012:user/Bob"


def doc(*statements: dict, version: str | None = "2012-10-17", **extra) -> dict:
    body: dict = {"Statement": list(statements)}
    if version is not None:
        body["Version"] = version
    return {**body, **extra}


def refused(document, kind: PolicyKind = PolicyKind.IDENTITY, **options) -> AwsError:
    with pytest.raises(AwsError) as raised:
        parse_policy(document, kind, **options)
    assert (raised.value.code, raised.value.status) == ("MalformedPolicyDocument", 400)
    return raised.value


# --- accepted -----------------------------------------------------------------------


def test_statement_may_be_one_object_or_a_list() -> None:
    # UG reference_policies_elements_statement.html
    single = parse_policy({"Version": "2012-10-17", "Statement": ALLOW_ALL})
    listed = parse_policy(json.dumps(doc(ALLOW_ALL, ALLOW_ALL)))
    assert len(single.statements) == 1 and len(listed.statements) == 2
    assert single.statements[0].effect is Effect.ALLOW
    assert single.statements[0].actions == ("*",) and single.statements[0].resources == ("*",)


def test_both_versions_and_none_are_accepted_and_only_2012_has_variables() -> None:
    # UG reference_policies_elements_version.html
    for version, expected in [
        ("2012-10-17", PolicyVersion.V2012_10_17),
        ("2008-10-17", PolicyVersion.V2008_10_17),
        (None, None),
    ]:
        policy = parse_policy(doc(ALLOW_ALL, version=version))
        assert policy.version is expected
        assert policy.statements[0].variables is (expected is PolicyVersion.V2012_10_17)


def test_action_and_resource_take_a_string_or_a_list() -> None:
    statement = {
        "Effect": "Deny",
        "NotAction": ["iam:*", "s3:Get*"],
        "NotResource": "arn:aws:s3:::b",
    }
    parsed = parse_policy(doc(statement)).statements[0]
    assert parsed.not_actions == ("iam:*", "s3:Get*") and parsed.actions is None
    assert parsed.not_resources == ("arn:aws:s3:::b",) and parsed.resources is None


def test_principal_forms_of_resource_policies() -> None:
    # UG reference_policies_elements_principal.html: "*", accounts, users, roles, role
    # sessions, services, federated providers; S3 also takes CanonicalUser
    def principals(value):
        statement = {**ALLOW_ALL, "Principal": value}
        return parse_policy(doc(statement), PolicyKind.RESOURCE).statements[0].principals

    assert principals("*").wildcard and principals({"AWS": "*"}).wildcard
    assert principals({"AWS": "123456789012"}).aws == ("arn:aws:iam::123456789012:root",)
    named = principals(
        {
            "AWS": [
                USER,
                "arn:aws:iam::123456789012:role/r",
                "arn:aws:sts::123456789012:assumed-role/r/session",
                "arn:aws:sts::123456789012:federated-user/f",
                "arn:aws:iam::999999999999:root",
            ],
            "Service": ["ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com"],
            "Federated": "cognito-identity.amazonaws.com",
            "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        }
    )
    assert len(named.aws) == 5 and not named.wildcard
    assert named.services == ("ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com")
    assert (
        named.federated == ("cognito-identity.amazonaws.com",) and len(named.canonical_users) == 1
    )


def test_trust_policy_has_principal_and_no_resource() -> None:
    trust = {
        "Effect": "Allow",
        "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    statement = parse_policy(doc(trust), PolicyKind.TRUST).statements[0]
    assert statement.resources is None and statement.not_resources is None


def test_identity_policies_may_carry_an_id() -> None:
    # The SageMaker DG's identity-policy example has "Id": "api-example-1", although the
    # grammar notes say an identity-based policy must not; IAM accepts it.
    policy = parse_policy(doc(ALLOW_ALL, Id="api-example-1"))
    assert policy.id == "api-example-1"


def test_condition_values_may_be_numbers_and_booleans() -> None:
    # GRAMMAR: "Quotation marks are optional for numeric and Boolean values"
    statement = {
        **ALLOW_ALL,
        "Condition": {
            "NumericLessThanEquals": {"s3:max-keys": 10},
            "Bool": {"aws:SecureTransport": True},
        },
    }
    conditions = parse_policy(doc(statement)).statements[0].conditions
    assert [c.values for c in conditions] == [("10",), ("true",)]


def test_sids_alphanumeric_in_iam_and_freer_in_other_resource_policies() -> None:
    # UG reference_policies_elements_sid.html; S3 bucket policies use spaces in Sids
    assert (
        parse_policy(doc({**ALLOW_ALL, "Sid": "AllowS3ListRead"})).statements[0].sid
        == "AllowS3ListRead"
    )
    spaced = {**ALLOW_ALL, "Sid": "Allow public read", "Principal": "*"}
    assert parse_policy(doc(spaced), PolicyKind.RESOURCE).statements[0].sid == "Allow public read"
    # an empty Sid is no identifier: several may be empty
    assert (
        len(parse_policy(doc({**ALLOW_ALL, "Sid": ""}, {**ALLOW_ALL, "Sid": ""})).statements) == 2
    )


def test_size_does_not_count_white_space() -> None:
    # UG reference_iam-quotas.html: "IAM does not count white space"
    assert policy_size('{ "a" :\n\t"b c" }') == len('{"a":"bc"}')


# --- refused --------------------------------------------------------------------------

SYNTAX = "Syntax errors in policy."


@pytest.mark.parametrize(
    "document, source",
    [
        ("{not json", "https://github.com/aws-samples/amazon-ecs-firelens-examples/pull/50"),
        ("null", "https://github.com/99designs/iamy/issues/74"),
        ("[]", GRAMMAR),
        # "More than one JSON policy object"
        (json.dumps(doc(ALLOW_ALL)) + json.dumps(doc(ALLOW_ALL)), TROUBLESHOOT),
        # "More than one JSON statement element", "More than one effect ... element"
        (
            '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"},'
            '"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}',
            TROUBLESHOOT,
        ),
        (
            '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Effect":"Allow","Action":"*",'
            '"Resource":"*"}}',
            TROUBLESHOOT,
        ),
        (doc({**ALLOW_ALL, "Actions": "s3:*"}), GRAMMAR),
        ({"Version": "2012-10-17"}, GRAMMAR),
        ({"Version": "2012-10-17", "Statement": "s3:*"}, GRAMMAR),
        (doc({"Action": "*", "Resource": "*"}), GRAMMAR),
        (doc({**ALLOW_ALL, "NotAction": "iam:*"}), GRAMMAR),
        (doc({**ALLOW_ALL, "NotResource": "arn:aws:s3:::b"}), GRAMMAR),
        (doc({**ALLOW_ALL, "Action": {"s3": "GetObject"}}), GRAMMAR),
        # a key straight under Condition, without an operator
        (
            doc({**ALLOW_ALL, "Condition": {"servicecatalog:accountLevel": "self"}}),
            "https://github.com/aws-cloudformation/cfn-lint/issues/3751",
        ),
        (doc({**ALLOW_ALL, "Condition": {"StringEqualz": {"aws:username": "bob"}}}), GRAMMAR),
        # "You can add IfExists to the end of any condition operator name except the Null"
        (
            doc({**ALLOW_ALL, "Condition": {"NullIfExists": {"aws:username": "true"}}}),
            UG + "reference_policies_elements_condition_operators.html#Conditions_IfExists",
        ),
        (doc({**ALLOW_ALL, "Condition": {"StringEquals": {"aws:username": []}}}), GRAMMAR),
        (doc({**ALLOW_ALL, "Condition": {"StringEquals": {"aws:username": {"a": 1}}}}), GRAMMAR),
    ],
)
def test_syntax_errors(document, source) -> None:
    assert refused(document).message == SYNTAX


GH = "https://github.com/"
TRUST_BASE = {
    "Effect": "Allow",
    "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole",
}
LEGACY = "The policy failed legacy parsing"
NO_PRINCIPAL_IN_IDENTITY = "Policy document should not specify a principal."
NO_ACTIONS = "Policy statement must contain actions."
NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
SID = (
    "Statement IDs (SID) must be alpha-numeric. "
    "Check that your input satisfies the regular expression [0-9A-Za-z]*"
)
NO_TRUSTED = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)
PARTIAL_PRINCIPAL = "arn:aws:iam::123456789012:user/*"
IDENTITY, RESOURCE, TRUST = PolicyKind.IDENTITY, PolicyKind.RESOURCE, PolicyKind.TRUST


def cond(block: dict) -> dict:
    return doc({**ALLOW_ALL, "Condition": block})


@pytest.mark.parametrize(
    "document, kind, message, source",
    [
        # an unknown Version, or an Effect not exactly "Allow" or "Deny", sends the
        # document to the legacy parser, which fails
        (doc(ALLOW_ALL, version="2019-8-17"), IDENTITY, LEGACY,
         UG + "reference_policies_elements_version.html"),
        (doc({**ALLOW_ALL, "Effect": "allow"}), IDENTITY, LEGACY,
         GH + "hashicorp/terraform/issues/10057"),
        (doc({**ALLOW_ALL, "Principal": {"AWS": USER}}), IDENTITY, NO_PRINCIPAL_IN_IDENTITY,
         GH + "hashicorp/terraform/issues/13449"),
        (doc({**ALLOW_ALL, "NotPrincipal": {"AWS": USER}}), IDENTITY, NO_PRINCIPAL_IN_IDENTITY,
         UG + "reference_policies_elements_notprincipal.html"),
        (doc({"Effect": "Allow", "Resource": "*"}), IDENTITY, NO_ACTIONS,
         GH + "aws/aws-cdk/issues/7615"),
        (doc({"Effect": "Allow", "Action": [], "Resource": "*"}), IDENTITY, NO_ACTIONS,
         GH + "aws/aws-cdk/issues/7615"),
        (doc({"Effect": "Allow", "Action": "s3:*"}), IDENTITY,
         "Policy statement must contain resources.", GH + "hashicorp/terraform/issues/17987"),
        (doc({**ALLOW_ALL, "Resource": ""}), IDENTITY, 'Resource  must be in ARN format or "*".',
         GH + "cattle-ops/terraform-aws-gitlab-runner/issues/1257"),
        (doc({**ALLOW_ALL, "Resource": "my-bucket"}), IDENTITY,
         'Resource my-bucket must be in ARN format or "*".',
         UG + "reference_policies_elements_resource.html"),
        (doc({**ALLOW_ALL, "Action": "s3"}), IDENTITY, NO_VENDOR,
         UG + "reference_policies_elements_action.html"),
        (cond({"StringEquals": {"username": "bob"}}), IDENTITY, NO_VENDOR,
         UG + "reference_policies_elements_condition.html"),
        (doc({**ALLOW_ALL, "Action": "arn:aws:codebuild:*"}), IDENTITY,
         "Actions/Condition can contain only one colon.", GH + "garnaat/kappa/issues/111"),
        (doc({**ALLOW_ALL, "Action": "*:Untag*"}), IDENTITY,
         "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards",
         GH + "boogy/iam-policy-validator/pull/172"),
        (doc({**ALLOW_ALL, "Sid": "autogenerated-id"}), IDENTITY, SID,
         GH + "Wolox/carthage_cache/issues/22"),
        (doc({**ALLOW_ALL, "Sid": "A"}, {**ALLOW_ALL, "Sid": "A"}), IDENTITY,
         "Statement IDs (SID) in a single policy must be unique.",
         GH + "kubernetes/kops/issues/4951"),
        (doc(ALLOW_ALL), RESOURCE, "Missing required field Principal",
         GH + "humanmade/S3-Uploads/issues/191"),
        (doc({**TRUST_BASE, "Resource": "*"}), TRUST, "Has prohibited field Resource",
         GH + "kubernetes-sigs/external-dns/issues/3085"),
        (doc({**TRUST_BASE, "NotResource": "*"}), TRUST, "Has prohibited field NotResource",
         GH + "kubernetes-sigs/external-dns/issues/3085"),
        (doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), TRUST, NO_TRUSTED,
         GH + "terraform-aws-modules/terraform-aws-iam/issues/47"),
        (doc({"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "sts:AssumeRole"}), TRUST,
         "Has prohibited field NotPrincipal", UG + "reference_policies_elements_notprincipal.html"),
        # "You cannot use a wildcard to match part of a principal name or ARN"
        (doc({**ALLOW_ALL, "Principal": {"AWS": PARTIAL_PRINCIPAL}}), RESOURCE,
         f'Invalid principal in policy: "AWS":"{PARTIAL_PRINCIPAL}"',
         UG + "reference_policies_elements_principal.html"),
        (doc({**ALLOW_ALL, "Principal": {"AWS": "user"}}), RESOURCE,
         'Invalid principal in policy: "AWS":"user"', GH + "databrickslabs/ucx/issues/2269"),
    ],
)  # fmt: skip
def test_refusals_with_iams_message(document, kind, message, source) -> None:
    assert refused(document, kind).message == message


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_managed_policies_need_the_current_version(version) -> None:
    # AWS refuses managed policies without Version 2012-10-17 (shared/AWS-FACTS.md);
    # wording from https://github.com/Meteor-Community-Packages/Meteor-CollectionFS/issues/630
    error = refused(doc(ALLOW_ALL, version=version), require_version=True)
    assert error.message == "Policy document must be version 2012-10-17 or greater."
    assert parse_policy(doc(ALLOW_ALL), require_version=True).version is PolicyVersion.V2012_10_17
