"""Permissions boundaries against a real `cove server`, with boto3 and the AWS CLI: set,
shown, replaced and removed on users and roles, enforced on every request a user or a
role session makes, asked about by iam:PermissionsBoundary, and simulated.

AWS's behaviour pinned here:
- PutUserPermissionsBoundary / PutRolePermissionsBoundary set or replace an identity's
  boundary, an AWS managed or a customer managed policy; Delete*PermissionsBoundary
  removes it; CreateUser and CreateRole take one as PermissionsBoundary (IAM API
  reference, https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPermissionsBoundary.html,
  .../API_PutRolePermissionsBoundary.html, .../API_DeleteUserPermissionsBoundary.html,
  .../API_DeleteRolePermissionsBoundary.html, .../API_CreateUser.html, .../API_CreateRole.html);
- GetUser and GetRole show it as PermissionsBoundary {PermissionsBoundaryType: "Policy",
  PermissionsBoundaryArn} (.../API_AttachedPermissionsBoundary.html; "Policy" as GetRole
  answers it, https://github.com/awsdocs/iam-user-guide/issues/82); ListUsers and ListRoles
  do not ("This operation does not return the following attributes, even though they are
  an attribute of the returned object: PermissionsBoundary", .../API_ListUsers.html,
  .../API_ListRoles.html);
- a boundary that is no managed policy: NoSuchEntity (404) "Scope ARN: <arn> does not
  exist or is not attachable." (AWS's answer to CreateRole, as quoted in the ROSA CLI's
  test cases and SAM users' reports);
- enforcement: an identity's effective permissions are what both its identity-based
  policies and its boundary allow; an explicit deny in either denies; the boundary grants
  nothing itself; a role session's permissions are bounded by its role's boundary (IAM UG,
  "Permissions boundaries for IAM entities",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html); the
  denials say "because no permissions boundary allows the <action> action" and "with an
  explicit deny in a permissions boundary" (IAM UG, "Troubleshoot access denied error
  messages", https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html);
- a same-account resource-based policy naming the user or the role session grants past the
  boundary; one naming the role is limited by the boundary (IAM UG, "Policy evaluation
  logic", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
- a policy in use as a boundary cannot be deleted: DeleteConflict (409) "Cannot delete a
  policy attached to entities." (https://github.com/gruntwork-io/cloud-nuke/issues/972);
  GetPolicy counts its uses as PermissionsBoundaryUsageCount (.../API_Policy.html);
  ListEntitiesForPolicy lists them, PolicyUsageFilter PermissionsBoundary only them
  (.../API_ListEntitiesForPolicy.html); deleting the user or role needs no removing it first
  (DeleteUser's and DeleteRole's lists of what must go first do not name it);
- iam:PermissionsBoundary: "Checks that the specified policy is attached as permissions
  boundary on the IAM principal resource" (IAM UG, "IAM condition context keys",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PermissionsBoundary),
  on CreateUser/CreateRole/Put*PermissionsBoundary from their input and on Attach*,
  Detach*, Put*/Delete*Policy and Delete*PermissionsBoundary from the identity (the
  Service Authorization Reference's actions for the key);
- SimulatePrincipalPolicy applies the entity's boundary and reports it as
  PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary; a boundary passed in
  PermissionsBoundaryPolicyInputList replaces it (.../API_SimulatePrincipalPolicy.html,
  .../API_PermissionsBoundaryDecisionDetail.html).
"""

from __future__ import annotations

import json

from tests.conftest import CoveServer
from tests.e2e.iam_support import (
    ACCOUNT,
    allow,
    as_key,
    deny,
    doc,
    error_of,
    trusting_account,
    user_with_key,
)

S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
EVERYTHING = doc(allow("*"))


def boundary(arn: str) -> dict[str, str]:
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}


def test_a_users_boundary_is_set_shown_replaced_and_removed(server: CoveServer) -> None:
    iam = server.client("iam")
    own = iam.create_policy(PolicyName="pb-own", PolicyDocument=doc(allow("s3:*")))["Policy"]
    created = iam.create_user(UserName="pb-shown", PermissionsBoundary=S3_READ_ONLY)["User"]
    assert created["PermissionsBoundary"] == boundary(S3_READ_ONLY)
    shown = iam.get_user(UserName="pb-shown")["User"]
    assert shown["PermissionsBoundary"] == boundary(S3_READ_ONLY)
    listed = [u for u in iam.list_users()["Users"] if u["UserName"] == "pb-shown"]
    assert listed and "PermissionsBoundary" not in listed[0]
    iam.put_user_permissions_boundary(UserName="pb-shown", PermissionsBoundary=own["Arn"])
    got = iam.get_user(UserName="pb-shown")["User"]
    assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == own["Arn"]
    iam.delete_user_permissions_boundary(UserName="pb-shown")
    assert "PermissionsBoundary" not in iam.get_user(UserName="pb-shown")["User"]
    iam.delete_user_permissions_boundary(UserName="pb-shown")  # none: nothing to do
    assert error_of(
        iam.delete_user_permissions_boundary, UserName="pb-nobody"
    ) == ("NoSuchEntity", 404, "The user with name pb-nobody cannot be found.")


def test_the_cli_sets_a_roles_boundary(server: CoveServer) -> None:
    created = json.loads(server.aws(
        "iam", "create-role", "--role-name", "pb-cli-role", "--assume-role-policy-document",
        trusting_account(), "--permissions-boundary", S3_READ_ONLY,
    ).stdout)["Role"]  # fmt: skip
    assert created["PermissionsBoundary"] == boundary(S3_READ_ONLY)
    server.aws("iam", "put-role-permissions-boundary", "--role-name", "pb-cli-role",
               "--permissions-boundary", ADMIN)  # fmt: skip
    got = json.loads(server.aws("iam", "get-role", "--role-name", "pb-cli-role").stdout)["Role"]
    assert got["PermissionsBoundary"] == boundary(ADMIN)
    roles = json.loads(server.aws("iam", "list-roles").stdout)["Roles"]
    assert all("PermissionsBoundary" not in r for r in roles)
    server.aws("iam", "delete-role-permissions-boundary", "--role-name", "pb-cli-role")
    got = json.loads(server.aws("iam", "get-role", "--role-name", "pb-cli-role").stdout)["Role"]
    assert "PermissionsBoundary" not in got


def test_a_boundary_must_be_a_managed_policy(server: CoveServer) -> None:
    iam = server.client("iam")
    missing = f"arn:aws:iam::{ACCOUNT}:policy/pb-no-such-policy"
    expected = ("NoSuchEntity", 404, f"Scope ARN: {missing} does not exist or is not attachable.")
    assert error_of(iam.create_user, UserName="pb-unbounded", PermissionsBoundary=missing) == (
        expected
    )
    assert error_of(iam.get_user, UserName="pb-unbounded")[0] == "NoSuchEntity"  # not made
    assert error_of(
        iam.create_role, RoleName="pb-unbounded", AssumeRolePolicyDocument=trusting_account(),
        PermissionsBoundary=missing,
    ) == expected  # fmt: skip
    iam.create_user(UserName="pb-target")
    assert error_of(
        iam.put_user_permissions_boundary, UserName="pb-target", PermissionsBoundary=missing
    ) == expected
    assert "PermissionsBoundary" not in iam.get_user(UserName="pb-target")["User"]


def test_the_boundary_caps_a_users_permissions_from_the_next_request(server: CoveServer) -> None:
    iam = server.client("iam")
    key = user_with_key(server, "pb-capped")
    iam.put_user_policy(UserName="pb-capped", PolicyName="all", PolicyDocument=EVERYTHING)
    capped = iam.create_policy(
        PolicyName="pb-iam-get-only", PolicyDocument=doc(allow("iam:Get*"))
    )["Policy"]["Arn"]
    mine = as_key(server, "iam", key)
    assert mine.list_users()["Users"]  # allowed, and now decided on the fast path
    iam.put_user_permissions_boundary(UserName="pb-capped", PermissionsBoundary=capped)
    code, status, message = error_of(mine.list_users)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/pb-capped is not authorized to perform: "
        "iam:ListUsers on resource: * because no permissions boundary allows the "
        "iam:ListUsers action"
    )
    assert mine.get_user()["User"]["UserName"] == "pb-capped"  # within both
    # the boundary grants nothing itself: without the identity policy, GetUser is denied
    iam.delete_user_policy(UserName="pb-capped", PolicyName="all")
    assert error_of(mine.get_user)[2].endswith(
        "because no identity-based policy allows the iam:GetUser action"
    )
    iam.put_user_policy(UserName="pb-capped", PolicyName="all", PolicyDocument=EVERYTHING)
    # a new default version of the boundary policy applies at once
    iam.create_policy_version(PolicyArn=capped, SetAsDefault=True, PolicyDocument=doc(
        allow("iam:*"), deny("iam:GetUser")))  # fmt: skip
    assert mine.list_users()["Users"]
    assert error_of(mine.get_user)[2].endswith(
        "iam:GetUser on resource: user pb-capped with an explicit deny in a permissions boundary"
    )
    iam.delete_user_permissions_boundary(UserName="pb-capped")
    assert mine.get_user()["User"]["UserName"] == "pb-capped"


def test_a_role_sessions_permissions_are_bounded_by_its_role(server: CoveServer) -> None:
    iam, s3 = server.client("iam"), server.client("s3")
    s3.create_bucket(Bucket="pb-role-bucket")
    s3.put_object(Bucket="pb-role-bucket", Key="a.txt", Body=b"a")
    iam.create_role(RoleName="pb-bounded-role", AssumeRolePolicyDocument=trusting_account(),
                    PermissionsBoundary=S3_READ_ONLY)  # fmt: skip
    iam.attach_role_policy(RoleName="pb-bounded-role", PolicyArn=ADMIN)
    key = user_with_key(server, "pb-assumer")
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/pb-bounded-role"
    iam.put_user_policy(UserName="pb-assumer", PolicyName="assume",
                        PolicyDocument=doc(allow("sts:AssumeRole", role_arn)))  # fmt: skip
    session = as_key(server, "sts", key).assume_role(
        RoleArn=role_arn, RoleSessionName="s1"
    )["Credentials"]
    bounded = as_key(server, "s3", session)
    assert bounded.get_object(Bucket="pb-role-bucket", Key="a.txt")["Body"].read() == b"a"
    code, status, message = error_of(bounded.put_object, Bucket="pb-role-bucket", Key="b")
    assert (code, status) == ("AccessDenied", 403)
    assert message == (  # S3 quotes the resource
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/pb-bounded-role/s1 is not authorized to "
        'perform: s3:PutObject on resource: "arn:aws:s3:::pb-role-bucket/b" because no '
        "permissions boundary allows the s3:PutObject action"
    )
    iam.delete_role_permissions_boundary(RoleName="pb-bounded-role")
    bounded.put_object(Bucket="pb-role-bucket", Key="b")  # the session too, at once


def test_resource_policies_naming_the_caller_grant_past_the_boundary(server: CoveServer) -> None:
    iam, s3 = server.client("iam"), server.client("s3")
    s3.create_bucket(Bucket="pb-shared")
    s3.put_object(Bucket="pb-shared", Key="k", Body=b"v")
    ec2_only = iam.create_policy(PolicyName="pb-ec2-only", PolicyDocument=doc(allow("ec2:*")))
    ec2_only_arn = ec2_only["Policy"]["Arn"]
    key = user_with_key(server, "pb-named", PermissionsBoundary=ec2_only_arn)
    iam.put_user_policy(UserName="pb-named", PolicyName="all", PolicyDocument=EVERYTHING)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/pb-named-role"
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/pb-named"
    # a trust policy is a resource-based policy too: naming the user, it lets the user
    # assume the role past the user's boundary
    trust = doc({"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName="pb-named-role", AssumeRolePolicyDocument=trust,
                    PermissionsBoundary=ec2_only_arn)  # fmt: skip
    iam.put_role_policy(RoleName="pb-named-role", PolicyName="all", PolicyDocument=EVERYTHING)
    session = as_key(server, "sts", key).assume_role(
        RoleArn=role_arn, RoleSessionName="reader"
    )["Credentials"]

    def bucket_policy(principal: str) -> None:
        s3.put_bucket_policy(Bucket="pb-shared", Policy=doc(allow(
            "s3:GetObject", "arn:aws:s3:::pb-shared/*", Principal={"AWS": principal})))  # fmt: skip

    user, in_session = as_key(server, "s3", key), as_key(server, "s3", session)
    assert error_of(user.get_object, Bucket="pb-shared", Key="k")[2].endswith(
        "because no permissions boundary allows the s3:GetObject action"
    )
    bucket_policy(user_arn)  # the user itself
    assert user.get_object(Bucket="pb-shared", Key="k")["Body"].read() == b"v"
    bucket_policy(role_arn)  # the role: its sessions are still bounded
    assert error_of(in_session.get_object, Bucket="pb-shared", Key="k")[2].endswith(
        "because no permissions boundary allows the s3:GetObject action"
    )
    bucket_policy(f"arn:aws:sts::{ACCOUNT}:assumed-role/pb-named-role/reader")  # the session
    assert in_session.get_object(Bucket="pb-shared", Key="k")["Body"].read() == b"v"


def test_a_policy_in_use_as_a_boundary_is_not_deleted(server: CoveServer) -> None:
    iam = server.client("iam")
    arn = iam.create_policy(PolicyName="pb-in-use", PolicyDocument=doc(allow("s3:*")))["Policy"][
        "Arn"
    ]
    iam.create_user(UserName="pb-user-of", PermissionsBoundary=arn)
    iam.create_role(RoleName="pb-role-of", AssumeRolePolicyDocument=trusting_account())
    iam.attach_role_policy(RoleName="pb-role-of", PolicyArn=arn)
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert (policy["AttachmentCount"], policy["PermissionsBoundaryUsageCount"]) == (1, 1)
    listed = [p for p in iam.list_policies(Scope="Local", MaxItems=1000)["Policies"]
              if p["Arn"] == arn]  # fmt: skip
    assert listed[0]["PermissionsBoundaryUsageCount"] == 1

    def entities(**usage: str) -> tuple[list[str], list[str]]:
        found = iam.list_entities_for_policy(PolicyArn=arn, **usage)
        return [u["UserName"] for u in found["PolicyUsers"]], [
            r["RoleName"] for r in found["PolicyRoles"]
        ]

    assert entities() == (["pb-user-of"], ["pb-role-of"])
    assert entities(PolicyUsageFilter="PermissionsBoundary") == (["pb-user-of"], [])
    assert entities(PolicyUsageFilter="PermissionsPolicy") == ([], ["pb-role-of"])
    iam.detach_role_policy(RoleName="pb-role-of", PolicyArn=arn)
    assert error_of(iam.delete_policy, PolicyArn=arn) == (
        "DeleteConflict", 409, "Cannot delete a policy attached to entities.",
    )  # fmt: skip
    iam.delete_user(UserName="pb-user-of")  # its boundary goes with it
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 0
    iam.delete_policy(PolicyArn=arn)


def test_iam_permissions_boundary_keys_delegated_administration(server: CoveServer) -> None:
    """The IAM UG's delegation example: a delegate may create and change users only with
    the company's boundary on them."""
    iam = server.client("iam")
    company = iam.create_policy(
        PolicyName="pb-company", PolicyDocument=doc(allow("s3:*"))
    )["Policy"]["Arn"]
    other = iam.create_policy(PolicyName="pb-other", PolicyDocument=doc(allow("*")))["Policy"][
        "Arn"
    ]
    key = user_with_key(server, "pb-delegate")
    only_with_boundary = {"StringEquals": {"iam:PermissionsBoundary": company}}
    iam.put_user_policy(UserName="pb-delegate", PolicyName="delegation", PolicyDocument=doc(
        allow(["iam:CreateUser", "iam:PutUserPermissionsBoundary", "iam:AttachUserPolicy",
               "iam:PutUserPolicy", "iam:DeleteUserPermissionsBoundary"],
              Condition=only_with_boundary),
    ))  # fmt: skip
    delegate = as_key(server, "iam", key)
    code, _, message = error_of(delegate.create_user, UserName="pb-staff")
    assert (code, message) == ("AccessDenied", (
        f"User: arn:aws:iam::{ACCOUNT}:user/pb-delegate is not authorized to perform: "
        f"iam:CreateUser on resource: arn:aws:iam::{ACCOUNT}:user/pb-staff because no "
        "identity-based policy allows the iam:CreateUser action"
    ))  # fmt: skip
    assert error_of(delegate.create_user, UserName="pb-staff", PermissionsBoundary=other)[0] == (
        "AccessDenied"
    )
    delegate.create_user(UserName="pb-staff", PermissionsBoundary=company)
    delegate.attach_user_policy(UserName="pb-staff", PolicyArn=other)  # pb-staff is bounded
    delegate.put_user_policy(UserName="pb-staff", PolicyName="p", PolicyDocument=EVERYTHING)
    iam.create_user(UserName="pb-free")  # made by the admin, with no boundary
    assert error_of(delegate.attach_user_policy, UserName="pb-free", PolicyArn=other)[2] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/pb-delegate is not authorized to perform: "
        "iam:AttachUserPolicy on resource: user pb-free because no identity-based policy "
        "allows the iam:AttachUserPolicy action"
    )
    assert error_of(
        delegate.put_user_permissions_boundary, UserName="pb-free", PermissionsBoundary=other
    )[0] == "AccessDenied"
    delegate.put_user_permissions_boundary(UserName="pb-free", PermissionsBoundary=company)
    delegate.attach_user_policy(UserName="pb-free", PolicyArn=other)
    delegate.delete_user_permissions_boundary(UserName="pb-free")
    # without the boundary the delegate may change nothing more of the user, not even
    # give it back
    assert error_of(delegate.delete_user_permissions_boundary, UserName="pb-free")[0] == (
        "AccessDenied"
    )


def test_the_simulator_applies_the_entitys_boundary(server: CoveServer) -> None:
    iam = server.client("iam")
    read = iam.create_policy(
        PolicyName="pb-sim-read", PolicyDocument=doc(allow("s3:GetObject"))
    )["Policy"]["Arn"]
    user = iam.create_user(UserName="pb-simulated", PermissionsBoundary=read)["User"]
    iam.put_user_policy(UserName="pb-simulated", PolicyName="s3", PolicyDocument=doc(
        allow("s3:*")))  # fmt: skip

    def decisions(**extra: object) -> dict[str, tuple[str, object]]:
        results = iam.simulate_principal_policy(
            PolicySourceArn=user["Arn"], ActionNames=["s3:GetObject", "s3:PutObject"], **extra
        )["EvaluationResults"]
        return {
            r["EvalActionName"]: (
                r["EvalDecision"],
                r.get("PermissionsBoundaryDecisionDetail", {}).get("AllowedByPermissionsBoundary"),
            )
            for r in results
        }

    assert decisions() == {
        "s3:GetObject": ("allowed", True),
        "s3:PutObject": ("implicitDeny", False),
    }
    assert decisions(PermissionsBoundaryPolicyInputList=[doc(allow("s3:PutObject"))]) == {
        "s3:GetObject": ("implicitDeny", False),
        "s3:PutObject": ("allowed", True),
    }
    iam.delete_user_permissions_boundary(UserName="pb-simulated")
    assert decisions() == {"s3:GetObject": ("allowed", None), "s3:PutObject": ("allowed", None)}
