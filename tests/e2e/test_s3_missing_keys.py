"""What GetObject and HeadObject of a key that does not exist answer, with unmodified boto3
and plain HTTP against a real `cove server`: 404 NoSuchKey to a caller that may list the
bucket, 403 AccessDenied to one that may not.

AWS's behaviour pinned here: "If the object that you request doesn't exist, the error that
Amazon S3 returns depends on whether you also have the s3:ListBucket permission. If you
have the s3:ListBucket permission on the bucket, Amazon S3 returns an HTTP status code 404
Not Found error. If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP
status code 403 Access Denied error." (S3 API Reference, GetObject, Permissions,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html; the same in HeadObject,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html). s3:ListBucket may come
from the identity's policies or from the bucket policy, and an explicit deny of it in the
bucket policy applies to the root user too (IAM User Guide, "Policy evaluation logic",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
Which words the 403 of a signed caller carries is not documented; only code and status are
pinned for it. An anonymous caller is told "Access Denied", as for any refusal.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import CoveServer

ACCOUNT = "000000000000"
BUCKET = "keys-and-gaps"
NO_SUCH_KEY = ("NoSuchKey", 404)
DENIED = ("AccessDenied", 403)


def get_error(s3: Any, key: str) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=BUCKET, Key=key)
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def head_status(s3: Any, key: str) -> int:
    """A HEAD's error is its status alone."""
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=BUCKET, Key=key)
    return info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


READ = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
LIST = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}


@pytest.fixture(scope="module")
def admin(server: CoveServer) -> Any:
    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="there.csv", Body=b"1,2\n")
    return s3


def test_a_reader_without_listbucket_is_refused_a_missing_key(
    server: CoveServer, admin: Any
) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="key-reader")
    iam.put_user_policy(UserName="key-reader", PolicyName="read", PolicyDocument=policy(READ))
    key = iam.create_access_key(UserName="key-reader")["AccessKey"]
    reader = boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip
    assert reader.get_object(Bucket=BUCKET, Key="there.csv")["Body"].read() == b"1,2\n"
    assert reader.head_object(Bucket=BUCKET, Key="there.csv")["ContentLength"] == 4
    for _ in range(2):  # the second from the decision remembered for the hot path
        assert get_error(reader, "gap.csv") == DENIED
        assert head_status(reader, "gap.csv") == 403
    # s3:ListBucket from its own policy: told at once
    iam.put_user_policy(UserName="key-reader", PolicyName="list", PolicyDocument=policy(LIST))
    for _ in range(2):
        assert get_error(reader, "gap.csv") == NO_SUCH_KEY
        assert head_status(reader, "gap.csv") == 404
    iam.delete_user_policy(UserName="key-reader", PolicyName="list")
    assert get_error(reader, "gap.csv") == DENIED
    # ... or from the bucket policy, which names the user
    reader_arn = f"arn:aws:iam::{ACCOUNT}:user/key-reader"
    admin.put_bucket_policy(Bucket=BUCKET, Policy=policy(
        {**LIST, "Principal": {"AWS": reader_arn}}))  # fmt: skip
    try:
        assert get_error(reader, "gap.csv") == NO_SUCH_KEY
        assert head_status(reader, "gap.csv") == 404
    finally:
        admin.delete_bucket_policy(Bucket=BUCKET)
    assert get_error(reader, "gap.csv") == DENIED


def test_the_root_user_is_told_unless_a_bucket_policy_denies_it_listing(admin: Any) -> None:
    assert get_error(admin, "gap.csv") == NO_SUCH_KEY
    assert head_status(admin, "gap.csv") == 404
    admin.put_bucket_policy(Bucket=BUCKET, Policy=policy(
        {**LIST, "Effect": "Deny", "Principal": "*"}))  # fmt: skip
    try:
        assert get_error(admin, "gap.csv") == DENIED
        assert head_status(admin, "gap.csv") == 403
        # reading what is there needs no listing
        assert admin.get_object(Bucket=BUCKET, Key="there.csv")["Body"].read() == b"1,2\n"
    finally:
        admin.delete_bucket_policy(Bucket=BUCKET)
    assert get_error(admin, "gap.csv") == NO_SUCH_KEY


def test_an_anonymous_reader_is_told_only_when_everyone_may_list(
    server: CoveServer, admin: Any
) -> None:
    anonymous = boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )  # fmt: skip
    everyone = {"Principal": "*"}
    admin.put_bucket_policy(Bucket=BUCKET, Policy=policy({**READ, **everyone}))
    try:
        assert anonymous.get_object(Bucket=BUCKET, Key="there.csv")["Body"].read() == b"1,2\n"
        assert get_error(anonymous, "gap.csv") == DENIED
        with pytest.raises(urllib.error.HTTPError) as answer:  # a browser
            urllib.request.urlopen(f"{server.url}/{BUCKET}/gap.csv")
        assert answer.value.code == 403
        assert b"<Code>AccessDenied</Code><Message>Access Denied</Message>" in answer.value.read()
        admin.put_bucket_policy(Bucket=BUCKET, Policy=policy(
            {**READ, **everyone}, {**LIST, **everyone}))  # fmt: skip
        assert get_error(anonymous, "gap.csv") == NO_SUCH_KEY
        assert head_status(anonymous, "gap.csv") == 404
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"{server.url}/{BUCKET}/gap.csv")
        assert answer.value.code == 404
        assert b"<Code>NoSuchKey</Code>" in answer.value.read()
    finally:
        admin.delete_bucket_policy(Bucket=BUCKET)
