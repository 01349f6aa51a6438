"""What the IAM e2e tests share: clients signed with a user's or a session's keys, the
error a call answers, policy documents, and users made with a key."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import CoveServer

ACCOUNT = "000000000000"


def as_key(server: CoveServer, service: str, key: dict[str, str], region: str = "us-east-1") -> Any:
    """A client signed with `key` (an AccessKey, or a session's Credentials)."""
    return boto3.client(
        service, endpoint_url=server.url, region_name=region,
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        aws_session_token=key.get("SessionToken"),
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    """The code, HTTP status and message `call` fails with."""
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def user_with_key(server: CoveServer, name: str, **create: Any) -> dict[str, str]:
    """A new user (CreateUser's other members in `create`) and its access key."""
    iam = server.client("iam")
    iam.create_user(UserName=name, **create)
    return iam.create_access_key(UserName=name)["AccessKey"]


def trusting_account(account: str = ACCOUNT) -> str:
    """A trust policy letting the account's principals allowed sts:AssumeRole assume."""
    return doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole"})  # fmt: skip
