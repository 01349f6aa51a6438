"""Every request is SigV4-verified: each way of getting it wrong gets the AWS error code."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError


def sagemaker(server, key: str, secret: str, **cfg) -> object:
    return boto3.client(
        "sagemaker",
        endpoint_url=server.url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, **cfg),
    )


def error_of(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_signed_request_is_accepted(server) -> None:
    assert server.client("sagemaker").list_endpoints()["Endpoints"] is not None


def test_unsigned_request(server) -> None:
    client = sagemaker(server, "x", "y", signature_version=UNSIGNED)
    assert error_of(client.list_endpoints) == ("MissingAuthenticationTokenException", 403)


def test_wrong_secret(server) -> None:
    key, _ = server.credentials()
    client = sagemaker(server, key, "not-the-secret")
    assert error_of(client.list_endpoints) == ("InvalidSignatureException", 403)


def test_unknown_access_key(server) -> None:
    _, secret = server.credentials()
    client = sagemaker(server, "AKIAUNKNOWNUNKNOWN00", secret)
    assert error_of(client.list_endpoints) == ("UnrecognizedClientException", 403)


def test_tampered_body(server) -> None:
    client = server.client("sagemaker")

    def tamper(request, **_) -> None:
        request.body = json.dumps({"NameContains": "tampered"}).encode()

    client.meta.events.register("before-send.sagemaker.ListEndpoints", tamper)
    assert error_of(lambda: client.list_endpoints(NameContains="original")) == (
        "InvalidSignatureException",
        403,
    )


@pytest.mark.parametrize("minutes", [-16, 16])
def test_timestamp_more_than_15_minutes_off(server, monkeypatch, minutes: int) -> None:
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: skewed)
    client = server.client("sagemaker")
    code, status = error_of(client.list_endpoints)
    assert (code, status) == ("InvalidSignatureException", 403)


def test_aws_cli_with_wrong_secret(server) -> None:
    key, _ = server.credentials()
    env = {**server.aws_env(), "AWS_SECRET_ACCESS_KEY": "wrong"}
    aws = str(Path(sys.executable).parent / "aws")
    out = subprocess.run([aws, "sagemaker", "list-endpoints"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode != 0
    assert "InvalidSignatureException" in out.stderr


def test_secrets_never_in_the_log(server) -> None:
    _, secret = server.credentials()
    key, _ = server.credentials()
    server.client("sagemaker").list_endpoints()
    error_of(sagemaker(server, key, "wrong-secret").list_endpoints)
    error_of(sagemaker(server, "AKIAUNKNOWNUNKNOWN00", secret).list_endpoints)
    log = server.log()
    assert "rejected" in log  # the failures were logged ...
    assert secret not in log and "wrong-secret" not in log  # ... without any secret
