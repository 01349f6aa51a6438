"""The resource each IAM operation is authorized on, with unmodified boto3 against a real
`cove server`: policies that name IAM resources by ARN allow what they allow on AWS.

AWS's behaviour pinned here (Service Authorization Reference, "Actions, resources, and
condition keys for AWS Identity and Access Management (IAM)",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html):
- AddUserToGroup and RemoveUserFromGroup act on the group (resource type group*), so AWS's
  own example policy works (IAM UG, "IAM: Allows managing a group's membership
  programmatically and in the console",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_iam_manage-group-membership.html);
- CreatePolicy and the other policy operations act on the policy,
  arn:aws:iam::<account>:policy/<path>/<name> (resource type policy*);
- CreateUser and CreateRole act on the identity they create, under its path (user*,
  role*, whose ARNs are user/${UserNameWithPath} and role/${RoleNameWithPath});
- SimulatePrincipalPolicy acts on the identity whose policies it simulates, and AWS's
  denial names PolicySourceArn ("... is not authorized to perform:
  iam:SimulatePrincipalPolicy on resource: arn:aws:iam::xxxx:role/...",
  https://github.com/aws/aws-toolkit-vscode/issues/3969);
- UpdateUser: "to change Bob to Robert, the entity making the request must have permission
  on Bob and Robert, or must have permission on all (*)" (IAM API reference, "UpdateUser",
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateUser.html).
"""

from __future__ import annotations

import json

from tests.conftest import CoveServer
from tests.e2e.test_iam_enforcement import as_key, denial, new_user, policy

ACCOUNT = "000000000000"
# AWS's example, verbatim but for the group's name.
MANAGE_MARKETING = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ViewGroups", "Effect": "Allow",
         "Action": ["iam:ListGroups", "iam:ListUsers", "iam:GetUser", "iam:ListGroupsForUser"],
         "Resource": "*"},
        {"Sid": "ViewEditThisGroup", "Effect": "Allow",
         "Action": ["iam:AddUserToGroup", "iam:RemoveUserFromGroup", "iam:GetGroup"],
         "Resource": "arn:aws:iam::*:group/MarketingTeam"},
    ],
}  # fmt: skip


def not_authorized(user: str, action: str, resource: str) -> str:
    return (
        f"User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: {action} on "
        f"resource: {resource} because no identity-based policy allows the {action} action"
    )


def test_awss_group_membership_example_policy(server: CoveServer) -> None:
    iam = server.client("iam")
    for group in ("MarketingTeam", "Admins"):
        iam.create_group(GroupName=group)
    iam.create_user(UserName="new-hire")
    key = new_user(server, "marketing-lead")
    iam.put_user_policy(UserName="marketing-lead", PolicyName="membership",
                        PolicyDocument=json.dumps(MANAGE_MARKETING))  # fmt: skip
    lead = as_key(server, "iam", key)
    lead.add_user_to_group(GroupName="MarketingTeam", UserName="new-hire")
    members = lead.get_group(GroupName="MarketingTeam")["Users"]
    assert [u["UserName"] for u in members] == ["new-hire"]
    assert [g["GroupName"] for g in lead.list_groups_for_user(UserName="new-hire")["Groups"]] == [
        "MarketingTeam"
    ]
    assert denial(lead.add_user_to_group, GroupName="Admins", UserName="new-hire") == (
        "AccessDenied", 403,
        not_authorized("marketing-lead", "iam:AddUserToGroup", "group Admins"),
    )  # fmt: skip
    lead.remove_user_from_group(GroupName="MarketingTeam", UserName="new-hire")
    assert lead.get_group(GroupName="MarketingTeam")["Users"] == []


def test_policy_operations_act_on_the_policy_arn(server: CoveServer) -> None:
    iam = server.client("iam")
    key = new_user(server, "team-admin")
    team = f"arn:aws:iam::{ACCOUNT}:policy/team/*"
    iam.put_user_policy(UserName="team-admin", PolicyName="team-policies", PolicyDocument=policy(
        {"Effect": "Allow", "Resource": team,
         "Action": ["iam:CreatePolicy", "iam:GetPolicy", "iam:CreatePolicyVersion",
                    "iam:ListPolicyVersions", "iam:DeletePolicyVersion", "iam:DeletePolicy"]},
    ))  # fmt: skip
    admin = as_key(server, "iam", key)
    document = policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"})
    made = admin.create_policy(PolicyName="team-read", Path="/team/", PolicyDocument=document)
    arn = made["Policy"]["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/team/team-read"
    assert admin.get_policy(PolicyArn=arn)["Policy"]["PolicyName"] == "team-read"
    admin.create_policy_version(PolicyArn=arn, PolicyDocument=document)
    assert len(admin.list_policy_versions(PolicyArn=arn)["Versions"]) == 2
    admin.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert denial(admin.create_policy, PolicyName="elsewhere", PolicyDocument=document) == (
        "AccessDenied", 403,
        not_authorized("team-admin", "iam:CreatePolicy", "policy elsewhere"),
    )  # fmt: skip
    other = iam.create_policy(PolicyName="not-the-teams", PolicyDocument=document)["Policy"]
    assert denial(admin.get_policy, PolicyArn=other["Arn"])[:2] == ("AccessDenied", 403)
    admin.delete_policy(PolicyArn=arn)


def test_create_calls_act_on_the_identity_under_its_path(server: CoveServer) -> None:
    iam = server.client("iam")
    key = new_user(server, "eng-admin")
    iam.put_user_policy(UserName="eng-admin", PolicyName="eng", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["iam:CreateUser", "iam:CreateGroup", "iam:CreateRole"],
         "Resource": [f"arn:aws:iam::{ACCOUNT}:user/eng/*",
                      f"arn:aws:iam::{ACCOUNT}:group/eng/*",
                      f"arn:aws:iam::{ACCOUNT}:role/eng/*"]},
    ))  # fmt: skip
    admin = as_key(server, "iam", key)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})  # fmt: skip
    admin.create_user(UserName="eng-dev", Path="/eng/")
    admin.create_group(GroupName="eng-devs", Path="/eng/")
    admin.create_role(RoleName="eng-runner", Path="/eng/", AssumeRolePolicyDocument=trust)
    assert denial(admin.create_user, UserName="eng-dev-2") == (
        "AccessDenied", 403,
        not_authorized("eng-admin", "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/eng-dev-2"),
    )  # fmt: skip
    code, _, message = denial(admin.create_role, RoleName="ops-runner", Path="/ops/",
                              AssumeRolePolicyDocument=trust)  # fmt: skip
    assert code == "AccessDenied"
    assert f"iam:CreateRole on resource: arn:aws:iam::{ACCOUNT}:role/ops/ops-runner " in message


def test_simulating_a_principal_acts_on_it(server: CoveServer) -> None:
    iam = server.client("iam")
    for name in ("sim-subject", "sim-other"):
        iam.create_user(UserName=name)
    key = new_user(server, "sim-auditor")
    iam.put_user_policy(UserName="sim-auditor", PolicyName="simulate", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy",
         "Resource": f"arn:aws:iam::{ACCOUNT}:user/sim-subject"},
    ))  # fmt: skip
    auditor = as_key(server, "iam", key)
    results = auditor.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/sim-subject", ActionNames=["s3:GetObject"]
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["implicitDeny"]
    other = f"arn:aws:iam::{ACCOUNT}:user/sim-other"
    assert denial(auditor.simulate_principal_policy, PolicySourceArn=other,
                  ActionNames=["s3:GetObject"]) == (
        "AccessDenied", 403,
        not_authorized("sim-auditor", "iam:SimulatePrincipalPolicy", other),
    )  # fmt: skip


def test_renaming_needs_the_old_and_the_new_name(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="Bob")
    key = new_user(server, "renamer")
    bob, robert = (f"arn:aws:iam::{ACCOUNT}:user/{n}" for n in ("Bob", "Robert"))
    iam.put_user_policy(UserName="renamer", PolicyName="bob", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "iam:UpdateUser", "Resource": bob}))  # fmt: skip
    renamer = as_key(server, "iam", key)
    assert denial(renamer.update_user, UserName="Bob", NewUserName="Robert") == (
        "AccessDenied", 403, not_authorized("renamer", "iam:UpdateUser", "user Robert"),
    )  # fmt: skip
    iam.put_user_policy(UserName="renamer", PolicyName="robert", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "iam:UpdateUser", "Resource": robert}))  # fmt: skip
    renamer.update_user(UserName="Bob", NewUserName="Robert")
    assert iam.get_user(UserName="Robert")["User"]["Arn"] == robert
