"""A role session's keys stop working when the session ends (issue #10, item 2): the
request is refused with ExpiredToken in each protocol's words (STS API Reference and S3
API Reference, "Common Errors"; the texts as the AWS CLI prints them: "The security token
included in the request is expired" from query and JSON services, S3's "The provided
token has expired.").

Time is moved, not waited for: the server is restarted on the same data dir (sessions
outlive restarts) 20 minutes in the future under libfaketime, and so is the AWS CLI that
signs the requests, so only the 15-minute session is out of date. Long-term keys still
work then, which shows the clock moved for both alike."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3

from tests.conftest import CoveServer, free_port

ACCOUNT = "000000000000"
LATER = ["faketime", "-f", "+20m"]  # past a 900-second session
AWS = str(Path(sys.executable).parent / "aws")


def cli(server: CoveServer, keys: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {**server.aws_env(), **keys, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    return subprocess.run([*LATER, AWS, *args], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_an_ended_session_is_refused_with_expired_token(tmp_path: Path) -> None:
    assert shutil.which("faketime"), "make setup installs faketime"
    data = tmp_path / "data"
    now = CoveServer(data, free_port()).start()
    try:
        iam = now.client("iam")
        iam.create_user(UserName="short-lived")
        iam.attach_user_policy(UserName="short-lived",
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")  # fmt: skip
        user = iam.create_access_key(UserName="short-lived")["AccessKey"]
        iam.create_role(RoleName="brief", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole"}]}))  # fmt: skip
        iam.attach_role_policy(RoleName="brief",
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")  # fmt: skip
        sts = boto3.client("sts", endpoint_url=now.url, region_name="us-east-1",
                           aws_access_key_id=user["AccessKeyId"],
                           aws_secret_access_key=user["SecretAccessKey"])  # fmt: skip
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/brief",
                                RoleSessionName="brief", DurationSeconds=900)["Credentials"]
    finally:
        now.stop()
    later = CoveServer(data, free_port(), {"FAKETIME_DONT_FAKE_MONOTONIC": "1"},
                       launcher=LATER).start()
    try:
        session = {
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
        }
        long_term = {"AWS_ACCESS_KEY_ID": user["AccessKeyId"],
                     "AWS_SECRET_ACCESS_KEY": user["SecretAccessKey"]}  # fmt: skip
        me = cli(later, long_term, "sts", "get-caller-identity")
        assert me.returncode == 0, me.stderr
        assert json.loads(me.stdout)["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/short-lived"
        for args, code, text in [
            (("sts", "get-caller-identity"), "ExpiredToken",
             "The security token included in the request is expired"),
            (("sagemaker", "list-models"), "ExpiredTokenException",
             "The security token included in the request is expired"),
            (("s3api", "list-buckets"), "ExpiredToken", "The provided token has expired."),
        ]:  # fmt: skip
            refused = cli(later, session, *args)
            assert refused.returncode != 0, args
            assert f"({code})" in refused.stderr and text in refused.stderr, refused.stderr
    finally:
        later.stop()
    assert "FAKETIME" not in os.environ  # the test's own clock was never moved
