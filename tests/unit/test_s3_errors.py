"""The object store's typed failures and the one table that turns them into S3's errors.

Codes, statuses and texts are S3's own (S3 API reference, "Error responses", list of
error codes: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
"""

from __future__ import annotations

import pytest

from cove.services.s3.errors import WIRE_ERRORS, store_error
from cove.storage.s3.errors import StoreError, StoreFailure, no_such_bucket, no_such_upload


@pytest.mark.parametrize("failure", list(StoreFailure), ids=lambda f: f.name)
def test_every_store_failure_has_an_s3_error(failure: StoreFailure) -> None:
    wire = WIRE_ERRORS[failure]
    assert wire.code and wire.message and 400 <= wire.status < 500


def test_details_name_what_failed_in_the_error_body() -> None:
    err = store_error(no_such_bucket("models"))
    assert (err.code, err.status, err.fields) == ("NoSuchBucket", 404, {"BucketName": "models"})
    err = store_error(no_such_upload("u-1"))
    assert (err.code, err.status, err.fields) == ("NoSuchUpload", 404, {"UploadId": "u-1"})


def test_details_that_fill_in_the_message_stay_out_of_the_body() -> None:
    err = store_error(StoreError(StoreFailure.SIZE_MISMATCH, ObjectSize="10", ComputedSize="9"))
    assert err.code == "InvalidRequest"
    assert err.message == (
        "The provided 'x-amz-mp-object-size' header value 10 does not match what was computed: 9"
    )
    assert err.fields == {}
    err = store_error(StoreError(StoreFailure.CHECKSUM_MISMATCH, Algorithm="CRC32"))
    assert (err.code, err.message) == (
        "BadDigest",
        "The CRC32 you specified did not match the calculated checksum.",
    )
