"""DeleteObjects authorized per key, with unmodified boto3 against a real `cove server`.

AWS's behaviour pinned here:
- the caller needs s3:DeleteObject on each object it names, and no permission of the
  bucket: "s3:DeleteObject - To delete an object from a bucket, you must always specify
  the s3:DeleteObject permission" (S3 API Reference, DeleteObjects, "Permissions",
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html), the objects'
  ARNs being arn:aws:s3:::bucket/key (S3 User Guide, "Required permissions for Amazon S3
  API operations", object operations,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html);
- "For each key, Amazon S3 performs a delete operation and returns the result of that
  delete, success or failure, in the response", and quiet mode "includes only keys where
  the delete operation encountered an error" (the same API Reference page): a key the
  caller may not delete is an <Error> of a 200 answer while the others are deleted;
- that error is Code AccessDenied, Message "Access Denied", in quiet mode too, as AWS
  answered it to boto3 (https://github.com/boto/boto3/issues/2884, with "Quiet": True),
  to a caller without s3:DeleteObject (https://github.com/ansible/ansible/pull/43358,
  https://github.com/andrewrk/node-s3-client/issues/235) and under a bucket policy that
  denies s3:DeleteObject (https://github.com/aws-ia/taskcat/pull/176);
- a bucket policy grants and denies per key as well, its explicit deny the root user's
  too (IAM User Guide, "Policy evaluation logic",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from tests.conftest import CoveServer

ACCOUNT = "000000000000"
DENIED = {"Code": "AccessDenied", "Message": "Access Denied"}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deleting(resource: str, effect: str = "Allow", **more: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": "s3:DeleteObject", "Resource": resource, **more}


def user_s3(server: CoveServer, name: str, *statements: dict[str, Any]) -> Any:
    """An S3 client of a new user holding `statements` as its inline policy."""
    iam = server.client("iam")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip


def filled(admin: Any, bucket: str, *keys: str) -> None:
    admin.create_bucket(Bucket=bucket)
    for key in keys:
        admin.put_object(Bucket=bucket, Key=key, Body=key.encode())


def delete(s3: Any, bucket: str, *keys: str, quiet: bool = False) -> tuple[list[str], list]:
    """The keys deleted and the errors, each error as {Key, Code, Message}."""
    answer = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": quiet}
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    return [d["Key"] for d in answer.get("Deleted", [])], answer.get("Errors", [])


def remaining(admin: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in admin.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_the_usual_object_policy_deletes_a_batch(server: CoveServer) -> None:
    admin = server.client("s3")
    filled(admin, "batch-usual", "a", "dir/b", "c")
    # s3:DeleteObject on the bucket's objects only, as policies grant it
    s3 = user_s3(server, "batch-deleter", deleting("arn:aws:s3:::batch-usual/*"))
    assert delete(s3, "batch-usual", "a", "dir/b", "never-there") == (
        ["a", "dir/b", "never-there"], [],
    )  # fmt: skip
    assert remaining(admin, "batch-usual") == ["c"]


def test_a_key_the_caller_may_not_delete_is_an_error_and_the_rest_are_deleted(
    server: CoveServer,
) -> None:
    admin = server.client("s3")
    keys = ("tmp/1", "keep/2", "tmp/3", "keep/4", "tmp/5", "keep/6")
    filled(admin, "batch-mixed", *keys)
    s3 = user_s3(
        server, "tmp-cleaner",
        deleting("arn:aws:s3:::batch-mixed/tmp/*"),
        deleting("arn:aws:s3:::batch-mixed/keep/6", "Deny"),
        deleting("arn:aws:s3:::batch-mixed/keep/6"),  # the deny wins
    )  # fmt: skip
    assert delete(s3, "batch-mixed", "tmp/1", "keep/2", "tmp/3") == (
        ["tmp/1", "tmp/3"], [{"Key": "keep/2", **DENIED}],
    )  # fmt: skip
    # quiet mode lists no deleted key, but every refused one
    assert delete(s3, "batch-mixed", "keep/4", "tmp/5", "keep/6", quiet=True) == (
        [], [{"Key": "keep/4", **DENIED}, {"Key": "keep/6", **DENIED}],
    )  # fmt: skip
    assert remaining(admin, "batch-mixed") == ["keep/2", "keep/4", "keep/6"]


def test_no_permission_at_all_refuses_each_key_not_the_request(server: CoveServer) -> None:
    admin = server.client("s3")
    filled(admin, "batch-none", "x", "y")
    # s3:DeleteObject on the bucket's ARN names no object: it deletes nothing
    for name, statements in [
        ("no-s3", ()),
        ("bucket-arn-only", (deleting("arn:aws:s3:::batch-none"),)),
    ]:
        s3 = user_s3(server, name, *statements)
        assert delete(s3, "batch-none", "x", "y") == (
            [], [{"Key": "x", **DENIED}, {"Key": "y", **DENIED}],
        ), name  # fmt: skip
    assert remaining(admin, "batch-none") == ["x", "y"]


def test_a_bucket_policy_grants_and_denies_per_key(server: CoveServer) -> None:
    admin = server.client("s3")
    filled(admin, "batch-policed", "shared/1", "shared/2", "locked/3", "own/4", "public/5")
    s3 = user_s3(server, "policy-deleter")  # no identity policy: the bucket policy alone
    admin.put_bucket_policy(Bucket="batch-policed", Policy=policy(
        deleting("arn:aws:s3:::batch-policed/shared/*",
                 Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/policy-deleter"}),
        deleting("arn:aws:s3:::batch-policed/locked/*", "Deny", Principal="*"),
        deleting("arn:aws:s3:::batch-policed/public/*", Principal="*"),
    ))  # fmt: skip
    assert delete(s3, "batch-policed", "shared/1", "own/4") == (
        ["shared/1"], [{"Key": "own/4", **DENIED}],
    )  # fmt: skip
    # the deny stops the root user, key by key
    assert delete(admin, "batch-policed", "locked/3", "shared/2") == (
        ["shared/2"], [{"Key": "locked/3", **DENIED}],
    )  # fmt: skip
    # an unsigned caller may delete what the policy gives everyone, and nothing else
    anonymous = boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )  # fmt: skip
    assert delete(anonymous, "batch-policed", "public/5", "own/4", quiet=True) == (
        [], [{"Key": "own/4", **DENIED}],
    )  # fmt: skip
    assert remaining(admin, "batch-policed") == ["locked/3", "own/4"]
    admin.delete_bucket_policy(Bucket="batch-policed")
    assert delete(admin, "batch-policed", "locked/3", "own/4") == (["locked/3", "own/4"], [])


@pytest.mark.parametrize("quiet", [False, True])
def test_a_full_batch_of_a_thousand_keys(server: CoveServer, quiet: bool) -> None:
    """1,000 keys (S3's most), half of them refused: one decision a key, cached."""
    admin = server.client("s3")
    bucket = f"batch-full-{str(quiet).lower()}"
    admin.create_bucket(Bucket=bucket)
    s3 = user_s3(server, f"full-{str(quiet).lower()}", deleting(f"arn:aws:s3:::{bucket}/even/*"))
    keys = [f"{'even' if i % 2 == 0 else 'odd'}/{i}" for i in range(1000)]
    deleted, errors = delete(s3, bucket, *keys, quiet=quiet)
    assert deleted == ([] if quiet else keys[0::2])
    assert errors == [{"Key": k, **DENIED} for k in keys[1::2]]
