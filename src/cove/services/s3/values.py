"""How S3 takes header and query values that botocore's model types more strictly than S3
reads them: the rest binding's `verbatim` members and its InvalidValue answer for S3.

- Expires is stored as the client sent it and answered so (S3 keeps any text; botocore
  reads the answer into ExpiresString when it is no date), and `response-expires`
  overrides that header with the text given;
- a count (max-keys, max-parts, ...) that is no integer is InvalidArgument naming the
  parameter, an empty one the default;
- a partNumber that is no integer is GetObject's InvalidPartNumber (416) and
  UploadPart's InvalidArgument;
- If-Modified-Since and If-Unmodified-Since that are no HTTP-date are ignored (RFC 9110
  section 13.1.3 and 13.1.4: a recipient MUST ignore an invalid date);
- x-amz-mp-object-size that is no integer is InvalidRequest;
- any other member Cove reads nothing from is left out, as Cove ignores it anyway.
"""

from __future__ import annotations

from typing import Any

from cove.errors import AwsError
from cove.protocol.rest import InvalidValue
from cove.storage.s3.uploads import MAX_PART_NUMBER

VERBATIM = frozenset({"Expires", "ResponseExpires"})
COUNTS = frozenset({"MaxKeys", "MaxBuckets", "MaxParts", "MaxUploads", "PartNumberMarker"})
_PART_READS = frozenset({"GetObject", "HeadObject"})


def invalid_count(wire: str, text: str) -> AwsError:
    return AwsError(
        "InvalidArgument",
        f"Provided {wire} not an integer or within integer range",
        fields={"ArgumentName": wire, "ArgumentValue": text},
    )


def invalid_part_number(text: str) -> AwsError:
    """A part of an upload (UploadPart, UploadPartCopy) no upload can have."""
    return AwsError(
        "InvalidArgument",
        f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
        fields={"ArgumentName": "partNumber", "ArgumentValue": text},
    )


def unsatisfiable_part(text: str) -> AwsError:
    """A part of an object (GetObject, HeadObject) the object does not have."""
    return AwsError(
        "InvalidPartNumber",
        "The requested partnumber is not satisfiable",
        416,
        fields={"PartNumberRequested": text},
    )


def invalid_object_size() -> AwsError:
    return AwsError("InvalidRequest", "Value for x-amz-mp-object-size header is invalid.")


def invalid_value(operation: str) -> InvalidValue:
    """The InvalidValue answer of one S3 operation."""

    def answer(member: str, wire: str, text: str) -> Any:
        if member in COUNTS:
            if text == "":
                return None
            raise invalid_count(wire, text)
        if member == "PartNumber":
            if operation in _PART_READS:
                raise unsatisfiable_part(text)
            raise invalid_part_number(text)
        if member == "MpuObjectSize":
            raise invalid_object_size()
        return None  # If-(Un)Modified-Since, and the members Cove reads nothing from

    return answer
