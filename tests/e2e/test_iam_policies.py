"""IAM groups, roles, managed policies (with versions), inline policies and attachments,
driven with unmodified boto3 and the AWS CLI against a real `cove server`.

AWS's behaviour pinned here, with the texts IAM sends (recorded from AWS in LocalStack's
snapshot tests and quoted in many public issue threads; codes and statuses from the IAM
API reference, "Common Errors", https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html):
- DeleteConflict 409 "Cannot delete entity, must detach all policies first." / "... must
  delete policies first." / "... must remove users from group first." (API_DeleteUser,
  API_DeleteGroup, API_DeleteRole);
- managed policies: at most 5 versions ("A managed policy can have up to 5 versions...",
  LimitExceeded 409), the default version cannot be deleted, an attached policy cannot be
  deleted ("Cannot delete a policy attached to entities."), a missing one is "Policy <arn>
  does not exist or is not attachable." to attach and "Policy <arn> was not found." to
  detach (IAM User Guide, "Versioning IAM policies");
- documents are refused with MalformedPolicyDocument 400 (an identity policy naming a
  principal: "Policy document should not specify a principal."; a trust policy with a
  Resource: "Has prohibited field Resource") and returned URL-encoded (RFC 3986), which
  botocore decodes (IAM API reference, "PolicyVersion");
- AWS managed policies are read-only: "Cannot delete policies outside your own account."
  (AccessDenied 403).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import CoveServer

ACCOUNT = "000000000000"
READ_ONE_BUCKET = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"]},
    ],
}  # fmt: skip
TRUST_SAGEMAKER = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
         "Action": "sts:AssumeRole"},
    ],
}  # fmt: skip


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def test_managed_policy_versions(server: CoveServer) -> None:
    iam = server.client("iam")
    policy = iam.create_policy(
        PolicyName="read-data", PolicyDocument=json.dumps(READ_ONE_BUCKET),
        Description="one bucket",
    )["Policy"]  # fmt: skip
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/read-data"
    assert policy["DefaultVersionId"] == "v1" and policy["PolicyId"].startswith("ANPA")
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert got["Document"] == READ_ONE_BUCKET and got["IsDefaultVersion"]  # decoded by botocore
    # names are unique regardless of case; the text is IAM's, as recorded from AWS
    assert error_of(
        iam.create_policy, PolicyName="READ-DATA", PolicyDocument=json.dumps(READ_ONE_BUCKET)
    ) == (
        "EntityAlreadyExists", 409,
        "A policy called READ-DATA already exists. Duplicate names are not allowed.",
    )  # fmt: skip
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ_ONE_BUCKET))
    assert error_of(
        iam.create_policy_version, PolicyArn=arn, PolicyDocument=json.dumps(READ_ONE_BUCKET)
    ) == (
        "LimitExceeded", 409,
        "A managed policy can have up to 5 versions. Before you create a new version, you "
        "must delete an existing version.",
    )  # fmt: skip
    versions = [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]]
    assert versions == ["v5", "v4", "v3", "v2", "v1"]
    assert error_of(iam.delete_policy_version, PolicyArn=arn, VersionId="v1") == (
        "DeleteConflict",
        409,
        "Cannot delete the default version of a policy.",
    )
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    assert error_of(iam.get_policy_version, PolicyArn=arn, VersionId="v9") == (
        "NoSuchEntity",
        404,
        f"Policy {arn} version v9 does not exist or is not attachable.",
    )
    code, status, message = error_of(iam.delete_policy, PolicyArn=arn)
    assert (code, status) == ("DeleteConflict", 409) and "more than one version" in message
    for version in ("v1", "v2", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(READ_ONE_BUCKET))
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == [
        "v6", "v3",
    ]  # numbers are never reused  # fmt: skip
    iam.delete_policy_version(PolicyArn=arn, VersionId="v6")
    iam.delete_policy(PolicyArn=arn)
    assert error_of(iam.get_policy, PolicyArn=arn) == (
        "NoSuchEntity",
        404,
        f"Policy {arn} was not found.",
    )


def test_documents_are_checked_as_iam_checks_them(server: CoveServer) -> None:
    iam = server.client("iam")
    with_principal = {**READ_ONE_BUCKET, "Statement": [
        {**READ_ONE_BUCKET["Statement"][0], "Principal": "*"}]}  # fmt: skip
    document = json.dumps(with_principal)
    assert error_of(iam.create_policy, PolicyName="p1", PolicyDocument=document) == (
        "MalformedPolicyDocument", 400, "Policy document should not specify a principal."
    )  # fmt: skip
    assert error_of(iam.create_policy, PolicyName="p2", PolicyDocument="{not json")[:2] == (
        "MalformedPolicyDocument", 400,
    )  # fmt: skip
    trust_with_resource = {"Version": "2012-10-17", "Statement": [
        {**TRUST_SAGEMAKER["Statement"][0], "Resource": "*"}]}  # fmt: skip
    assert error_of(
        iam.create_role, RoleName="r1", AssumeRolePolicyDocument=json.dumps(trust_with_resource)
    ) == ("MalformedPolicyDocument", 400, "Has prohibited field Resource")


def test_roles_and_their_trust_policy(server: CoveServer) -> None:
    iam = server.client("iam")
    role = iam.create_role(
        RoleName="sm-exec", AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER),
        Description="for jobs", MaxSessionDuration=7200,
    )["Role"]  # fmt: skip
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/sm-exec"
    assert role["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName="SM-EXEC")["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST_SAGEMAKER  # URL-encoded, decoded by botocore
    assert (got["MaxSessionDuration"], got["Description"]) == (7200, "for jobs")
    assert error_of(iam.create_role, RoleName="sm-exec",
                    AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER)) == (
        "EntityAlreadyExists", 409, "Role with name sm-exec already exists."
    )  # fmt: skip
    iam.attach_role_policy(
        RoleName="sm-exec", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    assert error_of(iam.delete_role, RoleName="sm-exec") == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must detach all policies first.",
    )
    iam.detach_role_policy(
        RoleName="sm-exec", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    iam.put_role_policy(
        RoleName="sm-exec", PolicyName="inline", PolicyDocument=json.dumps(READ_ONE_BUCKET)
    )
    assert error_of(iam.delete_role, RoleName="sm-exec") == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete policies first.",
    )
    got_inline = iam.get_role_policy(RoleName="sm-exec", PolicyName="inline")
    assert got_inline["PolicyDocument"] == READ_ONE_BUCKET
    iam.delete_role_policy(RoleName="sm-exec", PolicyName="inline")
    assert error_of(iam.get_role_policy, RoleName="sm-exec", PolicyName="inline") == (
        "NoSuchEntity",
        404,
        "The role policy with name inline cannot be found.",
    )
    iam.update_role(RoleName="sm-exec", MaxSessionDuration=3600)
    assert iam.get_role(RoleName="sm-exec")["Role"]["MaxSessionDuration"] == 3600
    iam.delete_role(RoleName="sm-exec")
    assert error_of(iam.get_role, RoleName="sm-exec") == (
        "NoSuchEntity",
        404,
        "The role with name sm-exec cannot be found.",
    )


def test_groups_members_and_attachments(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_group(GroupName="readers")
    iam.create_user(UserName="gina")
    iam.add_user_to_group(GroupName="readers", UserName="gina")
    assert [u["UserName"] for u in iam.get_group(GroupName="readers")["Users"]] == ["gina"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="gina")["Groups"]] == [
        "readers"
    ]
    assert error_of(iam.delete_group, GroupName="readers") == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove users from group first.",
    )
    assert error_of(iam.delete_user, UserName="gina")[:2] == ("DeleteConflict", 409)
    managed = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    iam.attach_group_policy(GroupName="readers", PolicyArn=managed)
    attached = iam.list_attached_group_policies(GroupName="readers")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": managed}]
    entities = iam.list_entities_for_policy(PolicyArn=managed)
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["readers"]
    missing = f"arn:aws:iam::{ACCOUNT}:policy/nothing"
    assert error_of(iam.attach_user_policy, UserName="gina", PolicyArn=missing) == (
        "NoSuchEntity",
        404,
        f"Policy {missing} does not exist or is not attachable.",
    )
    assert error_of(iam.detach_user_policy, UserName="gina", PolicyArn=managed) == (
        "NoSuchEntity",
        404,
        f"Policy {managed} was not found.",
    )
    assert error_of(iam.delete_policy, PolicyArn=managed) == (
        "AccessDenied",
        403,
        "Cannot delete policies outside your own account.",
    )
    iam.detach_group_policy(GroupName="readers", PolicyArn=managed)
    iam.remove_user_from_group(GroupName="readers", UserName="gina")
    iam.delete_group(GroupName="readers")
    iam.delete_user(UserName="gina")


def test_attached_policy_quota(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="quota")
    arns = [
        iam.create_policy(PolicyName=f"q{i}", PolicyDocument=json.dumps(READ_ONE_BUCKET))[
            "Policy"]["Arn"] for i in range(11)
    ]  # fmt: skip
    for arn in arns[:10]:
        iam.attach_user_policy(UserName="quota", PolicyArn=arn)
    assert error_of(iam.attach_user_policy, UserName="quota", PolicyArn=arns[10]) == (
        "LimitExceeded",
        409,
        "Cannot exceed quota for PoliciesPerUser: 10",
    )
    assert error_of(iam.delete_policy, PolicyArn=arns[0]) == (
        "DeleteConflict",
        409,
        "Cannot delete a policy attached to entities.",
    )
    listed = iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]
    mine = [p for p in listed if p["PolicyName"] in {f"q{i}" for i in range(11)}]
    assert {p["PolicyName"] for p in mine} == {f"q{i}" for i in range(10)}  # not q10
    assert all(p["AttachmentCount"] == 1 for p in mine)


def test_inline_user_policies_with_the_cli(server: CoveServer) -> None:
    server.aws("iam", "create-user", "--user-name", "ivan")
    server.aws("iam", "put-user-policy", "--user-name", "ivan", "--policy-name", "read",
               "--policy-document", json.dumps(READ_ONE_BUCKET))  # fmt: skip
    names = json.loads(server.aws("iam", "list-user-policies", "--user-name", "ivan").stdout)
    assert names["PolicyNames"] == ["read"]
    got = json.loads(server.aws("iam", "get-user-policy", "--user-name", "ivan",
                                "--policy-name", "read").stdout)  # fmt: skip
    assert got["PolicyDocument"] == READ_ONE_BUCKET
    failed = server.aws("iam", "delete-user", "--user-name", "ivan", check=False)
    assert "(DeleteConflict)" in failed.stderr
    assert "Cannot delete entity, must delete policies first." in failed.stderr


def test_a_new_account_has_the_default_execution_role(server: CoveServer) -> None:
    iam = server.client("iam")
    role = iam.get_role(RoleName="cove")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/cove"
    trusted = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert set(trusted) == {"sagemaker.amazonaws.com", "lambda.amazonaws.com"}
    attached = iam.list_attached_role_policies(RoleName="cove")["AttachedPolicies"]
    names = {p["PolicyName"] for p in attached}
    assert names == {"AmazonSageMakerFullAccess", "AmazonS3FullAccess"}
    assert iam.list_role_policies(RoleName="cove")["PolicyNames"] == []


def test_aws_managed_policies_are_listed_with_their_documents(server: CoveServer) -> None:
    iam = server.client("iam")
    names = {p["PolicyName"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]}
    assert {"AdministratorAccess", "AmazonS3ReadOnlyAccess", "AWSLambdaBasicExecutionRole"} <= names
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["PolicyId"].startswith("ANPA") and len(policy["PolicyId"]) == 21
    assert policy["CreateDate"].year == 2015  # its version's date in AWS's reference
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    actions = version["PolicyVersion"]["Document"]["Statement"][0]["Action"]
    assert set(actions) == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}


def test_aws_lambda_full_access_is_awss_document_and_enforced(server: CoveServer) -> None:
    """AWSLambda_FullAccess v2 (edited 2025-03-17) as AWS's managed policy reference has
    it, read from its page's Chinese edition, whose JSON is AWS's own
    (https://docs.aws.amazon.com/zh_cn/aws-managed-policy/latest/reference/AWSLambda_FullAccess.html):
    lambda:* and read access to what the console shows, iam:PassRole to Lambda only."""
    iam = server.client("iam")
    arn = "arn:aws:iam::aws:policy/AWSLambda_FullAccess"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert (policy["DefaultVersionId"], policy["Path"]) == ("v2", "/")
    document = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]["Document"]
    assert [s.get("Condition") for s in document["Statement"]][1] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }
    iam.create_user(UserName="lambda-developer")
    iam.attach_user_policy(UserName="lambda-developer", PolicyArn=arn)
    key = iam.create_access_key(UserName="lambda-developer")["AccessKey"]

    def client(service: str) -> Any:
        return boto3.client(
            service, endpoint_url=server.url, region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
            config=Config(retries={"total_max_attempts": 1}),
        )  # fmt: skip

    assert "Functions" in client("lambda").list_functions()
    assert client("iam").get_role(RoleName="cove")["Role"]["RoleName"] == "cove"
    code, status, message = error_of(client("sagemaker").list_models)
    assert (code, status) == ("AccessDeniedException", 403)
    assert message.endswith(
        "because no identity-based policy allows the sagemaker:ListModels action"
    )


def test_amazon_sagemaker_full_access_is_awss_document_and_enforced(server: CoveServer) -> None:
    """AmazonSageMakerFullAccess v27 (2024-12-04) as the SageMaker Developer Guide's page
    of its managed policies has it, with the change table that dates the version
    (https://docs.aws.amazon.com/sagemaker/latest/dg/security-iam-awsmanpol.html):
    SageMaker's actions, S3 only in buckets named for SageMaker, and iam:PassRole of any
    role to SageMaker but to no other service (iam:PassedToService, IAM UG, "Grant a user
    permissions to pass a role to an AWS service")."""
    iam = server.client("iam")
    arn = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert (policy["DefaultVersionId"], policy["Path"]) == ("v27", "/")
    document = iam.get_policy_version(PolicyArn=arn, VersionId="v27")["PolicyVersion"]["Document"]
    assert document["Statement"][0]["Sid"] == "AllowAllNonAdminSageMakerActions"
    iam.create_user(UserName="ml-engineer")
    iam.attach_user_policy(UserName="ml-engineer", PolicyArn=arn)
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/ml-engineer"
    key = iam.create_access_key(UserName="ml-engineer")["AccessKey"]

    def client(service: str) -> Any:
        return boto3.client(
            service, endpoint_url=server.url, region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
            config=Config(retries={"total_max_attempts": 1}),
        )  # fmt: skip

    s3 = client("s3")
    s3.create_bucket(Bucket="team-sagemaker-data")  # s3:CreateBucket on any bucket
    s3.put_object(Bucket="team-sagemaker-data", Key="model.tar.gz", Body=b"x")
    server.client("s3").create_bucket(Bucket="team-data")
    code, status, _ = error_of(s3.put_object, Bucket="team-data", Key="k", Body=b"x")
    assert (code, status) == ("AccessDenied", 403)
    sm = client("sagemaker")
    # passing the default role to SageMaker is allowed (AllowPassRoleToSageMaker)
    sm.create_model(
        ModelName="engineer-model", ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/cove",
        PrimaryContainer={"Image": "sklearn", "ModelDataUrl": "s3://team-sagemaker-data/m.tar.gz"},
    )  # fmt: skip
    assert sm.describe_model(ModelName="engineer-model")["ModelName"] == "engineer-model"
    # ... and to Lambda is not: only SageMaker-named roles, and to Glue, RoboMaker, Step
    # Functions only (AllowPassRoleForSageMakerRoles)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/cove"
    for service, decision in [
        ("sagemaker.amazonaws.com", "allowed"), ("lambda.amazonaws.com", "implicitDeny"),
        ("states.amazonaws.com", "implicitDeny"),
    ]:  # fmt: skip
        result = iam.simulate_principal_policy(
            PolicySourceArn=user_arn, ActionNames=["iam:PassRole"], ResourceArns=[role_arn],
            ContextEntries=[{
                "ContextKeyName": "iam:PassedToService", "ContextKeyValues": [service],
                "ContextKeyType": "string",
            }],
        )["EvaluationResults"][0]  # fmt: skip
        assert result["EvalDecision"] == decision, service
    iam.create_role(RoleName="AmazonSageMaker-Pipelines", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }]}
    ))  # fmt: skip
    named = iam.simulate_principal_policy(
        PolicySourceArn=user_arn, ActionNames=["iam:PassRole"],
        ResourceArns=[f"arn:aws:iam::{ACCOUNT}:role/AmazonSageMaker-Pipelines"],
        ContextEntries=[{
            "ContextKeyName": "iam:PassedToService", "ContextKeyValues": ["states.amazonaws.com"],
            "ContextKeyType": "string",
        }],
    )["EvaluationResults"][0]  # fmt: skip
    assert named["EvalDecision"] == "allowed"
