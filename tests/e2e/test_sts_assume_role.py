"""STS AssumeRole against a real `cove server` with unmodified boto3: temporary
credentials that work at once, carry the role's permissions narrowed by a session
policy, and are refused once expired or without their token.

AWS's behaviour pinned here (STS API reference, "AssumeRole",
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html; IAM User Guide,
"Policy evaluation logic" and "Temporary security credentials"):
- ASIA access keys with a session token; the session's ARN
  arn:aws:sts::<account>:assumed-role/<role>/<session>, its id <role id>:<session>;
- the trust policy must allow the caller; a user the trust policy names needs no identity
  policy, one trusted through the account root does;
- the root user cannot assume roles: AccessDenied "Roles may not be assumed by root
  accounts." (as AWS answers, https://github.com/kubeflow/testing/pull/961);
- a role session assuming a role (role chaining) gets at most an hour: ValidationError "The
  requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role
  chaining." (IAM User Guide, "Roles terms and concepts"; AWS's answer quoted in
  https://github.com/aws/eks-anywhere/pull/9485);
- DurationSeconds above the role's MaxSessionDuration: ValidationError "The requested
  DurationSeconds exceeds the MaxSessionDuration set for this role.";
- a request with temporary credentials but no (or another) token: InvalidClientTokenId
  "The security token included in the request is invalid."; an expired one: ExpiredToken
  "The security token included in the request is expired" (STS API reference,
  "Common Errors").
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import CoveServer

ACCOUNT = "000000000000"


def client(server: CoveServer, service: str, creds: dict[str, str]) -> Any:
    return boto3.client(
        service, endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(principal: dict[str, Any]) -> str:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def user_with_key(server: CoveServer, name: str) -> dict[str, str]:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    return iam.create_access_key(UserName=name)["AccessKey"]


def test_a_trusted_user_assumes_a_role_and_gets_its_permissions(server: CoveServer) -> None:
    iam = server.client("iam")
    key = user_with_key(server, "ops")
    iam.create_role(
        RoleName="reader",
        MaxSessionDuration=7200,
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/ops"}),
    )
    iam.put_role_policy(RoleName="reader", PolicyName="list", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "sagemaker:List*"],
         "Resource": "*"}))  # fmt: skip
    got = client(server, "sts", key).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/reader", RoleSessionName="s1",
        DurationSeconds=7200,
    )  # fmt: skip
    creds, who = got["Credentials"], got["AssumedRoleUser"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1"
    role_id = iam.get_role(RoleName="reader")["Role"]["RoleId"]
    assert who["AssumedRoleId"] == f"{role_id}:s1"
    remaining = creds["Expiration"].timestamp() - time.time()
    assert 7100 < remaining <= 7200
    session_sts = client(server, "sts", creds)
    me = session_sts.get_caller_identity()
    assert (me["Arn"], me["UserId"]) == (who["Arn"], who["AssumedRoleId"])
    assert "Buckets" in client(server, "s3", creds).list_buckets()
    assert "Models" in client(server, "sagemaker", creds).list_models()
    code, status, message = error_of(client(server, "iam", creds).list_users)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1 is not authorized to perform: "
        "iam:ListUsers on resource: *"
    )
    # without its token, or with another, the key is refused
    bare = {k: v for k, v in creds.items() if k != "SessionToken"}
    assert error_of(client(server, "sts", bare).get_caller_identity) == (
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid.",
    )
    forged = {**creds, "SessionToken": creds["SessionToken"][:-4] + "AAAA"}
    assert error_of(client(server, "sts", forged).get_caller_identity)[0] == "InvalidClientTokenId"


def test_a_session_policy_narrows_the_session(server: CoveServer) -> None:
    iam = server.client("iam")
    key = user_with_key(server, "narrow")
    iam.create_role(
        RoleName="broad",
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/narrow"}),
    )
    iam.attach_role_policy(
        RoleName="broad", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    creds = client(server, "sts", key).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/broad", RoleSessionName="only-s3",
        Policy=doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
    )["Credentials"]  # fmt: skip
    assert "Buckets" in client(server, "s3", creds).list_buckets()
    code, _, message = error_of(client(server, "sagemaker", creds).list_models)
    assert code == "AccessDeniedException"
    assert message.endswith("because no session policy allows the sagemaker:ListModels action")


def test_managed_session_policies_narrow_the_session(server: CoveServer) -> None:
    """PolicyArns (STS API Reference, AssumeRole, https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
    up to 10 managed policies of the role's account used as session policies, with an
    inline Policy besides; the session may do what the role allows and one of them allows
    (IAM UG, "Session policies",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session).
    The policies are read when the session starts: a later default version does not
    change it."""
    iam = server.client("iam")
    key = user_with_key(server, "scoped")
    iam.create_role(
        RoleName="wide",
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/scoped"}),
    )
    iam.attach_role_policy(RoleName="wide", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    listing = iam.create_policy(PolicyName="list-models", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sagemaker:ListModels", "Resource": "*"}
    ))["Policy"]["Arn"]  # fmt: skip
    sts = client(server, "sts", key)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/wide", RoleSessionName="managed",
        PolicyArns=[{"arn": listing}, {"arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}],
        Policy=doc({"Effect": "Deny", "Action": "s3:ListAllMyBuckets", "Resource": "*"}),
    )["Credentials"]  # fmt: skip
    assert "Models" in client(server, "sagemaker", creds).list_models()
    code, _, message = error_of(client(server, "sagemaker", creds).list_endpoints)
    assert code == "AccessDeniedException"
    assert message.endswith("because no session policy allows the sagemaker:ListEndpoints action")
    code, _, message = error_of(client(server, "s3", creds).list_buckets)
    assert code == "AccessDenied" and "with an explicit deny in a session policy" in message
    # a new default version of a managed session policy leaves the session as it was
    iam.create_policy_version(PolicyArn=listing, SetAsDefault=True, PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sagemaker:ListEndpoints", "Resource": "*"}
    ))  # fmt: skip
    assert "Models" in client(server, "sagemaker", creds).list_models()
    code, _, _ = error_of(
        sts.assume_role, RoleArn=f"arn:aws:iam::{ACCOUNT}:role/wide", RoleSessionName="x1",
        PolicyArns=[{"arn": f"arn:aws:iam::{ACCOUNT}:policy/absent"}],
    )  # fmt: skip
    assert code == "ValidationError"
    code, _, message = error_of(
        sts.assume_role, RoleArn=f"arn:aws:iam::{ACCOUNT}:role/wide", RoleSessionName="x2",
        PolicyArns=[{"arn": listing}] * 11,
    )  # fmt: skip
    assert code == "ValidationError" and "less than or equal to 10" in message


def test_who_may_assume_what(server: CoveServer) -> None:
    iam = server.client("iam")
    key = user_with_key(server, "stranger")
    account_trust = trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    iam.create_role(RoleName="via-account", AssumeRolePolicyDocument=account_trust)
    arn = f"arn:aws:iam::{ACCOUNT}:role/via-account"
    sts = client(server, "sts", key)
    code, status, message = error_of(sts.assume_role, RoleArn=arn, RoleSessionName="xx")
    assert (code, status) == ("AccessDenied", 403)  # trusted through the account: needs an allow
    assert message.startswith(
        f"User: arn:aws:iam::{ACCOUNT}:user/stranger is not authorized to perform: "
        f"sts:AssumeRole on resource: {arn}"
    )
    iam.put_user_policy(UserName="stranger", PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn}))  # fmt: skip
    assert sts.assume_role(RoleArn=arn, RoleSessionName="xx")["Credentials"]["AccessKeyId"]
    missing = f"arn:aws:iam::{ACCOUNT}:role/no-such-role"
    assert error_of(sts.assume_role, RoleArn=missing, RoleSessionName="xx")[:2] == (
        "AccessDenied", 403,
    )  # fmt: skip
    assert error_of(sts.assume_role, RoleArn=arn, RoleSessionName="xx", DurationSeconds=7200) == (
        "ValidationError", 400,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )  # fmt: skip
    assert error_of(server.client("sts").assume_role, RoleArn=arn, RoleSessionName="xx") == (
        "AccessDenied",
        403,
        "Roles may not be assumed by root accounts.",
    )


def test_role_chaining_is_limited_to_an_hour(server: CoveServer) -> None:
    iam = server.client("iam")
    key = user_with_key(server, "chainer")
    first = f"arn:aws:iam::{ACCOUNT}:role/chain-first"
    iam.create_role(
        RoleName="chain-first",
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/chainer"}),
    )
    iam.create_role(RoleName="chain-second", MaxSessionDuration=7200,
                    AssumeRolePolicyDocument=trust({"AWS": first}))  # fmt: skip
    creds = client(server, "sts", key).assume_role(RoleArn=first, RoleSessionName="one")[
        "Credentials"]  # fmt: skip
    session = client(server, "sts", creds)
    second = f"arn:aws:iam::{ACCOUNT}:role/chain-second"
    assert error_of(session.assume_role, RoleArn=second, RoleSessionName="two",
                    DurationSeconds=7200) == (
        "ValidationError", 400,
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
        "role chaining.",
    )  # fmt: skip
    chained = session.assume_role(RoleArn=second, RoleSessionName="two")["AssumedRoleUser"]
    assert chained["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/chain-second/two"


def test_sessions_survive_a_restart(make_server: Any) -> None:
    first = make_server()
    iam = first.client("iam")
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    iam.create_role(
        RoleName="r", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/u"})
    )
    creds = client(first, "sts", key).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/r", RoleSessionName="kept", DurationSeconds=900
    )["Credentials"]
    first.stop()
    again = make_server(first.data_dir)
    assert client(again, "sts", creds).get_caller_identity()["Arn"].endswith("/r/kept")
