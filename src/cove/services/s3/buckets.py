"""S3 bucket operations: create, head, delete, list buckets, location, and the listings."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from cove.errors import AwsError
from cove.http.messages import Response
from cove.services.s3.call import XML, S3Call, owner, quoted, respond, xml_response
from cove.services.s3.xml_docs import Node, parse, render, text
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


def create_bucket(call: S3Call, store: ObjectStore) -> Response:
    check_bucket_name(call.bucket)
    region = DEFAULT_REGION
    body = call.payload().verified_bytes()
    if body.strip():
        constraint = text(parse(body), "LocationConstraint")
        if constraint == DEFAULT_REGION:
            raise AwsError(
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
                fields={"LocationConstraint": constraint},
            )
        if constraint:
            region = "eu-west-1" if constraint == "EU" else constraint
    try:
        store.create_bucket(call.bucket, region, call.account)
    except StoreError as err:
        # S3 keeps answering 200 to an owner re-creating a bucket in us-east-1 (legacy).
        legacy = region == store.get_bucket(call.bucket).region == DEFAULT_REGION
        if err.failure is not StoreFailure.BUCKET_ALREADY_OWNED or not legacy:
            raise
    return respond(call, headers=[("Location", f"/{call.bucket}")])


def head_bucket(call: S3Call, store: ObjectStore) -> Response:
    bucket = store.get_bucket(call.bucket)
    return respond(
        call,
        headers=[("x-amz-bucket-region", bucket.region), ("x-amz-access-point-alias", "false")],
    )


def delete_bucket(call: S3Call, store: ObjectStore) -> Response:
    store.delete_bucket(call.bucket)
    return respond(call, 204)


def get_bucket_location(call: S3Call, store: ObjectStore) -> Response:
    region = store.get_bucket(call.bucket).region
    # us-east-1 is the empty location constraint, for historical reasons
    value = "" if region == DEFAULT_REGION else region
    body = render("LocationConstraint", [], text=value)
    return respond(call, headers=[("Content-Type", XML)], body=body)


def get_bucket_versioning(call: S3Call, store: ObjectStore) -> Response:
    store.get_bucket(call.bucket)
    return xml_response(call, "VersioningConfiguration", [])  # never enabled


def list_buckets(call: S3Call, store: ObjectStore) -> Response:
    prefix = call.query.get("prefix", "")
    region = call.query.get("bucket-region")
    limit = call.int_param("max-buckets", 10_000, 10_000)
    after = _decode_token(call.query.get("continuation-token"))
    buckets = [
        b
        for b in store.list_buckets()
        if b.name.startswith(prefix) and b.name > after and (region is None or b.region == region)
    ]
    page, rest = buckets[:limit], buckets[limit:]
    nodes: list[Node] = [
        ("Bucket", [("Name", b.name), ("CreationDate", b.created), ("BucketRegion", b.region)])
        for b in page
    ]
    children: list[Node] = [("Buckets", nodes), ("Owner", owner(call.account))]
    if rest:
        children.append(("ContinuationToken", _encode_token(page[-1].name)))
    if "prefix" in call.query:
        children.append(("Prefix", prefix))
    return xml_response(call, "ListAllMyBucketsResult", children)


# -- listings ------------------------------------------------------------------------------


def list_objects_v2(call: S3Call, store: ObjectStore) -> Response:
    q = call.query
    encode = call.encoder()
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    max_keys = call.int_param("max-keys", MAX_KEYS, MAX_KEYS)
    token = q.get("continuation-token")
    start_after = q.get("start-after", "")
    after = _decode_token(token) if token is not None else start_after
    page = store.list_objects(call.bucket, prefix, delimiter, after, max_keys)
    children: list[Node] = [
        ("Name", call.bucket),
        ("Prefix", encode(prefix)),
        ("KeyCount", len(page.contents) + len(page.prefixes)),
        ("MaxKeys", max_keys),
    ]
    if delimiter:
        children.append(("Delimiter", encode(delimiter)))
    children.append(("IsTruncated", page.truncated))
    if token is not None:
        children.append(("ContinuationToken", token))
    if page.truncated and page.last is not None:
        children.append(("NextContinuationToken", _encode_token(page.last)))
    if start_after:
        children.append(("StartAfter", encode(start_after)))
    fetch_owner = q.get("fetch-owner") == "true"
    children += _entries(call, page, encode, fetch_owner)
    if q.get("encoding-type"):
        children.append(("EncodingType", q["encoding-type"]))
    return xml_response(call, "ListBucketResult", children)


def list_objects(call: S3Call, store: ObjectStore) -> Response:
    q = call.query
    encode = call.encoder()
    prefix, delimiter, marker = q.get("prefix", ""), q.get("delimiter", ""), q.get("marker", "")
    max_keys = call.int_param("max-keys", MAX_KEYS, MAX_KEYS)
    page = store.list_objects(call.bucket, prefix, delimiter, marker, max_keys)
    children: list[Node] = [
        ("Name", call.bucket),
        ("Prefix", encode(prefix)),
        ("Marker", encode(marker)),
        ("MaxKeys", max_keys),
    ]
    if delimiter:
        children.append(("Delimiter", encode(delimiter)))
    children.append(("IsTruncated", page.truncated))
    # S3 only sends NextMarker with a delimiter; otherwise clients continue from the last key
    if page.truncated and delimiter and page.last is not None:
        children.append(("NextMarker", encode(page.last)))
    children += _entries(call, page, encode, True)
    if q.get("encoding-type"):
        children.append(("EncodingType", q["encoding-type"]))
    return xml_response(call, "ListBucketResult", children)


def _entries(call: S3Call, page: ListPage, encode: Encoder, with_owner: bool) -> list[Node]:
    nodes: list[Node] = [
        ("Contents", _content(call, obj, encode, with_owner)) for obj in page.contents
    ]
    nodes += [("CommonPrefixes", [("Prefix", encode(p))]) for p in page.prefixes]
    return nodes


def _content(call: S3Call, obj: ObjectInfo, encode: Encoder, with_owner: bool) -> list[Node]:
    node: list[Node] = [
        ("Key", encode(obj.key)),
        ("LastModified", obj.last_modified),
        ("ETag", quoted(obj.etag)),
    ]
    node += [("ChecksumAlgorithm", alg) for alg in obj.meta.checksums]
    if obj.meta.checksum_type:
        node.append(("ChecksumType", obj.meta.checksum_type))
    node += [("Size", obj.size), ("StorageClass", "STANDARD")]
    if with_owner:
        node.append(("Owner", owner(call.account)))
    return node


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
