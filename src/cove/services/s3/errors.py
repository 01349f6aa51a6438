"""The object store's failures as S3 answers them: code, HTTP status and message, from the
S3 API reference's list of error codes
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList)."""

from __future__ import annotations

from dataclasses import dataclass

from cove.errors import AwsError
from cove.storage.s3.errors import StoreError, StoreFailure


@dataclass(frozen=True)
class WireError:
    code: str
    status: int
    message: str  # formatted with the failure's details


WIRE_ERRORS: dict[StoreFailure, WireError] = {
    StoreFailure.NO_SUCH_BUCKET: WireError(
        "NoSuchBucket", 404, "The specified bucket does not exist"
    ),
    StoreFailure.NO_SUCH_KEY: WireError("NoSuchKey", 404, "The specified key does not exist."),
    StoreFailure.NO_SUCH_BUCKET_POLICY: WireError(
        "NoSuchBucketPolicy", 404, "The bucket policy does not exist"
    ),
    StoreFailure.NO_SUCH_UPLOAD: WireError(
        "NoSuchUpload",
        404,
        "The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed.",
    ),
    StoreFailure.BUCKET_TAKEN: WireError(
        "BucketAlreadyExists",
        409,
        "The requested bucket name is not available. The bucket namespace is shared by all "
        "users of the system. Please select a different name and try again.",
    ),
    StoreFailure.BUCKET_ALREADY_OWNED: WireError(
        "BucketAlreadyOwnedByYou",
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
    ),
    StoreFailure.BUCKET_NOT_EMPTY: WireError(
        "BucketNotEmpty", 409, "The bucket you tried to delete is not empty"
    ),
    StoreFailure.KEY_EXISTS: WireError(
        "PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold"
    ),
    StoreFailure.EMPTY_KEY: WireError("InvalidArgument", 400, "Key must not be empty"),
    StoreFailure.KEY_TOO_LONG: WireError("KeyTooLongError", 400, "Your key is too long"),
    StoreFailure.SIZE_MISMATCH: WireError(
        "InvalidRequest",
        400,
        "The provided 'x-amz-mp-object-size' header value {ObjectSize} does not match what "
        "was computed: {ComputedSize}",
    ),
    StoreFailure.CHECKSUM_MISMATCH: WireError(
        "BadDigest", 400, "The {Algorithm} you specified did not match the calculated checksum."
    ),
    StoreFailure.PARTS_OUT_OF_ORDER: WireError(
        "InvalidPartOrder",
        400,
        "The list of parts was not in ascending order. Parts must be ordered by part number.",
    ),
    StoreFailure.PART_NOT_FOUND: WireError(
        "InvalidPart",
        400,
        "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag.",
    ),
    StoreFailure.PART_TOO_SMALL: WireError(
        "EntityTooSmall",
        400,
        "Your proposed upload is smaller than the minimum allowed object size.",
    ),
}

# Details that only fill in the message; the rest travel as members of the error body.
_MESSAGE_ONLY = frozenset({"ObjectSize", "ComputedSize", "Algorithm"})


def store_error(err: StoreError) -> AwsError:
    wire = WIRE_ERRORS[err.failure]
    fields = {k: v for k, v in err.details.items() if k not in _MESSAGE_ONLY}
    return AwsError(wire.code, wire.message.format(**err.details), wire.status, fields=fields)
