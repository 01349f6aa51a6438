"""S3's rules for header and query values the model types more strictly than S3 reads
them (services/s3/values.py), through the bindings S3 registers. Codes and texts are
S3's (S3 API reference, "Error responses"; RFC 9110 13.1.3-4 for invalid dates)."""

from __future__ import annotations

import pytest

from cove.errors import AwsError
from cove.protocol.rest import OperationBinding
from cove.protocol.shapes import service_model
from cove.services.s3.values import VERBATIM, invalid_value


def parse(operation: str, query: dict[str, str], headers: dict[str, str] | None = None) -> dict:
    binding = OperationBinding(
        service_model("s3").operation_model(operation),
        verbatim=VERBATIM,
        invalid=invalid_value(operation),
    )
    labels = {"Bucket": "b", "Key": "k"}
    return binding.parse(labels, {k: [v] for k, v in query.items()}, headers or {})


def error_of(
    operation: str, query: dict[str, str], headers: dict[str, str] | None = None
) -> AwsError:
    with pytest.raises(AwsError) as caught:
        parse(operation, query, headers)
    return caught.value


@pytest.mark.parametrize(("operation", "key"), [
    ("ListObjectsV2", "max-keys"), ("ListBuckets", "max-buckets"), ("ListParts", "max-parts"),
    ("ListParts", "part-number-marker"), ("ListMultipartUploads", "max-uploads"),
])
def test_a_count_that_is_no_integer(operation: str, key: str) -> None:
    err = error_of(operation, {key: "ten", "uploadId": "u"})
    assert (err.code, err.message) == (
        "InvalidArgument", f"Provided {key} not an integer or within integer range"
    )
    assert err.fields == {"ArgumentName": key, "ArgumentValue": "ten"}
    assert "MaxKeys" not in parse(operation, {key: "", "uploadId": "u"})  # the default


def test_a_part_number_that_is_no_integer() -> None:
    err = error_of("GetObject", {"partNumber": "x"})
    assert (err.code, err.status, err.fields) == (
        "InvalidPartNumber", 416, {"PartNumberRequested": "x"}
    )
    err = error_of("UploadPart", {"partNumber": "x", "uploadId": "u"})
    assert (err.code, err.status) == ("InvalidArgument", 400)
    assert err.fields == {"ArgumentName": "partNumber", "ArgumentValue": "x"}


def test_invalid_dates_are_ignored_and_expires_is_kept_as_sent() -> None:
    parsed = parse("GetObject", {"response-expires": "whenever"},
                   {"if-modified-since": "yesterday", "if-unmodified-since": "never"})
    assert parsed == {"Bucket": "b", "Key": "k", "ResponseExpires": "whenever"}
    assert parse("PutObject", {}, {"expires": "soon"})["Expires"] == "soon"


def test_an_object_size_that_is_no_integer() -> None:
    err = error_of("CompleteMultipartUpload", {"uploadId": "u"}, {"x-amz-mp-object-size": "x"})
    assert (err.code, err.message) == (
        "InvalidRequest", "Value for x-amz-mp-object-size header is invalid."
    )


def test_what_cove_reads_nothing_from_is_left_out() -> None:
    headers = {"x-amz-server-side-encryption-bucket-key-enabled": "yes",
               "x-amz-object-lock-retain-until-date": "soon"}
    assert parse("PutObject", {}, headers) == {"Bucket": "b", "Key": "k"}
