"""A function's code as CreateFunction and UpdateFunctionCode take it: the zip's bytes
(`ZipFile`), or an object of Cove's object store (`S3Bucket`/`S3Key`), read as Lambda
reads it and refused with the S3 error Lambda relays."""

from __future__ import annotations

from typing import Any

from cove.errors import AwsError
from cove.functions.model import CodeRef
from cove.services.lambda_.context import LambdaContext
from cove.services.lambda_.errors import invalid
from cove.storage.s3.errors import StoreError, StoreFailure

_S3_TEXTS = {
    StoreFailure.NO_SUCH_BUCKET: ("NoSuchBucket", "The specified bucket does not exist"),
    StoreFailure.NO_SUCH_KEY: ("NoSuchKey", "The specified key does not exist."),
}


def package(lc: LambdaContext, code: dict[str, Any]) -> CodeRef:
    if code.get("ZipFile") is not None:
        data = code["ZipFile"]
    elif code.get("S3Bucket") and code.get("S3Key"):
        data = _from_s3(lc, code["S3Bucket"], code["S3Key"])
    elif code.get("ImageUri"):
        raise invalid("Cove runs .zip deployment packages only; ImageUri is not supported.")
    else:
        raise invalid("Please provide a source for function code.")
    return lc.store.packages.add(data)


def _from_s3(lc: LambdaContext, bucket: str, key: str) -> bytes:
    try:
        return lc.objects.read_object(bucket, key)[1]
    except StoreError as exc:
        code, text = _S3_TEXTS.get(exc.failure, (exc.failure.name, "Access Denied"))
        raise AwsError(
            "InvalidParameterValueException",
            f"Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {text}",
        ) from None
