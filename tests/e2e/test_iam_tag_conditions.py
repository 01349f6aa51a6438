"""Tag condition keys on IAM's own operations and on iam:PassRole, with unmodified boto3
against a real `cove server`.

AWS's behaviour pinned here:
- a user's or role's tags are aws:ResourceTag/<key> and iam:ResourceTag/<key> of the
  operations on it; the Tags a request passes are aws:RequestTag/<key> and aws:TagKeys, the
  keys UntagUser removes aws:TagKeys; the example policies below are AWS's (IAM UG,
  "Controlling access to and for IAM users and roles using tags",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html);
- which operations set which keys: CreateUser, CreateRole, CreatePolicy, TagUser and
  TagRole aws:RequestTag/${TagKey} and aws:TagKeys, UntagUser and UntagRole aws:TagKeys,
  Attach*Policy and Detach*Policy iam:PolicyARN; the role resource type (iam:PassRole's)
  aws:ResourceTag/${TagKey} and iam:ResourceTag/${TagKey} (Service Authorization
  Reference, IAM,
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html;
  the same role resource type for sts:AssumeRole, Service Authorization Reference, AWS STS,
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html).
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import CoveServer
from tests.e2e.test_iam_enforcement import as_key, denial, new_user, policy

ACCOUNT = "000000000000"
TRUST_SAGEMAKER = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})  # fmt: skip


def with_policy(server: CoveServer, user: str, *statements: dict[str, Any]) -> Any:
    """A new user holding `statements`, as its IAM client."""
    key = new_user(server, user)
    server.client("iam").put_user_policy(UserName=user, PolicyName="p",
                                         PolicyDocument=policy(*statements))  # fmt: skip
    return as_key(server, "iam", key)


def allow(action: str | list[str], condition: dict[str, Any]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": "*", "Condition": condition}


def refused(call: Any, **params: Any) -> None:
    assert denial(call, **params)[:2] == ("AccessDenied", 403)


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def test_awss_examples_on_tagged_users(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="tc-leaver", Tags=tags(status="terminated", jobFunction="employee"))
    iam.create_user(UserName="tc-stayer", Tags=tags(status="active"))
    deleter = with_policy(server, "tc-deleter", allow(
        "iam:DeleteUser", {"StringLike": {"iam:ResourceTag/status": "terminated"}}))  # fmt: skip
    refused(deleter.delete_user, UserName="tc-stayer")
    editor = with_policy(server, "tc-tag-editor", allow(
        ["iam:ListUserTags", "iam:TagUser", "iam:UntagUser"],
        {"StringLike": {"iam:ResourceTag/jobFunction": "employee"}}))  # fmt: skip
    editor.tag_user(UserName="tc-leaver", Tags=tags(temporary="yes"))
    assert {t["Key"] for t in editor.list_user_tags(UserName="tc-leaver")["Tags"]} == {
        "jobFunction", "status", "temporary"}  # fmt: skip
    refused(editor.list_user_tags, UserName="tc-stayer")
    departments = with_policy(server, "tc-hr", allow(
        "iam:TagUser", {"StringLike": {"aws:RequestTag/department": ["HR", "CS"]}}))  # fmt: skip
    departments.tag_user(UserName="tc-stayer", Tags=tags(department="HR"))
    refused(departments.tag_user, UserName="tc-stayer", Tags=tags(department="Finance"))
    only_temporary = {"ForAllValues:StringEquals": {"aws:TagKeys": ["temporary"]}}
    untagger = with_policy(server, "tc-untagger", allow("iam:UntagUser", only_temporary))
    refused(untagger.untag_user, UserName="tc-leaver", TagKeys=["temporary", "status"])
    untagger.untag_user(UserName="tc-leaver", TagKeys=["temporary"])
    deleter.delete_user(UserName="tc-leaver")
    assert denial(iam.get_user, UserName="tc-leaver")[:2] == ("NoSuchEntity", 404)


def test_a_roles_tags_decide_get_role_at_once(server: CoveServer) -> None:
    """aws:ResourceTag of a role: a change of its tags decides the next request."""
    iam = server.client("iam")
    iam.create_role(RoleName="tc-ml-role", AssumeRolePolicyDocument=TRUST_SAGEMAKER,
                    Tags=tags(team="ml"))  # fmt: skip
    reader = with_policy(server, "tc-role-reader", allow(
        "iam:GetRole", {"StringEquals": {"aws:ResourceTag/team": "ml"}}))  # fmt: skip
    assert reader.get_role(RoleName="tc-ml-role")["Role"]["RoleName"] == "tc-ml-role"
    iam.untag_role(RoleName="tc-ml-role", TagKeys=["team"])
    code, status, message = denial(reader.get_role, RoleName="tc-ml-role")
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/tc-role-reader is not authorized to perform: "
        "iam:GetRole on resource: role tc-ml-role because no "
        "identity-based policy allows the iam:GetRole action"
    )
    iam.tag_role(RoleName="tc-ml-role", Tags=tags(team="ml"))
    assert reader.get_role(RoleName="tc-ml-role")["Role"]["Tags"] == tags(team="ml")


def test_passing_a_role_by_its_tags(server: CoveServer) -> None:
    iam = server.client("iam")
    for name, role_tags in (("tc-pass-ml", tags(team="ml")), ("tc-pass-web", tags(team="web"))):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_SAGEMAKER, Tags=role_tags)
    key = new_user(server, "tc-modeler")
    iam.put_user_policy(UserName="tc-modeler", PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "sagemaker:CreateModel", "Resource": "*"},
        allow("iam:PassRole", {"StringEquals": {
            "iam:ResourceTag/team": "ml", "iam:PassedToService": "sagemaker.amazonaws.com"}}),
    ))  # fmt: skip
    sm = as_key(server, "sagemaker", key)
    container = {"Image": "sklearn", "ModelDataUrl": "s3://b/m.tar.gz"}

    def create(model: str, role: str) -> Any:
        return sm.create_model(ModelName=model, PrimaryContainer=container,
                               ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}")  # fmt: skip

    assert create("tc-model-1", "tc-pass-ml")["ModelArn"].endswith(":model/tc-model-1")
    web = f"arn:aws:iam::{ACCOUNT}:role/tc-pass-web"
    code, _, message = denial(create, "tc-model-2", "tc-pass-web")
    assert code == "AccessDeniedException"
    assert f"iam:PassRole on resource: {web} because no identity-based policy" in message
    iam.tag_role(RoleName="tc-pass-ml", Tags=tags(team="web"))  # at once, for the next
    assert denial(create, "tc-model-3", "tc-pass-ml")[0] == "AccessDeniedException"


def test_assuming_a_role_by_its_tags(server: CoveServer) -> None:
    """A role that trusts the account: the caller's own policy decides, by the role's tags."""
    iam = server.client("iam")
    trust_account = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole"}]})  # fmt: skip
    for name, team in (("tc-assume-ml", "ml"), ("tc-assume-web", "web")):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_account,
                        Tags=tags(team=team))  # fmt: skip
    key = new_user(server, "tc-assumer")
    iam.put_user_policy(UserName="tc-assumer", PolicyName="p", PolicyDocument=policy(
        allow("sts:AssumeRole", {"StringEquals": {"aws:ResourceTag/team": "ml"}})))  # fmt: skip
    sts = as_key(server, "sts", key)
    got = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/tc-assume-ml",
                          RoleSessionName="s1")  # fmt: skip
    assert got["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/tc-assume-ml/s1"
    code, _, message = denial(sts.assume_role, RoleSessionName="s1",
                              RoleArn=f"arn:aws:iam::{ACCOUNT}:role/tc-assume-web")  # fmt: skip
    assert code == "AccessDenied"
    assert f"sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/tc-assume-web" in message


def test_tags_a_create_call_passes(server: CoveServer) -> None:
    iam = server.client("iam")
    creator = with_policy(server, "tc-creator", allow(
        ["iam:CreateUser", "iam:CreateRole", "iam:CreatePolicy"],
        {"StringEquals": {"aws:RequestTag/cost-center": "42"},
         "ForAllValues:StringEquals": {"aws:TagKeys": ["cost-center", "owner"]}}))  # fmt: skip
    creator.create_user(UserName="tc-made", Tags=tags(**{"cost-center": "42", "owner": "me"}))
    creator.create_role(RoleName="tc-made", AssumeRolePolicyDocument=TRUST_SAGEMAKER,
                        Tags=tags(**{"cost-center": "42"}))  # fmt: skip
    document = policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"})
    creator.create_policy(PolicyName="tc-made", PolicyDocument=document,
                          Tags=tags(**{"cost-center": "42"}))  # fmt: skip
    refused(creator.create_user, UserName="tc-untagged")
    refused(creator.create_user, UserName="tc-extra", Tags=tags(**{"cost-center": "42", "x": "y"}))
    refused(creator.create_policy, PolicyName="tc-wrong", PolicyDocument=document,
            Tags=tags(**{"cost-center": "7"}))  # fmt: skip
    assert iam.get_user(UserName="tc-made")["User"]["Tags"] == tags(
        **{"cost-center": "42", "owner": "me"})  # fmt: skip


def test_attaching_only_one_policy(server: CoveServer) -> None:
    """iam:PolicyARN on AttachUserPolicy and DetachUserPolicy."""
    iam = server.client("iam")
    iam.create_user(UserName="tc-reader")
    read_only = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    attacher = with_policy(server, "tc-attacher", allow(
        ["iam:AttachUserPolicy", "iam:DetachUserPolicy"],
        {"ArnEquals": {"iam:PolicyARN": read_only}}))  # fmt: skip
    attacher.attach_user_policy(UserName="tc-reader", PolicyArn=read_only)
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    code, _, message = denial(attacher.attach_user_policy, UserName="tc-reader", PolicyArn=admin)
    assert code == "AccessDenied"
    assert "iam:AttachUserPolicy on resource: user tc-reader " in message
    attacher.detach_user_policy(UserName="tc-reader", PolicyArn=read_only)
    assert iam.list_attached_user_policies(UserName="tc-reader")["AttachedPolicies"] == []
