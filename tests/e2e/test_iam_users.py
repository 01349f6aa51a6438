"""IAM users and access keys, driven with unmodified boto3 and the AWS CLI against a real
`cove server`: keys are real credentials at once, and stop working at once.

AWS's behaviour pinned here:
- error codes, statuses and texts: IAM API reference, "CreateUser", "DeleteUser",
  "CreateAccessKey" (Errors), "Common Errors"
  (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html); two keys per
  user, active or inactive: IAM User Guide, "IAM and AWS STS quotas"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
- a deleted or deactivated key is refused as an unknown one, `InvalidClientTokenId`
  "The security token included in the request is invalid." for query APIs (STS API
  reference, "Common Errors");
- GetCallerIdentity needs no permission and names the caller (STS API reference,
  "GetCallerIdentity"); the root user's UserId is the account id.
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
        service,
        endpoint_url=server.url,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}),
    )


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return {**info.value.response["Error"],
            "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}  # fmt: skip


def test_root_identity(server: CoveServer) -> None:
    me = server.client("sts").get_caller_identity()
    assert (me["UserId"], me["Account"]) == (ACCOUNT, ACCOUNT)
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert server.client("iam").get_user()["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_user_lifecycle_and_errors(server: CoveServer) -> None:
    iam = server.client("iam")
    created = iam.create_user(UserName="Alice", Path="/team/", Tags=[{"Key": "k", "Value": "v"}])
    user = created["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/team/Alice"
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert iam.get_user(UserName="alice")["User"]["UserName"] == "Alice"  # names ignore case
    assert iam.get_user(UserName="Alice")["User"]["Tags"] == [{"Key": "k", "Value": "v"}]
    assert error_of(iam.create_user, UserName="ALICE") == {
        "Type": "Sender", "Code": "EntityAlreadyExists", "Status": 409,
        "Message": "User with name ALICE already exists.",
    }  # fmt: skip
    assert error_of(iam.get_user, UserName="nobody") == {
        "Type": "Sender", "Code": "NoSuchEntity", "Status": 404,
        "Message": "The user with name nobody cannot be found.",
    }  # fmt: skip
    listed = [u["UserName"] for u in iam.list_users(PathPrefix="/team/")["Users"]]
    assert listed == ["Alice"]
    iam.update_user(UserName="Alice", NewUserName="Alicia", NewPath="/ops/")
    assert iam.get_user(UserName="Alicia")["User"]["Arn"].endswith(":user/ops/Alicia")
    iam.delete_user(UserName="Alicia")
    assert error_of(iam.delete_user, UserName="Alicia")["Code"] == "NoSuchEntity"


def test_list_users_pages_with_marker(server: CoveServer) -> None:
    iam = server.client("iam")
    names = [f"pager-{i}" for i in range(5)]
    for name in names:
        iam.create_user(UserName=name, Path="/pager/")
    first = iam.list_users(PathPrefix="/pager/", MaxItems=2)
    assert first["IsTruncated"] and [u["UserName"] for u in first["Users"]] == names[:2]
    pages = iam.get_paginator("list_users").paginate(
        PathPrefix="/pager/", PaginationConfig={"PageSize": 2}
    )
    assert [u["UserName"] for p in pages for u in p["Users"]] == names


def test_access_keys_sign_at_once_and_stop_at_once(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="bob")
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40 and key["Status"] == "Active"
    bob = as_key(server, "sts", key)
    me = bob.get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/bob" and me["UserId"].startswith("AIDA")
    # the user's own keys, without naming the user
    mine = as_key(server, "iam", key)
    assert error_of(mine.list_access_keys)["Code"] == "AccessDenied"  # no policy allows it
    # two keys per user, active or not
    second = iam.create_access_key(UserName="bob")["AccessKey"]
    iam.update_access_key(UserName="bob", AccessKeyId=second["AccessKeyId"], Status="Inactive")
    assert error_of(iam.create_access_key, UserName="bob") == {
        "Type": "Sender", "Code": "LimitExceeded", "Status": 409,
        "Message": "Cannot exceed quota for AccessKeysPerUser: 2",
    }  # fmt: skip
    listed = iam.list_access_keys(UserName="bob")["AccessKeyMetadata"]
    assert {k["AccessKeyId"]: k["Status"] for k in listed} == {
        key["AccessKeyId"]: "Active",
        second["AccessKeyId"]: "Inactive",
    }
    assert error_of(as_key(server, "sts", second).get_caller_identity) == {
        "Type": "Sender", "Code": "InvalidClientTokenId", "Status": 403,
        "Message": "The security token included in the request is invalid.",
    }  # fmt: skip
    assert error_of(iam.delete_user, UserName="bob") == {
        "Type": "Sender", "Code": "DeleteConflict", "Status": 409,
        "Message": "Cannot delete entity, must delete access keys first.",
    }  # fmt: skip
    iam.update_access_key(UserName="bob", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert error_of(bob.get_caller_identity)["Code"] == "InvalidClientTokenId"
    iam.update_access_key(UserName="bob", AccessKeyId=key["AccessKeyId"], Status="Active")
    assert bob.get_caller_identity()["Arn"].endswith(":user/bob")
    for k in (key, second):
        iam.delete_access_key(UserName="bob", AccessKeyId=k["AccessKeyId"])
    assert error_of(bob.get_caller_identity)["Code"] == "InvalidClientTokenId"
    assert error_of(iam.delete_access_key, UserName="bob", AccessKeyId=key["AccessKeyId"]) == {
        "Type": "Sender", "Code": "NoSuchEntity", "Status": 404,
        "Message": f"The Access Key with id {key['AccessKeyId']} cannot be found.",
    }  # fmt: skip
    iam.delete_user(UserName="bob")


def test_a_users_key_is_denied_what_no_policy_allows(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="carol")
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    err = error_of(as_key(server, "sagemaker", key).list_models)
    assert err["Code"] == "AccessDeniedException" and err["Status"] == 403
    assert f"arn:aws:iam::{ACCOUNT}:user/carol is not authorized to perform: " \
           "sagemaker:ListModels" in err["Message"]  # fmt: skip


def test_keys_survive_a_restart(make_server: Any) -> None:
    first = make_server()
    iam = first.client("iam")
    iam.create_user(UserName="dave")
    key = iam.create_access_key(UserName="dave")["AccessKey"]
    first.stop()
    again = make_server(first.data_dir)
    assert as_key(again, "sts", key).get_caller_identity()["Arn"].endswith(":user/dave")


def test_the_cli_creates_a_user_and_its_key(server: CoveServer) -> None:
    server.aws("iam", "create-user", "--user-name", "erin")
    out = json.loads(server.aws("iam", "create-access-key", "--user-name", "erin").stdout)
    key = (out["AccessKey"]["AccessKeyId"], out["AccessKey"]["SecretAccessKey"])
    who = json.loads(server.aws("sts", "get-caller-identity", key=key).stdout)
    assert who["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/erin"  # usable at once
    failed = server.aws("iam", "get-user", "--user-name", "nobody", check=False)
    assert failed.returncode != 0 and "(NoSuchEntity)" in failed.stderr
    assert "The user with name nobody cannot be found." in failed.stderr
