"""Why an object-store call failed, typed; the S3 front end maps each to S3's wire error
in one table (cove.services.s3.errors)."""

from __future__ import annotations

from enum import Enum, auto


class StoreFailure(Enum):
    NO_SUCH_BUCKET = auto()
    NO_SUCH_KEY = auto()
    NO_SUCH_UPLOAD = auto()
    NO_SUCH_BUCKET_POLICY = auto()
    BUCKET_TAKEN = auto()  # another account owns the name
    BUCKET_ALREADY_OWNED = auto()
    BUCKET_NOT_EMPTY = auto()
    KEY_EXISTS = auto()  # a conditional write (If-None-Match: *) found the key
    EMPTY_KEY = auto()
    KEY_TOO_LONG = auto()
    SIZE_MISMATCH = auto()  # the declared object size is not the parts' total
    CHECKSUM_MISMATCH = auto()
    PARTS_OUT_OF_ORDER = auto()
    PART_NOT_FOUND = auto()  # not uploaded, or not with that ETag or checksum
    PART_TOO_SMALL = auto()


class StoreError(Exception):
    """`failure` says what went wrong; `details` name the bucket, key, part or sizes
    involved, as S3 reports them beside its error."""

    def __init__(self, failure: StoreFailure, **details: str) -> None:
        super().__init__(f"{failure.name} {details}")
        self.failure = failure
        self.details = details


def no_such_bucket(name: str) -> StoreError:
    return StoreError(StoreFailure.NO_SUCH_BUCKET, BucketName=name)


def no_such_key(key: str) -> StoreError:
    return StoreError(StoreFailure.NO_SUCH_KEY, Key=key)


def no_such_upload(upload_id: str) -> StoreError:
    return StoreError(StoreFailure.NO_SUCH_UPLOAD, UploadId=upload_id)
