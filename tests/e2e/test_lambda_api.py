"""The Lambda API (issue #13 part 1) with unmodified boto3 and the AWS CLI against a real
server: functions from a zip and from S3, their states, updates, versions, aliases,
resource policies and Invoke, with Lambda's error codes and texts.

Where each fact comes from:
- States: Lambda DG, "Lambda function states"
  (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html): Pending after
  CreateFunction (reason code Creating), then Active; LastUpdateStatus "is first set to
  Successful after function creation completes" (Lambda API reference,
  FunctionConfiguration), InProgress during UpdateFunctionCode/Configuration.
- "Function already exist: <name>" (ResourceConflictException, 409), as seen from AWS in
  hashicorp/terraform#15929; "Function not found: <arn>" (ResourceNotFoundException).
- "The runtime parameter of <runtime> is no longer supported for creating or updating AWS
  Lambda functions. We recommend you use the new runtime (<runtime>) while creating or
  updating functions." (InvalidParameterValueException), as in artilleryio/chaos-lambda#13.
- "The statement id (<sid>) provided already exists. Please provide a new statement id,
  or remove the existing statement." (409), hashicorp/terraform-provider-aws#3312;
  GetPolicy without a policy: "The resource you requested does not exist." (404),
  aws/aws-toolkit-vscode#418.
- VpcConfig: "SubnetIds and SecurityIds must coexist or be both empty list." and "Error
  occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. EC2 Error
  Message: The security group '<id>' does not exist" (aws/aws-sdk-js#1293,
  motdotla/node-lambda#162).
- Invoke: 6 MB synchronous, 1 MB for Event (Lambda API reference, "Invoke"); "Request must
  be smaller than 6291456 bytes for the InvokeFunction operation" (413,
  pelmers/streetwarp-web#14); DryRun answers 204, Event 202.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import CoveServer

ACCOUNT = "000000000000"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function"
HANDLER = """
import json, os

def handler(event, context):
    print("got", json.dumps(event))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"event": event, "env": os.environ.get("GREETING"), "version": context.function_version}
"""
RUNTIME_MERGED = importlib.util.find_spec("cove.functions.runtime") is not None
needs_runtime = pytest.mark.skipif(
    not RUNTIME_MERGED, reason="cove.functions.runtime (the function runtime) is not merged yet"
)


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


CODE = zipped({"app.py": HANDLER})


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return {**info.value.response["Error"],
            "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}  # fmt: skip


@pytest.fixture(scope="module")
def lam(server: CoveServer) -> Any:
    return server.client("lambda", config=Config(retries={"total_max_attempts": 1},
                                                 read_timeout=120))  # fmt: skip


@pytest.fixture(scope="module")
def role(server: CoveServer) -> str:
    iam = server.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}  # fmt: skip
    return iam.create_role(RoleName="fn-exec", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"]["Arn"]  # fmt: skip


def create(lam: Any, role: str, name: str, **extra: Any) -> dict[str, Any]:
    args = {"FunctionName": name, "Runtime": "python3.11", "Role": role,
            "Handler": "app.handler", "Code": {"ZipFile": CODE}, **extra}  # fmt: skip
    made = lam.create_function(**args)
    lam.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    return made


def test_a_zip_function_is_pending_then_active(lam: Any, role: str) -> None:
    made = lam.create_function(
        FunctionName="zip-fn", Runtime="python3.11", Role=role, Handler="app.handler",
        Code={"ZipFile": CODE}, Environment={"Variables": {"GREETING": "hi"}}, Timeout=7,
        MemorySize=256, Description="from a zip",
    )  # fmt: skip
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (made["State"], made["StateReasonCode"]) == ("Pending", "Creating")
    assert made["StateReason"] == "The function is being created."
    assert "LastUpdateStatus" not in made
    assert made["FunctionArn"] == f"{ARN}:zip-fn" and made["Version"] == "$LATEST"
    assert made["CodeSha256"] == base64.b64encode(hashlib.sha256(CODE).digest()).decode()
    assert made["CodeSize"] == len(CODE)
    lam.get_waiter("function_active_v2").wait(
        FunctionName="zip-fn", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    got = lam.get_function(FunctionName="zip-fn")["Configuration"]
    assert (got["State"], got["LastUpdateStatus"]) == ("Active", "Successful")
    assert (got["Timeout"], got["MemorySize"], got["Description"]) == (7, 256, "from a zip")
    assert got["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert got["Runtime"] == "python3.11" and got["Handler"] == "app.handler"
    assert got["Role"] == role and got["PackageType"] == "Zip"
    assert lam.get_function_configuration(FunctionName=f"{ARN}:zip-fn")["RevisionId"] == \
        got["RevisionId"]  # fmt: skip


def test_code_from_the_object_store(server: CoveServer, lam: Any, role: str) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="fn-code")
    s3.put_object(Bucket="fn-code", Key="pkg/app.zip", Body=CODE)
    made = create(lam, role, "s3-fn", Code={"S3Bucket": "fn-code", "S3Key": "pkg/app.zip"})
    assert made["CodeSha256"] == base64.b64encode(hashlib.sha256(CODE).digest()).decode()
    err = error_of(lam.create_function, FunctionName="s3-missing", Runtime="python3.11",
                   Role=role, Handler="app.handler",
                   Code={"S3Bucket": "fn-code", "S3Key": "nope.zip"})  # fmt: skip
    assert err["Code"] == "InvalidParameterValueException"
    assert err["Message"] == ("Error occurred while GetObject. S3 Error Code: NoSuchKey. "
                              "S3 Error Message: The specified key does not exist.")  # fmt: skip


def test_code_from_the_object_store_is_read_with_the_callers_permissions(
    server: CoveServer, lam: Any, role: str
) -> None:
    """Lambda reads an S3 package with the caller's own "request credentials": a caller
    without s3:GetObject on it (by its policies or the bucket's) is refused, 403
    AccessDeniedException, "Your access has been denied by S3, please make sure your
    request credentials have permission to GetObject for <bucket>/<key>. S3 Error Code:
    AccessDenied. S3 Error Message: Access Denied" (CreateFunction:
    github.com/awslabs/lambda-streams-to-firehose/issues/21, with "Status Code: 403; Error
    Code: AccessDeniedException" in github.com/binxio/cfn-lb-ip-address-provider/issues/4;
    UpdateFunctionCode: github.com/buildkite/elastic-ci-stack-for-aws/issues/564). A key
    that is missing is refused so too to who may not list the bucket (S3 API Reference,
    GetObject, "Permissions")."""
    iam, s3 = server.client("iam"), server.client("s3")
    bucket = "fn-private-code"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="app.zip", Body=CODE)
    s3.put_object(Bucket=bucket, Key="blocked/app.zip", Body=CODE)
    user = iam.create_user(UserName="fn-deployer")["User"]["Arn"]
    may_deploy = [
        {"Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionCode"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role},
    ]  # fmt: skip

    def allowed(*statements: dict[str, Any]) -> None:
        iam.put_user_policy(UserName="fn-deployer", PolicyName="deploy", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [*may_deploy, *statements]}))  # fmt: skip

    def denied(key: str) -> dict[str, Any]:
        return {"Code": "AccessDeniedException", "Status": 403, "Message": (
            "Your access has been denied by S3, please make sure your request credentials "
            f"have permission to GetObject for {bucket}/{key}. S3 Error Code: AccessDenied. "
            "S3 Error Message: Access Denied")}  # fmt: skip

    allowed()
    key = iam.create_access_key(UserName="fn-deployer")["AccessKey"]
    as_user = boto3.client(
        "lambda", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip
    base = {"Runtime": "python3.11", "Role": role, "Handler": "app.handler"}

    def create_as_user(name: str, key: str) -> dict[str, Any]:
        return error_of(as_user.create_function, FunctionName=name, **base,
                        Code={"S3Bucket": bucket, "S3Key": key})  # fmt: skip

    def fields(err: dict[str, Any]) -> dict[str, Any]:
        return {k: err[k] for k in ("Code", "Status", "Message")}

    # no s3:GetObject of its own: refused, and no function made
    assert fields(create_as_user("from-private", "app.zip")) == denied("app.zip")
    assert error_of(lam.get_function, FunctionName="from-private")["Code"] == (
        "ResourceNotFoundException")
    # allowed to read the bucket's objects, it may
    allowed({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    made = as_user.create_function(FunctionName="from-private", **base,
                                   Code={"S3Bucket": bucket, "S3Key": "app.zip"})  # fmt: skip
    assert made["CodeSha256"] == base64.b64encode(hashlib.sha256(CODE).digest()).decode()
    # a missing key, to a caller that may not list the bucket
    assert fields(create_as_user("from-nowhere", "nope.zip")) == denied("nope.zip")
    # the bucket's policy is the object's too: its explicit deny wins
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": {"AWS": user}, "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/blocked/*"}]}))  # fmt: skip
    lam.get_waiter("function_active_v2").wait(
        FunctionName="from-private", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    err = error_of(as_user.update_function_code, FunctionName="from-private", S3Bucket=bucket,
                   S3Key="blocked/app.zip")  # fmt: skip
    assert fields(err) == denied("blocked/app.zip")


def test_what_create_function_refuses(lam: Any, role: str, server: CoveServer) -> None:
    base = {"Role": role, "Handler": "app.handler", "Code": {"ZipFile": CODE}}
    err = error_of(lam.create_function, FunctionName="node", Runtime="nodejs20.x", **base)
    assert (err["Code"], err["Status"]) == ("InvalidParameterValueException", 400)
    assert err["Message"] == (
        "The runtime parameter of nodejs20.x is no longer supported for creating or updating "
        "AWS Lambda functions. We recommend you use the new runtime (python3.11) while "
        "creating or updating functions."
    )
    unchecked = server.client("lambda", config=Config(parameter_validation=False))
    err = error_of(unchecked.create_function, FunctionName="odd", Runtime="cobol", **base)
    assert err["Code"] == "ValidationException"
    assert "Value 'cobol' at 'runtime' failed to satisfy constraint" in err["Message"]
    iam = server.client("iam")
    sagemaker_only = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}  # fmt: skip
    other = iam.create_role(
        RoleName="not-for-lambda", AssumeRolePolicyDocument=json.dumps(sagemaker_only)
    )["Role"]["Arn"]
    for bad_role in (other, f"arn:aws:iam::{ACCOUNT}:role/no-such-role"):
        err = error_of(lam.create_function, FunctionName="untrusted", Runtime="python3.11",
                       **{**base, "Role": bad_role})  # fmt: skip
        assert err["Code"] == "InvalidParameterValueException"
        assert err["Message"] == "The role defined for the function cannot be assumed by Lambda."
    err = error_of(lam.create_function, FunctionName="badzip", Runtime="python3.11",
                   **{**base, "Code": {"ZipFile": b"not a zip"}})  # fmt: skip
    assert err["Message"] == (
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )
    create(lam, role, "twice")
    err = error_of(lam.create_function, FunctionName="twice", Runtime="python3.11", **base)
    assert (err["Code"], err["Status"]) == ("ResourceConflictException", 409)
    assert err["Message"] == "Function already exist: twice"
    err = error_of(lam.get_function, FunctionName="nope")
    assert (err["Code"], err["Status"]) == ("ResourceNotFoundException", 404)
    assert err["Message"] == f"Function not found: {ARN}:nope"


def test_vpc_config_is_checked_against_the_network(server: CoveServer, lam: Any,
                                                   role: str) -> None:  # fmt: skip
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    made = create(lam, role, "in-vpc",
                  VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]})  # fmt: skip
    assert made["VpcConfig"]["VpcId"] == vpc
    assert made["VpcConfig"]["SubnetIds"] == [subnet]
    base = {"Runtime": "python3.11", "Role": role, "Handler": "app.handler",
            "Code": {"ZipFile": CODE}}  # fmt: skip
    err = error_of(
        lam.create_function,
        FunctionName="vpc-bad",
        **base,
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": ["sg-0123456789abcdef0"]},
    )
    assert err["Message"] == (
        "Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. "
        "EC2 Error Message: The security group 'sg-0123456789abcdef0' does not exist"
    )
    err = error_of(lam.create_function, FunctionName="vpc-half", **base,
                   VpcConfig={"SubnetIds": [subnet]})  # fmt: skip
    assert err["Message"] == "SubnetIds and SecurityIds must coexist or be both empty list."
    other = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    elsewhere = ec2.create_security_group(GroupName="o", Description="o", VpcId=other)["GroupId"]
    err = error_of(
        lam.create_function,
        FunctionName="vpc-two",
        **base,
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [elsewhere]},
    )
    assert err["Code"] == "InvalidParameterValueException"


def test_updates_are_in_progress_then_successful(lam: Any, role: str) -> None:
    create(lam, role, "upd")
    before = lam.get_function_configuration(FunctionName="upd")
    changed = lam.update_function_configuration(
        FunctionName="upd", Timeout=30, Environment={"Variables": {"GREETING": "yo"}}
    )
    assert changed["LastUpdateStatus"] == "InProgress" and changed["State"] == "Active"
    assert changed["RevisionId"] != before["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(
        FunctionName="upd", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    now = lam.get_function_configuration(FunctionName="upd")
    assert (now["LastUpdateStatus"], now["Timeout"]) == ("Successful", 30)
    assert now["Environment"]["Variables"] == {"GREETING": "yo"}
    new_code = zipped({"app.py": HANDLER + "\n# v2\n"})
    coded = lam.update_function_code(FunctionName="upd", ZipFile=new_code)
    assert coded["CodeSha256"] == base64.b64encode(hashlib.sha256(new_code).digest()).decode()
    assert coded["LastUpdateStatus"] == "InProgress"
    lam.get_waiter("function_updated_v2").wait(
        FunctionName="upd", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    err = error_of(lam.update_function_configuration, FunctionName="upd", Timeout=5,
                   RevisionId=before["RevisionId"])  # fmt: skip
    assert (err["Code"], err["Status"]) == ("PreconditionFailedException", 412)


def test_listing_pages_through_every_function(lam: Any, role: str) -> None:
    for name in ("list-a", "list-b", "list-c"):
        create(lam, role, name)
    first = lam.list_functions(MaxItems=2)
    assert len(first["Functions"]) == 2 and "NextMarker" in first
    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 2}) for f in page["Functions"]]  # fmt: skip
    assert {"list-a", "list-b", "list-c"} <= set(names) and len(names) == len(set(names))
    assert names == sorted(names)


def test_versions_and_aliases(lam: Any, role: str) -> None:
    create(lam, role, "ver")
    one = lam.publish_version(FunctionName="ver", Description="v1")
    assert (one["Version"], one["FunctionArn"]) == ("1", f"{ARN}:ver:1")
    assert lam.publish_version(FunctionName="ver")["Version"] == "1"  # nothing changed
    lam.update_function_configuration(FunctionName="ver", MemorySize=512)
    lam.get_waiter("function_updated_v2").wait(
        FunctionName="ver", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    two = lam.publish_version(FunctionName="ver")
    assert two["Version"] == "2" and two["MemorySize"] == 512
    listed = lam.list_versions_by_function(FunctionName="ver")["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
    assert lam.get_function(FunctionName="ver", Qualifier="1")["Configuration"]["MemorySize"] \
        == 128  # fmt: skip
    alias = lam.create_alias(FunctionName="ver", Name="live", FunctionVersion="1",
                             Description="prod")  # fmt: skip
    assert alias["AliasArn"] == f"{ARN}:ver:live" and alias["FunctionVersion"] == "1"
    assert lam.get_function(FunctionName="ver:live")["Configuration"]["Version"] == "1"
    err = error_of(lam.create_alias, FunctionName="ver", Name="live", FunctionVersion="2")
    assert (err["Code"], err["Message"]) == (
        "ResourceConflictException",
        f"Alias already exists: {ARN}:ver:live",
    )
    err = error_of(lam.delete_function, FunctionName="ver", Qualifier="1")
    assert err["Code"] == "ResourceConflictException"
    moved = lam.update_alias(FunctionName="ver", Name="live", FunctionVersion="2")
    assert moved["FunctionVersion"] == "2" and moved["RevisionId"] != alias["RevisionId"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName="ver")["Aliases"]] == ["live"]
    lam.delete_alias(FunctionName="ver", Name="live")
    err = error_of(lam.get_alias, FunctionName="ver", Name="live")
    assert (err["Code"], err["Message"]) == (
        "ResourceNotFoundException",
        f"Alias not found: {ARN}:ver:live",
    )
    lam.delete_function(FunctionName="ver", Qualifier="1")
    err = error_of(lam.get_function, FunctionName="ver", Qualifier="1")
    assert err["Message"] == f"Function not found: {ARN}:ver:1"
    lam.delete_function(FunctionName="ver")
    assert error_of(lam.get_function, FunctionName="ver")["Code"] == "ResourceNotFoundException"


def test_permissions_build_the_resource_policy(lam: Any, role: str) -> None:
    create(lam, role, "perm")
    err = error_of(lam.get_policy, FunctionName="perm")
    assert (err["Code"], err["Status"]) == ("ResourceNotFoundException", 404)
    assert err["Message"] == "The resource you requested does not exist."
    source = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/*/POST/predict"
    added = lam.add_permission(
        FunctionName="perm", StatementId="apigw", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com", SourceArn=source, SourceAccount=ACCOUNT,
    )  # fmt: skip
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(added["Statement"]) == {
        "Sid": "apigw", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": f"{ARN}:perm",
        "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT},
                      "ArnLike": {"AWS:SourceArn": source}},
    }  # fmt: skip
    lam.add_permission(FunctionName="perm", StatementId="acct", Action="lambda:GetFunction",
                       Principal=ACCOUNT)  # fmt: skip
    policy = json.loads(lam.get_policy(FunctionName="perm")["Policy"])
    assert policy["Version"] == "2012-10-17" and policy["Id"] == "default"
    assert [s["Sid"] for s in policy["Statement"]] == ["apigw", "acct"]
    assert policy["Statement"][1]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    err = error_of(lam.add_permission, FunctionName="perm", StatementId="apigw",
                   Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")  # fmt: skip
    assert (err["Code"], err["Status"]) == ("ResourceConflictException", 409)
    assert err["Message"] == (
        "The statement id (apigw) provided already exists. Please provide a new statement "
        "id, or remove the existing statement."
    )
    lam.remove_permission(FunctionName="perm", StatementId="apigw")
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName="perm")["Policy"])[
        "Statement"]] == ["acct"]  # fmt: skip
    err = error_of(lam.remove_permission, FunctionName="perm", StatementId="apigw")
    assert err["Code"] == "ResourceNotFoundException"


def test_a_permissions_principal_must_be_one_lambda_takes(lam: Any, role: str) -> None:
    """AddPermission's Principal (Lambda API Reference, AddPermission): a service, an
    account, or a user or role ARN; a bare "amazonaws.com" or a role of this account that
    does not exist is refused with InvalidParameterValueException "The provided principal
    was invalid. Please check the principal and try again." (as Lambda answered in
    https://github.com/Pocket/terraform-modules/pull/1037 and
    https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/1189)."""
    create(lam, role, "principals")
    for principal in ("amazonaws.com", f"arn:aws:iam::{ACCOUNT}:role/no-such-role",
                      "not-a-principal", f"arn:aws:iam::{ACCOUNT}:group/admins"):  # fmt: skip
        err = error_of(lam.add_permission, FunctionName="principals", StatementId="bad",
                       Action="lambda:InvokeFunction", Principal=principal)  # fmt: skip
        assert (err["Code"], err["Status"], err["Message"]) == (
            "InvalidParameterValueException", 400,
            "The provided principal was invalid. Please check the principal and try again.",
        ), principal  # fmt: skip
    for n, principal in enumerate([
        role, "123456789012", "arn:aws:iam::111122223333:role/elsewhere",
        f"arn:aws:iam::{ACCOUNT}:root", "events.amazonaws.com", "*",
    ]):  # fmt: skip
        lam.add_permission(FunctionName="principals", StatementId=f"ok{n}",
                           Action="lambda:InvokeFunction", Principal=principal)  # fmt: skip
    assert len(json.loads(lam.get_policy(FunctionName="principals")["Policy"])["Statement"]) == 6


def test_invoke_checks_before_running(lam: Any, role: str) -> None:
    create(lam, role, "inv-checks")
    dry = lam.invoke(FunctionName="inv-checks", InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204
    err = error_of(lam.invoke, FunctionName="inv-checks", Payload=b"{not json")
    assert err["Code"] == "InvalidRequestContentException"
    assert err["Message"].startswith("Could not parse request body into json")
    err = error_of(lam.invoke, FunctionName="inv-checks", InvocationType="Event",
                   Payload=json.dumps({"x": "y" * (1024 * 1024)}).encode())  # fmt: skip
    assert (err["Code"], err["Status"]) == ("RequestEntityTooLargeException", 413)
    err = error_of(lam.invoke, FunctionName="inv-checks",
                   Payload=json.dumps({"x": "y" * 6_300_000}).encode())  # fmt: skip
    assert (err["Code"], err["Status"]) == ("RequestEntityTooLargeException", 413)
    assert err["Message"] == "Request must be smaller than 6291456 bytes for the InvokeFunction " \
        "operation"  # fmt: skip
    err = error_of(lam.invoke, FunctionName="inv-missing", Payload=b"{}")
    assert err["Message"] == f"Function not found: {ARN}:inv-missing"


def test_the_aws_cli_manages_functions(server: CoveServer, role: str, tmp_path: Path) -> None:
    package = tmp_path / "fn.zip"
    package.write_bytes(CODE)
    made = json.loads(server.aws(
        "lambda", "create-function", "--function-name", "cli-fn", "--runtime", "python3.11",
        "--role", role, "--handler", "app.handler", "--zip-file", f"fileb://{package}",
        "--output", "json",
    ).stdout)  # fmt: skip
    assert made["FunctionName"] == "cli-fn" and made["State"] == "Pending"
    server.aws("lambda", "wait", "function-active-v2", "--function-name", "cli-fn")
    listed = json.loads(server.aws("lambda", "list-functions", "--output", "json").stdout)
    assert "cli-fn" in [f["FunctionName"] for f in listed["Functions"]]
    shown = json.loads(server.aws("lambda", "get-function-configuration", "--function-name",
                                  "cli-fn", "--output", "json").stdout)  # fmt: skip
    assert shown["State"] == "Active"
    failed = server.aws("lambda", "get-function", "--function-name", "cli-none", check=False)
    assert failed.returncode != 0 and "ResourceNotFoundException" in failed.stderr
    server.aws("lambda", "delete-function", "--function-name", "cli-fn")


@needs_runtime
def test_invoke_runs_the_function(lam: Any, role: str) -> None:
    create(lam, role, "inv", Environment={"Variables": {"GREETING": "hello"}})
    out = lam.invoke(FunctionName="inv", Payload=json.dumps({"a": 1}).encode(), LogType="Tail")
    assert out["StatusCode"] == 200 and out["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in out
    body = json.loads(out["Payload"].read())
    assert body == {"event": {"a": 1}, "env": "hello", "version": "$LATEST"}
    tail = base64.b64decode(out["LogResult"]).decode()
    assert 'got {"a": 1}' in tail and "REPORT RequestId:" in tail
    failed = lam.invoke(FunctionName="inv", Payload=b'{"fail": true}')
    assert failed["StatusCode"] == 200 and failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "asked to fail")
    assert lam.invoke(FunctionName="inv", InvocationType="Event", Payload=b"{}")["StatusCode"] \
        == 202  # fmt: skip
    lam.publish_version(FunctionName="inv")
    lam.create_alias(FunctionName="inv", Name="prod", FunctionVersion="1")
    by_alias = lam.invoke(FunctionName="inv", Qualifier="prod", Payload=b"{}")
    assert by_alias["ExecutedVersion"] == "1"
    assert json.loads(by_alias["Payload"].read())["version"] == "1"


def test_functions_survive_a_restart(make_server: Any, tmp_path: Path) -> None:
    first = make_server(tmp_path / "data")
    iam = first.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}  # fmt: skip
    role = iam.create_role(RoleName="kept", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"]["Arn"]  # fmt: skip
    lam = first.client("lambda")
    create(lam, role, "kept")
    lam.publish_version(FunctionName="kept")
    lam.create_alias(FunctionName="kept", Name="live", FunctionVersion="1")
    lam.add_permission(FunctionName="kept", StatementId="s", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")  # fmt: skip
    before = lam.get_function_configuration(FunctionName="kept")
    first.stop()
    again = make_server(tmp_path / "data").client("lambda")
    after = again.get_function_configuration(FunctionName="kept")
    assert (after["State"], after["LastUpdateStatus"]) == ("Active", "Successful")
    assert (after["CodeSha256"], after["RevisionId"]) == (before["CodeSha256"],
                                                         before["RevisionId"])  # fmt: skip
    assert again.get_alias(FunctionName="kept", Name="live")["FunctionVersion"] == "1"
    assert [s["Sid"] for s in json.loads(again.get_policy(FunctionName="kept")["Policy"])[
        "Statement"]] == ["s"]  # fmt: skip
    assert again.invoke(FunctionName="kept:live", InvocationType="DryRun")["StatusCode"] == 204


def test_the_resource_policy_can_grant_invoke_to_a_user(server: CoveServer, lam: Any,
                                                        role: str) -> None:  # fmt: skip
    """A same-account user the function's policy names may invoke it without an identity
    policy of its own (IAM UG, "Policy evaluation logic"); Lambda's denial is
    AccessDeniedException, 403 (Lambda API reference, Invoke errors)."""
    iam = server.client("iam")
    user = iam.create_user(UserName="invoker")["User"]["Arn"]
    key = iam.create_access_key(UserName="invoker")["AccessKey"]
    as_user = boto3.client(
        "lambda", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip
    create(lam, role, "granted")
    err = error_of(as_user.invoke, FunctionName="granted", InvocationType="DryRun")
    assert (err["Code"], err["Status"]) == ("AccessDeniedException", 403)
    assert err["Message"] == (
        f"User: {user} is not authorized to perform: lambda:InvokeFunction on resource: "
        f"{ARN}:granted because no identity-based policy allows the lambda:InvokeFunction "
        "action"
    )
    lam.add_permission(FunctionName="granted", StatementId="user", Principal=user,
                       Action="lambda:InvokeFunction")  # fmt: skip
    assert as_user.invoke(FunctionName="granted", InvocationType="DryRun")["StatusCode"] == 204
    err = error_of(as_user.get_function, FunctionName="granted")
    assert err["Code"] == "AccessDeniedException"


@needs_runtime
def test_the_seed_handler_under_a_role_without_its_policy_gets_access_denied(
    lam: Any, role: str
) -> None:
    # Seed 004 part 5: the role is what the function may do; without the seed's policy
    # (sagemaker:InvokeEndpoint) the endpoint refuses the call, and the function's error
    # carries SageMaker's AccessDeniedException (the seed's handler does not catch it).
    seed = Path(__file__).parents[2] / "examples" / "seed004" / "lambda_function.py"
    create(lam, role, "seed-no-policy", Handler="lambda_function.lambda_handler",
           Code={"ZipFile": zipped({"lambda_function.py": seed.read_text()})},
           Environment={"Variables": {"ENDPOINT_NAME": "any-endpoint"}}, Timeout=30)  # fmt: skip
    out = lam.invoke(FunctionName="seed-no-policy", Payload=json.dumps({"data": "1,2"}).encode())
    assert out["FunctionError"] == "Unhandled"
    error = json.loads(out["Payload"].read())
    assert error["errorType"] == "ClientError"
    assert "AccessDeniedException" in error["errorMessage"]
    assert "assumed-role/fn-exec/seed-no-policy" in error["errorMessage"]
    assert "because no identity-based policy allows the sagemaker:InvokeEndpoint action" in (
        error["errorMessage"]
    )
