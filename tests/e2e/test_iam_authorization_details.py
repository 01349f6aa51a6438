"""GetAccountAuthorizationDetails against a real `cove server`, with boto3 and the AWS CLI:
the account's users, groups, roles and managed policies with how they relate. (Its
paging is test_iam_paging's.)

AWS's behaviour pinned here (IAM API reference, "GetAccountAuthorizationDetails",
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html;
"UserDetail", "GroupDetail", "RoleDetail", "ManagedPolicyDetail", .../API_UserDetail.html,
.../API_GroupDetail.html, .../API_RoleDetail.html, .../API_ManagedPolicyDetail.html):
- each user with its inline policies (UserPolicyList), groups (GroupList), attached
  managed policies, permissions boundary and tags; each group with its inline and attached
  policies; each role with its trust policy, instance profiles, inline and attached
  policies, boundary and tags;
- Policies: the managed policies with every version's document; the account's own, and
  the AWS managed ones it uses (the AWS CLI's example answer lists AmazonEC2FullAccess,
  attached once, among the account's), not every AWS managed policy;
- "Policies returned by this operation are URL-encoded compliant with RFC 3986" (botocore
  decodes them back into documents);
- Filter: "Only the entities that match the types you specify are included in the output.
  Use the value LocalManagedPolicy to include customer managed policies" (User, Role,
  Group, LocalManagedPolicy, AWSManagedPolicy).
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import CoveServer
from tests.e2e.iam_support import ACCOUNT, allow, doc, trusting_account

READ = doc(allow("s3:GetObject"))
IAM_READ = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
UNUSED = "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess"  # attached to nothing here


def named(entries: list[dict[str, Any]], member: str, name: str) -> dict[str, Any]:
    (found,) = [e for e in entries if e[member] == name]
    return found


def everything(iam: Any, **params: Any) -> dict[str, Any]:
    answer = iam.get_account_authorization_details(MaxItems=1000, **params)
    assert not answer["IsTruncated"]
    return answer


def test_the_account_in_one_answer(server: CoveServer) -> None:
    iam = server.client("iam")
    local = iam.create_policy(PolicyName="gd-local", PolicyDocument=READ)["Policy"]["Arn"]
    second = doc(allow(["s3:GetObject", "s3:PutObject"]))
    iam.create_policy_version(PolicyArn=local, PolicyDocument=second, SetAsDefault=True)
    iam.create_group(GroupName="gd-group")
    iam.put_group_policy(GroupName="gd-group", PolicyName="gd-inline", PolicyDocument=READ)
    iam.attach_group_policy(GroupName="gd-group", PolicyArn=IAM_READ)
    iam.create_user(UserName="gd-user", PermissionsBoundary=S3_READ,
                    Tags=[{"Key": "team", "Value": "ml"}])  # fmt: skip
    iam.add_user_to_group(GroupName="gd-group", UserName="gd-user")
    iam.put_user_policy(UserName="gd-user", PolicyName="gd-own", PolicyDocument=READ)
    iam.attach_user_policy(UserName="gd-user", PolicyArn=local)
    iam.create_role(RoleName="gd-role", AssumeRolePolicyDocument=trusting_account(),
                    PermissionsBoundary=local)  # fmt: skip
    iam.attach_role_policy(RoleName="gd-role", PolicyArn=local)

    answer = everything(iam)
    user = named(answer["UserDetailList"], "UserName", "gd-user")
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/gd-user"
    assert user["UserPolicyList"] == [{"PolicyName": "gd-own", "PolicyDocument": json.loads(READ)}]
    assert user["GroupList"] == ["gd-group"]
    assert user["AttachedManagedPolicies"] == [{"PolicyName": "gd-local", "PolicyArn": local}]
    assert user["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": S3_READ,
    }  # fmt: skip
    assert user["Tags"] == [{"Key": "team", "Value": "ml"}]
    group = named(answer["GroupDetailList"], "GroupName", "gd-group")
    assert group["GroupPolicyList"] == [
        {"PolicyName": "gd-inline", "PolicyDocument": json.loads(READ)}
    ]
    assert group["AttachedManagedPolicies"] == [
        {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": IAM_READ}
    ]
    role = named(answer["RoleDetailList"], "RoleName", "gd-role")
    assert role["AssumeRolePolicyDocument"] == json.loads(trusting_account())
    assert role["InstanceProfileList"] == [] and role["RolePolicyList"] == []
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == local
    assert role["AttachedManagedPolicies"] == [{"PolicyName": "gd-local", "PolicyArn": local}]

    policies = {p["Arn"]: p for p in answer["Policies"]}
    mine = policies[local]
    assert (mine["DefaultVersionId"], mine["AttachmentCount"]) == ("v2", 2)
    assert mine["PermissionsBoundaryUsageCount"] == 1
    versions = {v["VersionId"]: v for v in mine["PolicyVersionList"]}
    assert versions["v1"]["Document"] == json.loads(READ)
    assert (versions["v2"]["Document"], versions["v2"]["IsDefaultVersion"]) == (
        json.loads(second), True,
    )  # fmt: skip
    assert IAM_READ in policies  # attached
    assert S3_READ in policies  # a boundary
    assert UNUSED not in policies  # AWS's, used by nothing
    # the default execution role's AWS managed policies are in use too
    assert "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess" in policies


def test_the_filter_picks_the_kinds(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="gd-filtered", AssumeRolePolicyDocument=trusting_account())
    iam.create_policy(PolicyName="gd-filtered", PolicyDocument=READ)

    def kinds(answer: dict[str, Any]) -> set[str]:
        lists = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
        return {name for name in lists if answer[name]}

    roles = everything(iam, Filter=["Role"])
    assert kinds(roles) == {"RoleDetailList"}
    named(roles["RoleDetailList"], "RoleName", "gd-filtered")
    local = everything(iam, Filter=["LocalManagedPolicy"])
    assert kinds(local) == {"Policies"}
    assert all(":aws:policy/" not in p["Arn"] for p in local["Policies"])
    named(local["Policies"], "PolicyName", "gd-filtered")
    aws = everything(iam, Filter=["AWSManagedPolicy", "User"])
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in aws["Policies"])
    assert aws["Policies"] and not aws["RoleDetailList"]


def test_the_cli_reads_the_snapshot(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="gd-cli-user")
    iam.put_user_policy(UserName="gd-cli-user", PolicyName="gd-cli", PolicyDocument=READ)
    out = json.loads(server.aws(
        "iam", "get-account-authorization-details", "--filter", "User",
    ).stdout)  # fmt: skip
    assert out["RoleDetailList"] == [] and out["Policies"] == []
    user = named(out["UserDetailList"], "UserName", "gd-cli-user")
    assert user["UserPolicyList"] == [{"PolicyName": "gd-cli", "PolicyDocument": json.loads(READ)}]
