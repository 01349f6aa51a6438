"""S3 object operations: put, get, head, delete, copy and batch delete."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from cove.errors import AwsError
from cove.http.header_values import is_field_value
from cove.http.messages import FileBody
from cove.services.s3.call import Reply, S3Call, decode_path, malformed_xml, quoted
from cove.services.s3.errors import store_error
from cove.services.s3.payload import Payload
from cove.services.s3.values import unsatisfiable_part
from cove.storage.s3.errors import StoreError
from cove.storage.s3.objects import BlobWriter, ObjectInfo, ObjectMeta, ObjectStore

MAX_OBJECT_SIZE = 5 * 1024**3
# Headers S3 stores with an object and returns on GET/HEAD: the stored name -> member.
STORED_HEADERS = {
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
    "expires": "Expires",
}
_STORED_BY_MEMBER = {member: header for header, member in STORED_HEADERS.items()}
# GetObject's response-* overrides -> the output member each replaces
_RESPONSE_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseExpires": "Expires",
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
}
BYTE_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")


def object_meta(inp: Mapping[str, Any]) -> ObjectMeta:
    """What the request says about the object besides its bytes (stored by header name,
    in the order the request gave them)."""
    meta = ObjectMeta(content_type=inp.get("ContentType") or "binary/octet-stream")
    meta.user.update(inp.get("Metadata", {}))
    for member, value in inp.items():
        header = _STORED_BY_MEMBER.get(member)
        if header is not None:
            meta.headers[header] = value
    encodings = [e.strip() for e in meta.headers.get("content-encoding", "").split(",")]
    encodings = [e for e in encodings if e and e != "aws-chunked"]
    if encodings:
        meta.headers["content-encoding"] = ",".join(encodings)
    else:
        meta.headers.pop("content-encoding", None)
    return meta


def check_size(size: int, limit: int = MAX_OBJECT_SIZE) -> None:
    if size > limit:
        raise AwsError(
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            fields={"ProposedSize": size, "MaxSizeAllowed": limit},
        )


@contextlib.contextmanager
def staged_body(store: ObjectStore, payload: Payload, extra: list[str]) -> Iterator[BlobWriter]:
    """The decoded body written to a staged blob with its digests; the caller verifies and
    commits it, or it is discarded."""
    with store.stage([*payload.algorithms(), *extra]) as blob:
        for chunk in payload.chunks:
            blob.write(chunk)
        yield blob


def checksum_members(meta: ObjectMeta) -> dict[str, str]:
    """The object's checksums as output members (ChecksumCRC32, ..., ChecksumType)."""
    members = {f"Checksum{alg}": value for alg, value in meta.checksums.items()}
    if meta.checksum_type and meta.checksums:
        members["ChecksumType"] = meta.checksum_type
    return members


def put_object(call: S3Call, store: ObjectStore) -> Reply:
    inp = call.input
    bucket, key = inp["Bucket"], inp["Key"]
    store.get_bucket(bucket)  # fail before storing bytes for nothing
    payload = call.payload()
    check_size(payload.size)
    meta = object_meta(inp)
    with staged_body(store, payload, []) as blob:
        check_size(blob.size)  # a streamed body is counted as it is written
        payload.verify(blob.hashers)
        if payload.algorithm:
            meta.checksums = {payload.algorithm: blob.hashers.b64(payload.algorithm)}
            meta.checksum_type = "FULL_OBJECT"
        info = store.put_object(bucket, key, blob, meta, if_none_match=_if_none_match_star(inp))
    return Reply({"ETag": quoted(info.etag), **checksum_members(meta)})


def _if_none_match_star(inp: Mapping[str, Any]) -> bool:
    value = inp.get("IfNoneMatch")
    if value is None:
        return False
    if value.strip() != "*":
        raise AwsError("NotImplemented", "If-None-Match only supports '*' on writes", 501)
    return True


STREAM_FROM = 1 << 20  # bodies larger than this are streamed from the object's file


def get_object(call: S3Call, store: ObjectStore, head: bool = False) -> Reply:
    inp = call.input
    with store.open_object(inp["Bucket"], inp["Key"]) as (info, fh):
        not_modified = _check_conditions(inp, info)
        output = _object_output(call, info)
        if not_modified:
            return Reply({"ETag": output["ETag"], "LastModified": output["LastModified"]}, 304)
        span = _span(inp, info)
        status = 200
        if span is not None:
            start, end = span
            status = 206
            output["ContentRange"] = f"bytes {start}-{end}/{info.size}"
            if "PartNumber" in inp:
                output["PartsCount"] = len(info.meta.part_sizes or [1])
        else:
            start, end = 0, info.size - 1
            if (inp.get("ChecksumMode") or "").upper() == "ENABLED":
                output |= checksum_members(info.meta)
        length = max(0, end - start + 1)
        output["ContentLength"] = length
        if head:
            return Reply(output, status)
        if length > STREAM_FROM:  # sent as the client reads it, never held whole
            own = os.fdopen(os.dup(fh.fileno()), "rb")  # outlives this `with`
            output["Body"] = FileBody(own, start, length)
        else:
            fh.seek(start)
            output["Body"] = fh.read(length)
        return Reply(output, status)


def head_object(call: S3Call, store: ObjectStore) -> Reply:
    return get_object(call, store, head=True)


def _object_output(call: S3Call, info: ObjectInfo) -> dict[str, Any]:
    meta = info.meta
    output: dict[str, Any] = {
        "ContentType": meta.content_type,
        "ETag": quoted(info.etag),
        "LastModified": info.last_modified,
        "AcceptRanges": "bytes",
    }
    for header, value in meta.headers.items():
        output[STORED_HEADERS[header]] = value
    if meta.user:
        output["Metadata"] = dict(meta.user)
    assert call.binding is not None
    for param, member in _RESPONSE_OVERRIDES.items():
        value = call.input.get(param)
        if value is not None:  # in place of what the object has, or added
            output[member] = _override_value(call.binding.wire_name(param), value)
    return output


def _override_value(param: str, value: str) -> str:
    """A response-* override as a header value, refused as S3 refuses what a header
    cannot carry; a CR or LF would otherwise start a header of the caller's choosing."""
    if not value.isascii() and any(ord(c) > 0xFF for c in value):
        message = "Header value cannot be represented using ISO-8859-1."
    elif not is_field_value(value):
        message = "Header value contains characters that are not allowed."
    else:
        return value
    raise AwsError(
        "InvalidArgument",
        message,
        fields={"ArgumentName": param, "ArgumentValue": value[:256]},
    )


def _byte_pos(digits: str) -> int:
    """A Range position; past any object's size when too long to be one (int() of a
    5,000-digit string is refused by Python, and no object has 20 digits of bytes)."""
    return int(digits) if len(digits) <= 19 else 1 << 63


def _span(inp: Mapping[str, Any], info: ObjectInfo) -> tuple[int, int] | None:
    """The inclusive byte span asked for by Range or partNumber; None for the whole object."""
    part = inp.get("PartNumber")
    if part is not None:
        sizes = info.meta.part_sizes or [info.size]
        if not 1 <= part <= len(sizes):
            raise unsatisfiable_part(str(part))
        start = sum(sizes[: part - 1])
        return (start, start + sizes[part - 1] - 1) if info.meta.part_sizes else None
    header = inp.get("Range")
    if not header:
        return None
    match = BYTE_RANGE.match(header.strip().replace(" ", ""))
    if match is None or match.groups() == ("", ""):
        return None  # S3 ignores a Range it cannot parse (multiple ranges included)
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        start, end = max(0, info.size - _byte_pos(last)), info.size - 1
        if _byte_pos(last) == 0:
            raise _invalid_range(header, info.size)
    else:
        start = _byte_pos(first)
        end = min(_byte_pos(last), info.size - 1) if last else info.size - 1
        if last and _byte_pos(last) < start:
            return None
    if start >= info.size:
        raise _invalid_range(header, info.size)
    return start, end


def _invalid_range(header: str, size: int) -> AwsError:
    return AwsError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        fields={"RangeRequested": header[:256], "ActualObjectSize": size},
    )


def _check_conditions(inp: Mapping[str, Any], info: ObjectInfo) -> bool:
    """Raise PreconditionFailed, or return True for 304 Not Modified, as S3 evaluates them
    (dates to the second, as HTTP-dates carry them)."""
    modified = int(info.last_modified)
    if_match = inp.get("IfMatch")
    if if_match is not None:
        if not _etag_matches(if_match, info.etag):
            raise _precondition_failed("If-Match")
    else:
        since = _seconds(inp.get("IfUnmodifiedSince"))
        if since is not None and modified > since:
            raise _precondition_failed("If-Unmodified-Since")
    if_none_match = inp.get("IfNoneMatch")
    if if_none_match is not None:
        return _etag_matches(if_none_match, info.etag)
    since = _seconds(inp.get("IfModifiedSince"))
    return since is not None and modified <= since


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [c.strip().removeprefix("W/").strip('"') for c in header.split(",")]
    return "*" in candidates or etag in candidates


def _seconds(when: dt.datetime | None) -> int | None:
    return None if when is None else int(when.timestamp())


def _precondition_failed(condition: str) -> AwsError:
    return AwsError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": condition},
    )


def delete_object(call: S3Call, store: ObjectStore) -> Reply:
    store.delete_object(call.input["Bucket"], call.input["Key"])
    return Reply()


def copy_source(value: str, wire: str = "x-amz-copy-source") -> tuple[str, str]:
    """The bucket and key a CopySource member names (`bucket/key`, percent-encoded,
    optionally with a leading slash and a `?versionId=`)."""
    source = decode_path(value.split("?", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise AwsError(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            fields={"ArgumentName": wire, "ArgumentValue": value},
        )
    return bucket, key


def copy_object(call: S3Call, store: ObjectStore) -> Reply:
    inp = call.input
    bucket, key = inp["Bucket"], inp["Key"]
    src_bucket, src_key = copy_source(inp["CopySource"])
    directive = (inp.get("MetadataDirective") or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise AwsError("InvalidArgument", "Unknown metadata directive.")
    if (src_bucket, src_key) == (bucket, key) and directive == "COPY":
        raise AwsError(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect location "
            "or encryption attributes.",
        )
    meta = object_meta(inp) if directive == "REPLACE" else None
    info = store.copy_object(src_bucket, src_key, bucket, key, meta)
    result = {"LastModified": info.last_modified, "ETag": quoted(info.etag)}
    result |= {f"Checksum{alg}": value for alg, value in info.meta.checksums.items()}
    return Reply({"CopyObjectResult": result})


def delete_objects(call: S3Call, store: ObjectStore) -> Reply:
    delete = call.document()
    objects = (delete or {}).get("Objects", [])
    if not objects or len(objects) > 1000 or any("Key" not in o for o in objects):
        raise malformed_xml()
    quiet = bool(delete.get("Quiet"))
    bucket = call.input["Bucket"]
    store.get_bucket(bucket)
    may_delete = call.may_act_on
    assert may_delete is not None  # the service authorizes DeleteObjects per key
    deleted: list[dict[str, str]] = []
    errors: list[dict[str, str]] = []
    for key in (o["Key"] for o in objects):
        if not may_delete(key):
            # S3's words for every refused key, whoever asks, quiet or not
            errors.append({"Key": key, "Code": "AccessDenied", "Message": "Access Denied"})
            continue
        try:
            store.delete_object(bucket, key)
        except StoreError as err:
            wire = store_error(err)
            errors.append({"Key": key, "Code": wire.code, "Message": wire.message})
            continue
        if not quiet:
            deleted.append({"Key": key})
    return Reply({"Deleted": deleted, "Errors": errors})
