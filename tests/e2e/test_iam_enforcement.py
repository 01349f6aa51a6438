"""Identity-based policies enforced on requests, with unmodified boto3 against a real
`cove server`: what a user's (and its groups') policies allow goes through, everything else
is refused with AWS's wording, and a policy change takes effect with the next request.

AWS's behaviour pinned here:
- evaluation: an explicit Deny wins, otherwise an Allow is needed (IAM User Guide, "Policy
  evaluation logic",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
- the denial text names the policy type that decided: "User: <arn> is not authorized to
  perform: <action> on resource: <arn> because no identity-based policy allows the
  <action> action" / "... with an explicit deny in an identity-based policy" (IAM User
  Guide, "Troubleshoot access denied error messages",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html);
- the code is each protocol's: AccessDeniedException (SageMaker, json), AccessDenied (IAM,
  query; S3, rest-xml);
- ListObjectsV2 is s3:ListBucket on the bucket, GetObject s3:GetObject on the object (Service
  Authorization Reference, Amazon S3).
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


def as_key(server: CoveServer, service: str, key: dict[str, str]) -> Any:
    return boto3.client(
        service, endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


def denial(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def new_user(server: CoveServer, name: str) -> dict[str, str]:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    return iam.create_access_key(UserName=name)["AccessKey"]


def test_an_inline_policy_allows_what_it_names_and_no_more(server: CoveServer) -> None:
    key = new_user(server, "lister")
    iam = server.client("iam")
    sm = as_key(server, "sagemaker", key)
    code, status, message = denial(sm.list_models)
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/lister is not authorized to perform: "
        "sagemaker:ListModels on resource: * because no identity-based policy allows the "
        "sagemaker:ListModels action"
    )
    iam.put_user_policy(
        UserName="lister", PolicyName="list",
        PolicyDocument=policy({"Effect": "Allow", "Action": "sagemaker:List*", "Resource": "*"}),
    )  # fmt: skip
    assert "Models" in sm.list_models()  # at once: the change reached the next request
    code, _, message = denial(sm.describe_model, ModelName="Some-Model")
    assert code == "AccessDeniedException"
    assert (
        "sagemaker:DescribeModel on resource: "
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/some-model because no identity-based "
        "policy allows the sagemaker:DescribeModel action"
    ) in message  # SageMaker ARNs carry names lower-cased
    iam.put_user_policy(
        UserName="lister", PolicyName="no-endpoints",
        PolicyDocument=policy({"Effect": "Deny", "Action": "sagemaker:ListEndpoints",
                               "Resource": "*"}),
    )  # fmt: skip
    code, _, message = denial(sm.list_endpoints)
    assert message.endswith(
        "sagemaker:ListEndpoints on resource: * with an explicit deny in an identity-based policy"
    )
    iam.delete_user_policy(UserName="lister", PolicyName="list")
    assert denial(sm.list_models)[0] == "AccessDeniedException"


def test_group_and_managed_policies_reach_members(server: CoveServer) -> None:
    key = new_user(server, "reader")
    iam, s3 = server.client("iam"), server.client("s3")
    s3.create_bucket(Bucket="shared-data")
    s3.put_object(Bucket="shared-data", Key="a.csv", Body=b"1,2\n")
    s3.create_bucket(Bucket="private-data")
    read_one = iam.create_policy(PolicyName="read-shared", PolicyDocument=policy({
        "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::shared-data", "arn:aws:s3:::shared-data/*"],
    }))["Policy"]["Arn"]  # fmt: skip
    iam.create_group(GroupName="analysts")
    iam.attach_group_policy(GroupName="analysts", PolicyArn=read_one)
    mine = as_key(server, "s3", key)
    code, status, _ = denial(mine.get_object, Bucket="shared-data", Key="a.csv")
    assert (code, status) == ("AccessDenied", 403)  # not in the group yet
    iam.add_user_to_group(GroupName="analysts", UserName="reader")
    assert mine.get_object(Bucket="shared-data", Key="a.csv")["Body"].read() == b"1,2\n"
    assert [o["Key"] for o in mine.list_objects_v2(Bucket="shared-data")["Contents"]] == ["a.csv"]
    assert denial(mine.put_object, Bucket="shared-data", Key="b", Body=b"x")[:2] == (
        "AccessDenied", 403,
    )  # fmt: skip
    assert denial(mine.list_objects_v2, Bucket="private-data")[:2] == ("AccessDenied", 403)
    # a new default version narrows it at once
    iam.create_policy_version(PolicyArn=read_one, SetAsDefault=True, PolicyDocument=policy({
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::shared-data",
    }))  # fmt: skip
    assert denial(mine.get_object, Bucket="shared-data", Key="a.csv")[0] == "AccessDenied"
    assert mine.list_objects_v2(Bucket="shared-data")["KeyCount"] == 1
    iam.remove_user_from_group(GroupName="analysts", UserName="reader")
    assert denial(mine.list_objects_v2, Bucket="shared-data")[0] == "AccessDenied"


def test_policy_variables_and_iam_denials(server: CoveServer) -> None:
    key = new_user(server, "self-service")
    iam = server.client("iam")
    iam.put_user_policy(UserName="self-service", PolicyName="own-keys", PolicyDocument=policy({
        "Effect": "Allow", "Action": ["iam:ListAccessKeys", "iam:GetUser"],
        "Resource": f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}",
    }))  # fmt: skip
    mine = as_key(server, "iam", key)
    listed = mine.list_access_keys()["AccessKeyMetadata"]  # its own, by the variable
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]]
    assert mine.get_user()["User"]["UserName"] == "self-service"
    iam.create_user(UserName="someone-else")
    code, status, message = denial(mine.get_user, UserName="someone-else")
    assert (code, status) == ("AccessDenied", 403)
    # IAM names the identities its operations name as "user <name>", "role <name>";
    # policies as "policy <arn>", the one CreatePolicy makes as "policy <name>", a Create
    # call's new identity by its ARN (AWS's answers as quoted in, e.g.,
    # https://github.com/hashicorp/terraform-provider-aws/issues/ threads: "iam:GetUser on
    # resource: user deploy-user because no identity-based policy allows ...")
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/self-service is not authorized to perform: "
        "iam:GetUser on resource: user someone-else because no "
        "identity-based policy allows the iam:GetUser action"
    )
    for call, kwargs, named in [
        (mine.get_role, {"RoleName": "cove"}, "role cove"),
        (mine.get_group, {"GroupName": "absent-group"}, "group absent-group"),
        (mine.get_policy, {"PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
         "policy arn:aws:iam::aws:policy/AdministratorAccess"),
        (mine.create_policy, {"PolicyName": "p1", "PolicyDocument": policy(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})}, "policy p1"),
        (mine.create_role, {"RoleName": "r1", "AssumeRolePolicyDocument": policy(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
             "Action": "sts:AssumeRole"})}, f"arn:aws:iam::{ACCOUNT}:role/r1"),
    ]:  # fmt: skip
        message = denial(call, **kwargs)[2]
        assert f" on resource: {named} because no identity-based policy" in message, message


def test_administrator_access_allows_everything(server: CoveServer) -> None:
    key = new_user(server, "admin2")
    server.client("iam").attach_user_policy(
        UserName="admin2", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    assert "Buckets" in as_key(server, "s3", key).list_buckets()
    assert "Users" in as_key(server, "iam", key).list_users()
    assert "Models" in as_key(server, "sagemaker", key).list_models()


def test_passing_a_role_to_sagemaker(server: CoveServer) -> None:
    """CreateModel needs iam:PassRole on its role, and the role must trust SageMaker."""
    iam, sm = server.client("iam"), server.client("sagemaker")
    container = {"Image": "sklearn", "ModelDataUrl": "s3://b/m.tar.gz"}
    lambda_only = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})  # fmt: skip
    iam.create_role(RoleName="for-lambda", AssumeRolePolicyDocument=lambda_only)
    for role in ("for-lambda", "no-such-role"):
        arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
        assert denial(sm.create_model, ModelName=f"m-{role}", PrimaryContainer=container,
                      ExecutionRoleArn=arn) == (
            "ValidationException", 400,
            f"Could not assume role {arn}. Please ensure that the role exists and allows "
            "principal 'sagemaker.amazonaws.com' to assume the role.",
        )  # fmt: skip
    key = new_user(server, "modeler")
    iam.put_user_policy(UserName="modeler", PolicyName="models", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "sagemaker:CreateModel", "Resource": "*"}))  # fmt: skip
    default_role = f"arn:aws:iam::{ACCOUNT}:role/cove"
    mine = as_key(server, "sagemaker", key)
    code, status, message = denial(
        mine.create_model,
        ModelName="m-passed",
        PrimaryContainer=container,
        ExecutionRoleArn=default_role,
    )
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/modeler is not authorized to perform: "
        f"iam:PassRole on resource: {default_role} because no identity-based policy allows "
        "the iam:PassRole action"
    )
    iam.put_user_policy(UserName="modeler", PolicyName="pass", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": default_role}))  # fmt: skip
    created = mine.create_model(ModelName="m-passed", PrimaryContainer=container,
                                ExecutionRoleArn=default_role)  # fmt: skip
    assert created["ModelArn"].endswith(":model/m-passed")


def test_passing_a_role_to_training_and_to_lambda(server: CoveServer) -> None:
    """CreateTrainingJob checks its RoleArn as CreateModel does (SageMaker API Reference,
    CreateTrainingJob, RoleArn: "the caller of this API must have the iam:PassRole
    permission"); Lambda's CreateFunction needs iam:PassRole on the function's role (Lambda
    DG, "Defining Lambda function permissions with an execution role")."""
    iam = server.client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:role/cove"
    job = {
        "TrainingJobName": "passed-role-job",
        "AlgorithmSpecification": {"TrainingImage": "linear-learner", "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://out/"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1,
                           "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }  # fmt: skip
    lambda_only = f"arn:aws:iam::{ACCOUNT}:role/lambda-trusting"
    iam.create_role(RoleName="lambda-trusting", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))  # fmt: skip
    sm = server.client("sagemaker")
    assert denial(sm.create_training_job, RoleArn=lambda_only, **job) == (
        "ValidationException", 400,
        f"Could not assume role {lambda_only}. Please ensure that the role exists and allows "
        "principal 'sagemaker.amazonaws.com' to assume the role.",
    )  # fmt: skip
    key = new_user(server, "trainer")
    iam.put_user_policy(UserName="trainer", PolicyName="work", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["sagemaker:CreateTrainingJob", "lambda:CreateFunction"],
         "Resource": "*"}))  # fmt: skip
    refused = (
        f"User: arn:aws:iam::{ACCOUNT}:user/trainer is not authorized to perform: "
        f"iam:PassRole on resource: {arn} because no identity-based policy allows the "
        "iam:PassRole action"
    )
    code, status, message = denial(as_key(server, "sagemaker", key).create_training_job,
                                   RoleArn=arn, **job)  # fmt: skip
    assert (code, status, message) == ("AccessDeniedException", 403, refused)
    with pytest.raises(ClientError):
        sm.describe_training_job(TrainingJobName="passed-role-job")  # nothing was created
    code, status, message = denial(
        as_key(server, "lambda", key).create_function, FunctionName="passed-role-fn",
        Role=arn, Runtime="python3.11", Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )  # fmt: skip
    assert (code, status, message) == ("AccessDeniedException", 403, refused)


def test_conditions_on_what_the_request_sets(server: CoveServer) -> None:
    """sagemaker:InstanceTypes and aws:RequestTag/aws:TagKeys come from the request (Service
    Authorization Reference, Amazon SageMaker AI, condition keys)."""
    key = new_user(server, "conditional")
    iam = server.client("iam")
    iam.put_user_policy(UserName="conditional", PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "sagemaker:CreateEndpointConfig", "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"sagemaker:InstanceTypes": ["ml.m5.large"]}}},
        {"Effect": "Allow", "Action": "sagemaker:CreateModel", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "ml"}}},
    ))  # fmt: skip
    sm = as_key(server, "sagemaker", key)
    variant = {"VariantName": "v", "ModelName": "absent", "InitialInstanceCount": 1}
    small = [{**variant, "InstanceType": "ml.m5.large"}]
    big = [{**variant, "InstanceType": "ml.c5.xlarge"}]
    # allowed, then refused for what it is: the model does not exist
    assert denial(sm.create_endpoint_config, EndpointConfigName="c1", ProductionVariants=small
                  )[0] == "ValidationException"  # fmt: skip
    assert denial(sm.create_endpoint_config, EndpointConfigName="c2", ProductionVariants=big
                  )[0] == "AccessDeniedException"  # fmt: skip
    container = {"Image": "sklearn", "ModelDataUrl": "s3://b/m.tar.gz"}
    assert denial(sm.create_model, ModelName="untagged", PrimaryContainer=container
                  )[0] == "AccessDeniedException"  # fmt: skip
    made = sm.create_model(ModelName="tagged", PrimaryContainer=container,
                           Tags=[{"Key": "team", "Value": "ml"}])  # fmt: skip
    assert made["ModelArn"].endswith(":model/tagged")


def test_a_copy_needs_read_access_to_its_source(server: CoveServer) -> None:
    """"You must have read access to the source object and write access to the destination
    bucket ... s3:GetObject permission to read the source object that is being copied"
    (S3 API Reference, CopyObject, Permissions,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html; the same in
    UploadPartCopy, https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html)."""
    s3, iam = server.client("s3"), server.client("iam")
    for bucket in ("copy-secrets", "copy-drop"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="copy-secrets", Key="plan.txt", Body=b"secret")
    key = new_user(server, "copier")
    iam.put_user_policy(UserName="copier", PolicyName="write", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::copy-drop/*"}))
    copier = as_key(server, "s3", key)
    source = {"Bucket": "copy-secrets", "Key": "plan.txt"}
    code, status, message = denial(copier.copy_object, Bucket="copy-drop", Key="stolen",
                                   CopySource=source)  # fmt: skip
    assert (code, status) == ("AccessDenied", 403)
    # S3 quotes the resource (S3 UG, "Troubleshoot access denied (403 Forbidden) errors",
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html)
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/copier is not authorized to perform: s3:GetObject "
        'on resource: "arn:aws:s3:::copy-secrets/plan.txt" because no identity-based policy '
        "allows the s3:GetObject action"
    )
    upload = copier.create_multipart_upload(Bucket="copy-drop", Key="stolen")["UploadId"]
    assert denial(copier.upload_part_copy, Bucket="copy-drop", Key="stolen", UploadId=upload,
                  PartNumber=1, CopySource=source)[:2] == ("AccessDenied", 403)  # fmt: skip
    assert denial(s3.get_object, Bucket="copy-drop", Key="stolen")[:2] == ("NoSuchKey", 404)
    iam.put_user_policy(UserName="copier", PolicyName="read", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::copy-secrets/*"}))  # fmt: skip
    copier.copy_object(Bucket="copy-drop", Key="copied", CopySource=source)
    assert s3.get_object(Bucket="copy-drop", Key="copied")["Body"].read() == b"secret"
