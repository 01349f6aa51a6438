"""Tags of customer managed policies, and IAM's case-insensitive tag keys, against a real
`cove server` with boto3 and the AWS CLI.

AWS's behaviour pinned here:
- TagPolicy adds tags to a customer managed policy, "If a tag with the same key name
  already exists, then that tag is overwritten with the new value"; UntagPolicy removes
  them; ListPolicyTags lists them, "sorted by tag key" (IAM API reference,
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagPolicy.html,
  .../API_UntagPolicy.html, .../API_ListPolicyTags.html); they are GetPolicy's Tags too
  (.../API_Policy.html); a policy that does not exist: NoSuchEntity;
- "Tag key-value pairs are not case sensitive, but case is preserved. This means that you
  cannot have separate Department and department tag keys. If you have tagged a user with
  the Department=foo tag and you add the department=bar tag, it replaces the first tag. A
  second tag is not added." (IAM UG, "Tagging IAM resources",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html); the replacing tag's key
  is kept as written (tag-role Test=1 then test=1 lists only "test", as AWS answered in
  https://github.com/aws/aws-cdk/issues/26253);
- two keys differing only in case in one request: InvalidInput (400) "Duplicate tag keys
  found. Please note that Tag keys are case insensitive." (as AWS answers CreateRole,
  https://github.com/serverless/serverless/issues/7885,
  https://github.com/github-aws-runners/terraform-aws-github-runner/pull/1346).
"""

from __future__ import annotations

import json

from tests.conftest import CoveServer
from tests.e2e.iam_support import ACCOUNT, allow, doc, error_of, trusting_account

DUPLICATES = (
    "InvalidInput", 400,
    "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
)  # fmt: skip


def tags(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs]


def test_a_customer_managed_policy_is_tagged_listed_and_untagged(server: CoveServer) -> None:
    iam = server.client("iam")
    arn = iam.create_policy(
        PolicyName="tg-policy", PolicyDocument=doc(allow("s3:GetObject")),
        Tags=tags(("zone", "a")),
    )["Policy"]["Arn"]  # fmt: skip
    iam.tag_policy(PolicyArn=arn, Tags=tags(("team", "ml"), ("app", "x")))
    iam.tag_policy(PolicyArn=arn, Tags=tags(("app", "y")))  # overwritten
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == tags(
        ("app", "y"), ("team", "ml"), ("zone", "a")
    )
    assert sorted(t["Key"] for t in iam.get_policy(PolicyArn=arn)["Policy"]["Tags"]) == [
        "app", "team", "zone",
    ]  # fmt: skip
    server.aws("iam", "untag-policy", "--policy-arn", arn, "--tag-keys", "zone", "app")
    listed = json.loads(server.aws("iam", "list-policy-tags", "--policy-arn", arn).stdout)
    assert listed["Tags"] == tags(("team", "ml"))
    missing = f"arn:aws:iam::{ACCOUNT}:policy/tg-no-such-policy"
    for call, member in ((iam.tag_policy, {"Tags": tags(("a", "b"))}),
                         (iam.list_policy_tags, {})):  # fmt: skip
        assert error_of(call, PolicyArn=missing, **member)[:2] == ("NoSuchEntity", 404)


def test_tag_keys_differing_in_case_are_one_key(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="tg-user", Tags=tags(("Department", "foo")))
    iam.tag_user(UserName="tg-user", Tags=tags(("department", "bar")))
    assert iam.list_user_tags(UserName="tg-user")["Tags"] == tags(("department", "bar"))
    iam.untag_user(UserName="tg-user", TagKeys=["DEPARTMENT"])
    assert iam.list_user_tags(UserName="tg-user")["Tags"] == []

    iam.create_role(RoleName="tg-role", AssumeRolePolicyDocument=trusting_account())
    server.aws("iam", "tag-role", "--role-name", "tg-role", "--tags", "Key=Test,Value=1")
    server.aws("iam", "tag-role", "--role-name", "tg-role", "--tags", "Key=test,Value=1")
    listed = json.loads(server.aws("iam", "list-role-tags", "--role-name", "tg-role").stdout)
    assert listed["Tags"] == tags(("test", "1"))

    arn = iam.create_policy(PolicyName="tg-cased", PolicyDocument=doc(allow("s3:GetObject")),
                            Tags=tags(("Owner", "a")))["Policy"]["Arn"]  # fmt: skip
    iam.tag_policy(PolicyArn=arn, Tags=tags(("OWNER", "b")))
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == tags(("OWNER", "b"))


def test_one_request_may_not_name_a_key_twice_in_any_case(server: CoveServer) -> None:
    iam = server.client("iam")
    twice = tags(("env", "a"), ("Env", "b"))
    assert error_of(iam.create_user, UserName="tg-twice", Tags=twice) == DUPLICATES
    assert error_of(iam.get_user, UserName="tg-twice")[0] == "NoSuchEntity"
    assert error_of(
        iam.create_role, RoleName="tg-twice", AssumeRolePolicyDocument=trusting_account(),
        Tags=twice,
    ) == DUPLICATES  # fmt: skip
    iam.create_user(UserName="tg-once")
    assert error_of(iam.tag_user, UserName="tg-once", Tags=twice) == DUPLICATES
    arn = iam.create_policy(PolicyName="tg-once", PolicyDocument=doc(allow("s3:GetObject")))[
        "Policy"
    ]["Arn"]
    assert error_of(iam.tag_policy, PolicyArn=arn, Tags=twice) == DUPLICATES
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == []
