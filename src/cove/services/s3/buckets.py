"""S3 bucket operations: create, head, delete, list buckets, location, and the listings."""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from cove.errors import AwsError
from cove.protocol.rest_xml import DECLARATION
from cove.services.s3.call import S3_NS, Reply, S3Call, owner, quoted
from cove.storage.s3.errors import StoreError, StoreFailure
from cove.storage.s3.objects import ListPage, ObjectInfo, ObjectStore

Encoder = Callable[[str], str]
DEFAULT_REGION = "us-east-1"
MAX_KEYS = 1000
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(name: str) -> None:
    if (
        not _NAME.match(name)
        or ".." in name
        or _IP.match(name)
        or name.startswith(_RESERVED_PREFIXES)
        or name.endswith(_RESERVED_SUFFIXES)
    ):
        raise AwsError(
            "InvalidBucketName", "The specified bucket is not valid.", fields={"BucketName": name}
        )


def create_bucket(call: S3Call, store: ObjectStore) -> Reply:
    bucket = call.input["Bucket"]
    check_bucket_name(bucket)
    region = DEFAULT_REGION
    constraint = (call.document() or {}).get("LocationConstraint")
    if constraint == DEFAULT_REGION:
        raise AwsError(
            "InvalidLocationConstraint",
            "The specified location-constraint is not valid",
            fields={"LocationConstraint": constraint},
        )
    if constraint:
        region = "eu-west-1" if constraint == "EU" else constraint
    try:
        store.create_bucket(bucket, region, call.account)
    except StoreError as err:
        # S3 keeps answering 200 to an owner re-creating a bucket in us-east-1 (legacy).
        legacy = region == store.get_bucket(bucket).region == DEFAULT_REGION
        if err.failure is not StoreFailure.BUCKET_ALREADY_OWNED or not legacy:
            raise
    return Reply({"Location": f"/{bucket}"})


def head_bucket(call: S3Call, store: ObjectStore) -> Reply:
    bucket = store.get_bucket(call.input["Bucket"])
    return Reply({"BucketRegion": bucket.region, "AccessPointAlias": False})


def delete_bucket(call: S3Call, store: ObjectStore) -> Reply:
    store.delete_bucket(call.input["Bucket"])
    return Reply()


def get_bucket_location(call: S3Call, store: ObjectStore) -> Reply:
    region = store.get_bucket(call.input["Bucket"]).region
    # us-east-1 is the empty location constraint, for historical reasons
    return Reply(document=_location_document("" if region == DEFAULT_REGION else region))


def _location_document(constraint: str) -> bytes:
    """GetBucketLocation's document is its one member as the root's text, a form the
    model cannot describe (botocore reads it by hand: parse_get_bucket_location)."""
    elem = ET.Element("LocationConstraint", {"xmlns": S3_NS})
    elem.text = constraint
    return DECLARATION + ET.tostring(elem, encoding="utf-8")


def get_bucket_versioning(call: S3Call, store: ObjectStore) -> Reply:
    store.get_bucket(call.input["Bucket"])
    return Reply()  # never enabled: no Status


def list_buckets(call: S3Call, store: ObjectStore) -> Reply:
    inp = call.input
    prefix = inp.get("Prefix", "")
    region = inp.get("BucketRegion")
    limit = call.count("MaxBuckets", 10_000, 10_000)
    after = _decode_token(inp.get("ContinuationToken"))
    buckets = [
        b
        for b in store.list_buckets()
        if b.name.startswith(prefix) and b.name > after and (region is None or b.region == region)
    ]
    page, rest = buckets[:limit], buckets[limit:]
    output: dict[str, Any] = {
        "Buckets": [
            {"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region} for b in page
        ],
        "Owner": owner(call.account),
    }
    if rest:
        output["ContinuationToken"] = _encode_token(page[-1].name)
    if "Prefix" in inp:
        output["Prefix"] = prefix
    return Reply(output)


# -- listings ------------------------------------------------------------------------------


def list_objects_v2(call: S3Call, store: ObjectStore) -> Reply:
    inp = call.input
    encode = call.encoder()
    bucket, prefix, delimiter = inp["Bucket"], inp.get("Prefix", ""), inp.get("Delimiter", "")
    max_keys = call.count("MaxKeys", MAX_KEYS, MAX_KEYS)
    token = inp.get("ContinuationToken")
    start_after = inp.get("StartAfter", "")
    after = _decode_token(token) if token is not None else start_after
    page = store.list_objects(bucket, prefix, delimiter, after, max_keys)
    output: dict[str, Any] = {
        "Name": bucket,
        "Prefix": encode(prefix),
        "KeyCount": len(page.contents) + len(page.prefixes),
        "MaxKeys": max_keys,
    }
    if delimiter:
        output["Delimiter"] = encode(delimiter)
    output["IsTruncated"] = page.truncated
    if token is not None:
        output["ContinuationToken"] = token
    if page.truncated and page.last is not None:
        output["NextContinuationToken"] = _encode_token(page.last)
    if start_after:
        output["StartAfter"] = encode(start_after)
    output |= _entries(call, page, encode, bool(inp.get("FetchOwner")))
    if inp.get("EncodingType"):
        output["EncodingType"] = inp["EncodingType"]
    return Reply(output)


def list_objects(call: S3Call, store: ObjectStore) -> Reply:
    inp = call.input
    encode = call.encoder()
    bucket, prefix, delimiter = inp["Bucket"], inp.get("Prefix", ""), inp.get("Delimiter", "")
    marker = inp.get("Marker", "")
    max_keys = call.count("MaxKeys", MAX_KEYS, MAX_KEYS)
    page = store.list_objects(bucket, prefix, delimiter, marker, max_keys)
    output: dict[str, Any] = {
        "Name": bucket,
        "Prefix": encode(prefix),
        "Marker": encode(marker),
        "MaxKeys": max_keys,
    }
    if delimiter:
        output["Delimiter"] = encode(delimiter)
    output["IsTruncated"] = page.truncated
    # S3 only sends NextMarker with a delimiter; otherwise clients continue from the last key
    if page.truncated and delimiter and page.last is not None:
        output["NextMarker"] = encode(page.last)
    output |= _entries(call, page, encode, True)
    if inp.get("EncodingType"):
        output["EncodingType"] = inp["EncodingType"]
    return Reply(output)


def _entries(call: S3Call, page: ListPage, encode: Encoder, with_owner: bool) -> dict[str, Any]:
    return {
        "Contents": [_content(call, obj, encode, with_owner) for obj in page.contents],
        "CommonPrefixes": [{"Prefix": encode(p)} for p in page.prefixes],
    }


def _content(call: S3Call, obj: ObjectInfo, encode: Encoder, with_owner: bool) -> dict[str, Any]:
    content: dict[str, Any] = {
        "Key": encode(obj.key),
        "LastModified": obj.last_modified,
        "ETag": quoted(obj.etag),
        "ChecksumAlgorithm": list(obj.meta.checksums),
        "ChecksumType": obj.meta.checksum_type or None,
        "Size": obj.size,
        "StorageClass": "STANDARD",
    }
    if with_owner:
        content["Owner"] = owner(call.account)
    return content


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(after.encode()).decode("ascii")


def _decode_token(token: str | None) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise AwsError(
            "InvalidArgument",
            "The continuation token provided is incorrect",
            fields={"ArgumentName": "continuation-token"},
        ) from exc
