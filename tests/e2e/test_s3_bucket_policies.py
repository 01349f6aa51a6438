"""S3 bucket policies as resource-based policies, with unmodified boto3 against a real
`cove server` (S3 API reference, "PutBucketPolicy", "GetBucketPolicy",
"DeleteBucketPolicy"; IAM User Guide, "Policy evaluation logic": within one account a
resource-based policy that names a principal grants on its own, and an explicit deny in
it wins over any allow, the root user's included).
- GetBucketPolicy without one: NoSuchBucketPolicy 404 "The bucket policy does not exist"
  with the BucketName (S3 API reference, "Error responses"; S3's own answer quoted in
  https://github.com/versity/versitygw/issues/959).
- A document that is not policy grammar: MalformedPolicy 400.
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


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"][
        "HTTPStatusCode"]  # fmt: skip


def test_a_bucket_policy_grants_and_denies(server: CoveServer) -> None:
    s3, iam = server.client("s3"), server.client("iam")
    s3.create_bucket(Bucket="policed")
    s3.put_object(Bucket="policed", Key="open/a", Body=b"a")
    s3.put_object(Bucket="policed", Key="closed/b", Body=b"b")
    assert error_of(s3.get_bucket_policy, Bucket="policed") == ("NoSuchBucketPolicy", 404)
    iam.create_user(UserName="guest")
    key = iam.create_access_key(UserName="guest")["AccessKey"]
    guest = boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip
    assert error_of(guest.get_object, Bucket="policed", Key="open/a") == ("AccessDenied", 403)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "GuestReads", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/guest"},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::policed/open/*"},
            {"Sid": "NobodyReadsClosed", "Effect": "Deny", "Principal": "*",
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::policed/closed/*"},
        ],
    }  # fmt: skip
    s3.put_bucket_policy(Bucket="policed", Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket="policed")["Policy"]) == policy
    # the guest has no identity policy: the bucket policy alone grants it
    assert guest.get_object(Bucket="policed", Key="open/a")["Body"].read() == b"a"
    assert error_of(guest.put_object, Bucket="policed", Key="open/x", Body=b"x") == (
        "AccessDenied", 403,
    )  # fmt: skip
    # an explicit deny stops even the root user
    assert error_of(s3.get_object, Bucket="policed", Key="closed/b") == ("AccessDenied", 403)
    s3.delete_bucket_policy(Bucket="policed")
    assert s3.get_object(Bucket="policed", Key="closed/b")["Body"].read() == b"b"
    assert error_of(guest.get_object, Bucket="policed", Key="open/a") == ("AccessDenied", 403)


def test_malformed_bucket_policies_are_refused(server: CoveServer) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="strict")
    assert error_of(s3.put_bucket_policy, Bucket="strict", Policy="{not json") == (
        "MalformedPolicy", 400,
    )  # fmt: skip
    with pytest.raises(ClientError) as info:
        s3.get_bucket_policy(Bucket="strict")
    error = info.value.response["Error"]
    assert (error["Code"], error["Message"], error["BucketName"]) == (
        "NoSuchBucketPolicy",
        "The bucket policy does not exist",
        "strict",
    )
    assert error_of(s3.get_bucket_policy, Bucket="no-such-bucket") == ("NoSuchBucket", 404)
