"""A function's code as CreateFunction and UpdateFunctionCode take it: the zip's bytes
(`ZipFile`), or an object of Cove's object store (`S3Bucket`/`S3Key`), read as Lambda
reads it: with the caller's own permissions (its "request credentials"), so the caller
needs s3:GetObject on the object under the bucket's policy, and refused with the S3 error
Lambda relays.

A caller S3 refuses gets Lambda's AccessDeniedException (403): "Your access has been denied
by S3, please make sure your request credentials have permission to GetObject for
bucket/key. S3 Error Code: AccessDenied. S3 Error Message: Access Denied" (as CreateFunction
answered it: github.com/awslabs/lambda-streams-to-firehose/issues/21; "Status Code: 403;
Error Code: AccessDeniedException": github.com/binxio/cfn-lb-ip-address-provider/issues/4,
and UpdateFunctionCode the same: github.com/buildkite/elastic-ci-stack-for-aws/issues/564).
S3 refuses a missing key so too to a caller that may not list the bucket (S3 API
Reference, GetObject, "Permissions")."""

from __future__ import annotations

from typing import Any

from cove.errors import AwsError
from cove.functions.model import CodeRef
from cove.http.messages import RequestContext
from cove.services.lambda_.context import LambdaContext
from cove.services.lambda_.errors import invalid
from cove.storage.s3.errors import StoreError, StoreFailure

_S3_TEXTS = {
    StoreFailure.NO_SUCH_BUCKET: ("NoSuchBucket", "The specified bucket does not exist"),
    StoreFailure.NO_SUCH_KEY: ("NoSuchKey", "The specified key does not exist."),
}


def package(lc: LambdaContext, ctx: RequestContext, code: dict[str, Any]) -> CodeRef:
    if code.get("ZipFile") is not None:
        data = code["ZipFile"]
    elif code.get("S3Bucket") and code.get("S3Key"):
        data = _from_s3(lc, ctx, code["S3Bucket"], code["S3Key"])
    elif code.get("ImageUri"):
        raise invalid("Cove runs .zip deployment packages only; ImageUri is not supported.")
    else:
        raise invalid("Please provide a source for function code.")
    return lc.store.packages.add(data)


def _from_s3(lc: LambdaContext, ctx: RequestContext, bucket: str, key: str) -> bytes:
    policies = lc.objects.policies.held(bucket)
    _as_caller(lc, ctx, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", policies, bucket, key)
    try:
        return lc.objects.read_object(bucket, key)[1]
    except StoreError as exc:
        if exc.failure is StoreFailure.NO_SUCH_KEY:  # told only to who may list the bucket
            _as_caller(lc, ctx, "s3:ListBucket", f"arn:aws:s3:::{bucket}", policies, bucket, key)
        code, text = _S3_TEXTS.get(exc.failure, (exc.failure.name, "Access Denied"))
        raise AwsError(
            "InvalidParameterValueException",
            f"Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {text}",
        ) from None


def _as_caller(
    lc: LambdaContext, ctx: RequestContext, action: str, resource: str,
    policies: tuple[str, ...], bucket: str, key: str,
) -> None:  # fmt: skip
    """The caller may do `action` as S3 decides it (its policies, the bucket's), or
    Lambda's AccessDeniedException."""
    try:
        lc.access.authorize(ctx, action, resource, resource_policies=policies)
    except AwsError:
        raise AwsError(
            "AccessDeniedException",
            "Your access has been denied by S3, please make sure your request credentials "
            f"have permission to GetObject for {bucket}/{key}. S3 Error Code: AccessDenied. "
            "S3 Error Message: Access Denied",
            403,
        ) from None
