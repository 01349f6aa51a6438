"""S3 bucket policies as resource-based policies, with unmodified boto3 against a real
`cove server` (S3 API reference, "PutBucketPolicy", "GetBucketPolicy",
"DeleteBucketPolicy"; IAM User Guide, "Policy evaluation logic": within one account a
resource-based policy that names a principal grants on its own, and an explicit deny in
it wins over any allow, the root user's included).
- GetBucketPolicy without one: NoSuchBucketPolicy 404 "The bucket policy does not exist"
  with the BucketName (S3 API reference, "Error responses"; S3's own answer quoted in
  https://github.com/versity/versitygw/issues/959).
- A document S3 would not keep: MalformedPolicy 400, in S3's words, each as S3 answered it:
  "Policies must be valid JSON and the first byte must be '{'" for a file name given as
  the policy (https://github.com/aws/aws-cli/issues/2779); "Missing required field
  Principal" (https://github.com/hashicorp/terraform/issues/28688); "Invalid principal in
  policy" (https://github.com/cloud-custodian/cloud-custodian/issues/4948, and AWS's
  knowledge-center article "Why am I getting the error 'Invalid principal in policy' when I
  try to update my Amazon S3 bucket policy?"); "Policy has invalid resource" for another
  bucket's objects (https://github.com/hashicorp/terraform/issues/5217) and for "*"
  (https://github.com/noobaa/noobaa-core/issues/10058 quotes AWS); "Action does not apply
  to any resource(s) in statement" for object actions on the bucket ARN
  (https://github.com/ministryofjustice/modernisation-platform/pull/10762,
  https://github.com/wandb/terraform-aws-wandb/issues/156). Seen only in S3-compatible
  servers that copy S3's texts, not in an answer of AWS's own: "This policy contains
  invalid Json" (https://github.com/versity/versitygw/pull/1156), "Missing required field
  Statement" (versitygw PR 1176), "Could not parse the policy: Statement is empty!",
  "Policy has invalid action" (versitygw issue 650) and "Invalid effect: hello" (issue 647).
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


def refusal(s3: Any, policy: str | dict[str, Any]) -> tuple[str, int, str]:
    text = policy if isinstance(policy, str) else json.dumps(policy)
    with pytest.raises(ClientError) as info:
        s3.put_bucket_policy(Bucket="strict", Policy=text)
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def one(**statement: Any) -> dict[str, Any]:
    base = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::strict/*", **statement}  # fmt: skip
    return {"Version": "2012-10-17", "Statement": [{k: v for k, v in base.items() if v}]}


def test_malformed_bucket_policies_are_refused(server: CoveServer) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="strict")
    for policy, message in [
        ("policy.json", "Policies must be valid JSON and the first byte must be '{'"),
        ("{not json", "This policy contains invalid Json"),
        (one(Principal=None), "Missing required field Principal"),
        (one(Principal={"AWS": "not-a-principal"}), "Invalid principal in policy"),
        (one(Resource="arn:aws:s3:::google.com/*"), "Policy has invalid resource"),
        (one(Resource="*"), "Policy has invalid resource"),
        (one(Action="s3:PutObject", Resource="arn:aws:s3:::strict"),
         "Action does not apply to any resource(s) in statement"),
        (one(Action="ec2:RunInstances"), "Policy has invalid action"),
        ({"Version": "2012-10-17"}, "Missing required field Statement"),
    ]:  # fmt: skip
        assert refusal(s3, policy) == ("MalformedPolicy", 400, message)
    assert error_of(s3.get_bucket_policy, Bucket="strict") == ("NoSuchBucketPolicy", 404)
    with pytest.raises(ClientError) as info:
        s3.get_bucket_policy(Bucket="strict")
    error = info.value.response["Error"]
    assert (error["Code"], error["Message"], error["BucketName"]) == (
        "NoSuchBucketPolicy",
        "The bucket policy does not exist",
        "strict",
    )
    assert error_of(s3.get_bucket_policy, Bucket="no-such-bucket") == ("NoSuchBucket", 404)


def test_a_policy_naming_a_user_or_role_that_does_not_exist_is_refused(
    server: CoveServer,
) -> None:
    # "You receive the Error: Invalid principal in policy message when the value of a
    # Principal in your bucket policy isn't valid ... If the Principal is an AWS Identity
    # and Access Management (IAM) user or role, then confirm that the user or role wasn't
    # deleted." (AWS knowledge center,
    # https://aws.amazon.com/premiumsupport/knowledge-center/s3-invalid-principal-in-policy-error/):
    # IAM keeps a user or role principal as its unique id, so one that does not exist
    # cannot be kept (IAM User Guide, "AWS JSON policy elements: Principal", IAM user and
    # role principals,
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
    # Any session name is taken, and the account root, services and "*" name no entity
    # (https://dev.classmethod.jp/articles/resource-base-policy-invalid-principal-error/).
    s3, iam = server.client("s3"), server.client("iam")
    s3.create_bucket(Bucket="named")
    iam.create_user(UserName="named-reader", Path="/team/")
    iam.create_role(RoleName="named-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "sagemaker.amazonaws.com"}}]}))  # fmt: skip

    def naming(*principals: str, service: str | None = None) -> dict[str, Any]:
        principal: dict[str, Any] = {"AWS": list(principals)}
        if service:
            principal["Service"] = service
        return {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::named/*"}]}  # fmt: skip

    own = f"arn:aws:iam::{ACCOUNT}"
    invalid = ("MalformedPolicy", 400, "Invalid principal in policy")
    for principals in [
        (f"{own}:user/nobody",),
        (f"{own}:role/no-role",),
        (f"{own}:user/named-reader",),  # the user's ARN has its path
        (f"{own}:root", f"{own}:user/team/named-reader", f"{own}:user/nobody"),
    ]:
        with pytest.raises(ClientError) as info:
            s3.put_bucket_policy(Bucket="named", Policy=json.dumps(naming(*principals)))
        err = info.value.response
        assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"],
                err["Error"]["Message"]) == invalid, principals  # fmt: skip
    assert error_of(s3.get_bucket_policy, Bucket="named") == ("NoSuchBucketPolicy", 404)
    kept = naming(
        f"{own}:user/team/named-reader", f"{own}:role/named-role", f"{own}:root", ACCOUNT,
        f"arn:aws:sts::{ACCOUNT}:assumed-role/named-role/any-session",
        # another account's: Cove holds one account and cannot look these up
        "arn:aws:iam::123456789012:user/elsewhere", "arn:aws:iam::123456789012:role/there",
        service="cloudfront.amazonaws.com",
    )  # fmt: skip
    s3.put_bucket_policy(Bucket="named", Policy=json.dumps(kept))
    assert json.loads(s3.get_bucket_policy(Bucket="named")["Policy"]) == kept
    # once the user is gone, a policy naming it is refused again
    iam.delete_user(UserName="named-reader")
    with pytest.raises(ClientError) as info:
        s3.put_bucket_policy(Bucket="named", Policy=json.dumps(kept))
    assert info.value.response["Error"]["Message"] == "Invalid principal in policy"
