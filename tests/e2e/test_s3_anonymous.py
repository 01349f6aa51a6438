"""Anonymous (unsigned) S3 requests against a real `cove server`, with boto3's UNSIGNED
config and a plain HTTP GET: the bucket policy alone decides them.

AWS's behaviour pinned here:
- "To grant permission to everyone, also referred as anonymous access, you set the
  wildcard ("*") as the Principal value": "Principal": "*" or {"AWS": "*"} (S3 User
  Guide, "Principals",
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-bucket-user-policy-specifying-principal-intro.html;
  the "read-only permission to an anonymous user" example in "Examples of Amazon S3 bucket
  policies", https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html);
- an anonymous request has no identity-based policies: without a resource policy that
  allows it, it is implicitly denied; an explicit deny and conditions such as aws:SourceIp
  apply to it as to anyone (IAM User Guide, "Policy evaluation logic",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
  aws:PrincipalType is present for every request, anonymous ones included, and
  aws:PrincipalAccount only for signed ones (IAM User Guide, "AWS global condition context
  keys", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html);
- the refusal is 403 AccessDenied "Access Denied", as `aws s3 ls ... --no-sign-request`
  shows it (https://github.com/awslabs/open-data-registry/issues/774).
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


def refused(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def put_policy(server: CoveServer, bucket: str, *statements: dict[str, Any]) -> None:
    server.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))  # fmt: skip


def test_anonymous_requests_get_what_the_bucket_policy_gives_everyone(server: CoveServer) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="open-data")
    s3.put_object(Bucket="open-data", Key="pub/a.csv", Body=b"1,2\n")
    s3.put_object(Bucket="open-data", Key="private/b.csv", Body=b"secret")
    anonymous = boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )  # fmt: skip
    denied = ("AccessDenied", 403, "Access Denied")
    assert refused(anonymous.get_object, Bucket="open-data", Key="pub/a.csv") == denied
    put_policy(server, "open-data", {
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::open-data/pub/*",
    }, {
        "Sid": "ListFromHere", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::open-data",
        "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"},
                      "StringEquals": {"aws:PrincipalType": "Anonymous"}},
    }, {
        "Sid": "NeverTheCsvOfB", "Effect": "Deny", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::open-data/pub/b.csv",
    })  # fmt: skip
    assert anonymous.get_object(Bucket="open-data", Key="pub/a.csv")["Body"].read() == b"1,2\n"
    with urllib.request.urlopen(f"{server.url}/open-data/pub/a.csv") as answer:  # a browser
        assert answer.read() == b"1,2\n"
    listed = anonymous.list_objects_v2(Bucket="open-data")["Contents"]
    assert [o["Key"] for o in listed] == ["private/b.csv", "pub/a.csv"]
    # what the policy does not give everyone stays refused
    assert refused(anonymous.get_object, Bucket="open-data", Key="private/b.csv") == denied
    assert refused(anonymous.put_object, Bucket="open-data", Key="pub/new", Body=b"x") == denied
    assert refused(anonymous.get_object, Bucket="open-data", Key="pub/b.csv") == denied
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{server.url}/open-data/private/b.csv")
    assert info.value.code == 403
    assert b"<Code>AccessDenied</Code><Message>Access Denied</Message>" in info.value.read()
    # aws:SourceIp applies: the listing is only for callers from 10.0.0.0/8 now
    put_policy(server, "open-data", {
        "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::open-data",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    })  # fmt: skip
    assert refused(anonymous.list_objects_v2, Bucket="open-data") == denied
    # a policy keyed on the caller's account gives an anonymous caller nothing: it has none
    put_policy(server, "open-data", {
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::open-data/*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": "000000000000"}},
    })  # fmt: skip
    assert refused(anonymous.get_object, Bucket="open-data", Key="pub/a.csv") == denied
    assert s3.get_object(Bucket="open-data", Key="pub/a.csv")["Body"].read() == b"1,2\n"
    s3.delete_bucket_policy(Bucket="open-data")
    assert refused(anonymous.get_object, Bucket="open-data", Key="pub/a.csv") == denied


def test_an_anonymous_caller_never_reads_or_changes_the_bucket_policy(
    server: CoveServer,
) -> None:
    # S3 API Reference, PutBucketPolicy / GetBucketPolicy / DeleteBucketPolicy: "If you
    # don't have ... permissions, Amazon S3 returns a 403 Access Denied error. If you have
    # the correct permissions, but you're not using an identity that belongs to the bucket
    # owner's account, Amazon S3 returns a 405 Method Not Allowed error."
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html; the
    # MethodNotAllowed text as S3 answers it: https://pastebin.com/WzmBfDRq)
    s3 = server.client("s3")
    s3.create_bucket(Bucket="wide-open")
    anonymous = boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )  # fmt: skip
    everything = {"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                  "Resource": ["arn:aws:s3:::wide-open", "arn:aws:s3:::wide-open/*"]}
    put_policy(server, "wide-open", everything)
    anonymous.put_object(Bucket="wide-open", Key="k", Body=b"x")  # the policy allows it
    not_allowed = "The specified method is not allowed against this resource."
    assert refused(anonymous.get_bucket_policy, Bucket="wide-open") == (
        "MethodNotAllowed", 405, not_allowed)
    assert refused(anonymous.delete_bucket_policy, Bucket="wide-open") == (
        "MethodNotAllowed", 405, not_allowed)
    assert refused(anonymous.put_bucket_policy, Bucket="wide-open", Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [everything]})) == (
        "MethodNotAllowed", 405, not_allowed)  # fmt: skip
    # the owner's policy is untouched; without an allow the answer is the plain 403
    assert json.loads(s3.get_bucket_policy(Bucket="wide-open")["Policy"])["Statement"]
    s3.delete_bucket_policy(Bucket="wide-open")
    assert refused(anonymous.get_bucket_policy, Bucket="wide-open") == (
        "AccessDenied", 403, "Access Denied")


def test_an_anonymous_caller_is_told_a_bucket_does_not_exist(server: CoveServer) -> None:
    # AWS answers an unsigned request for a missing bucket 404 NoSuchBucket, and one for a
    # bucket that exists but gives it nothing 403 AccessDenied: `curl
    # http://s3.amazonaws.com/nosuchbucketname` quoted in
    # https://github.com/minio/minio/issues/11293, and case 8 against case 7 of the
    # experiments in https://github.com/aws/aws-sdk-java/issues/1256. An anonymous request
    # has no user context; S3 decides it in the bucket owner's context, which a missing
    # bucket does not have (S3 User Guide, "How Amazon S3 authorizes a request",
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html).
    anonymous = boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )  # fmt: skip
    missing = ("NoSuchBucket", 404, "The specified bucket does not exist")
    assert refused(anonymous.list_objects_v2, Bucket="never-made") == missing
    assert refused(anonymous.get_object, Bucket="never-made", Key="a.csv") == missing
    assert refused(anonymous.put_object, Bucket="never-made", Key="a", Body=b"x") == missing
    with pytest.raises(ClientError) as info:
        anonymous.head_bucket(Bucket="never-made")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(f"{server.url}/never-made/a.csv")
    assert answer.value.code == 404
    body = answer.value.read()
    assert b"<Code>NoSuchBucket</Code>" in body
    assert b"<BucketName>never-made</BucketName>" in body
    # a bucket that exists and gives everyone nothing stays refused, as before
    server.client("s3").create_bucket(Bucket="made-private")
    denied = ("AccessDenied", 403, "Access Denied")
    assert refused(anonymous.list_objects_v2, Bucket="made-private") == denied
    assert refused(anonymous.get_object, Bucket="made-private", Key="a.csv") == denied


def test_a_signed_caller_is_refused_in_its_own_account_first(server: CoveServer) -> None:
    # A request by an IAM identity is first decided in its own account's context, by its
    # own policies, before the bucket owner's ("How Amazon S3 authorizes a request",
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html):
    # an identity whose policies allow nothing is refused whether the bucket exists or not
    # (what S3 answers for the missing bucket is not stated there; this is the documented
    # order), one allowed the action learns that the bucket is missing.
    iam = server.client("iam")
    iam.create_user(UserName="no-rights")
    key = iam.create_access_key(UserName="no-rights")["AccessKey"]
    signed = boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip
    code, status, _ = refused(signed.list_objects_v2, Bucket="never-made-either")
    assert (code, status) == ("AccessDenied", 403)
    iam.put_user_policy(UserName="no-rights", PolicyName="list", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
    }))  # fmt: skip
    missing = ("NoSuchBucket", 404, "The specified bucket does not exist")
    assert refused(signed.list_objects_v2, Bucket="never-made-either") == missing
    assert refused(server.client("s3").list_objects_v2, Bucket="never-made-either") == missing
