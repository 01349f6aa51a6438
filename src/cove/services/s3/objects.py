"""S3 object operations: put, get, head, delete, copy and batch delete."""

from __future__ import annotations

import contextlib
import email.utils
import os
import re
from collections.abc import Iterator

from cove.errors import AwsError
from cove.http.header_values import is_field_value
from cove.http.messages import FileBody, Response
from cove.services.s3.call import S3Call, decode_path, quoted, respond, xml_response
from cove.services.s3.errors import store_error
from cove.services.s3.payload import Payload
from cove.services.s3.xml_docs import Node, http_date, malformed_xml, parse, text
from cove.storage.s3.errors import StoreError
from cove.storage.s3.objects import BlobWriter, ObjectInfo, ObjectMeta, ObjectStore

MAX_OBJECT_SIZE = 5 * 1024**3
# Headers S3 stores with an object and returns on GET/HEAD.
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language",
                  "expires")
_RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
BYTE_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")


def object_meta(call: S3Call) -> ObjectMeta:
    """What the request says about the object besides its bytes."""
    meta = ObjectMeta(content_type=call.header("content-type") or "binary/octet-stream")
    for name, value in call.headers.items():
        if name.startswith("x-amz-meta-"):
            meta.user[name.removeprefix("x-amz-meta-")] = value
        elif name in STORED_HEADERS:
            meta.headers[name] = value
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


def checksum_headers(meta: ObjectMeta) -> list[tuple[str, str]]:
    headers = [(f"x-amz-checksum-{alg.lower()}", value) for alg, value in meta.checksums.items()]
    if meta.checksum_type and meta.checksums:
        headers.append(("x-amz-checksum-type", meta.checksum_type))
    return headers


def put_object(call: S3Call, store: ObjectStore) -> Response:
    if call.header("x-amz-copy-source"):
        return copy_object(call, store)
    store.get_bucket(call.bucket)  # fail before storing bytes for nothing
    payload = call.payload()
    check_size(payload.size)
    meta = object_meta(call)
    with staged_body(store, payload, []) as blob:
        check_size(blob.size)  # a streamed body is counted as it is written
        payload.verify(blob.hashers)
        if payload.algorithm:
            meta.checksums = {payload.algorithm: blob.hashers.b64(payload.algorithm)}
            meta.checksum_type = "FULL_OBJECT"
        info = store.put_object(
            call.bucket, call.key, blob, meta, if_none_match=_if_none_match_star(call)
        )
    return respond(call, headers=[("ETag", quoted(info.etag)), *checksum_headers(meta)])


def _if_none_match_star(call: S3Call) -> bool:
    value = call.header("if-none-match")
    if value is None:
        return False
    if value.strip() != "*":
        raise AwsError("NotImplemented", "If-None-Match only supports '*' on writes", 501)
    return True


STREAM_FROM = 1 << 20  # bodies larger than this are streamed from the object's file


def get_object(call: S3Call, store: ObjectStore, head: bool = False) -> Response:
    with store.open_object(call.bucket, call.key) as (info, fh):
        not_modified = _check_conditions(call, info)
        headers = _object_headers(call, info)
        if not_modified:
            keep = ("ETag", "Last-Modified", "x-amz-request-id", "x-amz-id-2")
            return Response(304, [(k, v) for k, v in headers if k in keep])
        span = _span(call, info)
        status = 200
        if span is not None:
            start, end = span
            status = 206
            headers.append(("Content-Range", f"bytes {start}-{end}/{info.size}"))
            if "partNumber" in call.query:
                headers.append(("x-amz-mp-parts-count", str(len(info.meta.part_sizes or [1]))))
        else:
            start, end = 0, info.size - 1
            if (call.header("x-amz-checksum-mode") or "").upper() == "ENABLED":
                headers += checksum_headers(info.meta)
        length = max(0, end - start + 1)
        if head:
            return Response(status, headers, b"", content_length=length)
        if length > STREAM_FROM:  # sent as the client reads it, never held whole
            own = os.fdopen(os.dup(fh.fileno()), "rb")  # outlives this `with`
            return Response(status, headers, file=FileBody(own, start, length))
        fh.seek(start)
        return Response(status, headers, fh.read(length))


def head_object(call: S3Call, store: ObjectStore) -> Response:
    return get_object(call, store, head=True)


def _object_headers(call: S3Call, info: ObjectInfo) -> list[tuple[str, str]]:
    meta = info.meta
    headers = [
        ("x-amz-request-id", call.request_id),
        ("x-amz-id-2", call.request_id),
        ("Content-Type", meta.content_type),
        ("ETag", quoted(info.etag)),
        ("Last-Modified", http_date(info.last_modified)),
        ("Accept-Ranges", "bytes"),
    ]
    headers += [(name.title(), value) for name, value in meta.headers.items()]
    headers += [(f"x-amz-meta-{name}", value) for name, value in meta.user.items()]
    overrides = {
        header: _override_value(param, call.query[param])
        for param, header in _RESPONSE_OVERRIDES.items() if param in call.query
    }
    headers = [(k, overrides.pop(k, v)) for k, v in headers] + list(overrides.items())
    return headers


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


def _span(call: S3Call, info: ObjectInfo) -> tuple[int, int] | None:
    """The inclusive byte span asked for by Range or partNumber; None for the whole object."""
    part = call.query.get("partNumber")
    if part is not None:
        sizes = info.meta.part_sizes or [info.size]
        if not part.isdigit() or not 1 <= int(part) <= len(sizes):
            raise _invalid_part_number(part)
        start = sum(sizes[: int(part) - 1])
        return (start, start + sizes[int(part) - 1] - 1) if info.meta.part_sizes else None
    header = call.header("range")
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


def _invalid_part_number(part: str) -> AwsError:
    return AwsError(
        "InvalidPartNumber",
        "The requested partnumber is not satisfiable",
        416,
        fields={"PartNumberRequested": part},
    )


def _check_conditions(call: S3Call, info: ObjectInfo) -> bool:
    """Raise PreconditionFailed, or return True for 304 Not Modified, as S3 evaluates them."""
    modified = int(info.last_modified)
    if_match = call.header("if-match")
    if if_match is not None:
        if not _etag_matches(if_match, info.etag):
            raise _precondition_failed("If-Match")
    else:
        since = _http_time(call.header("if-unmodified-since"))
        if since is not None and modified > since:
            raise _precondition_failed("If-Unmodified-Since")
    if_none_match = call.header("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, info.etag)
    since = _http_time(call.header("if-modified-since"))
    return since is not None and modified <= since


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [c.strip().removeprefix("W/").strip('"') for c in header.split(",")]
    return "*" in candidates or etag in candidates


def _http_time(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(email.utils.parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError):
        return None


def _precondition_failed(condition: str) -> AwsError:
    return AwsError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": condition},
    )


def delete_object(call: S3Call, store: ObjectStore) -> Response:
    store.delete_object(call.bucket, call.key)
    return respond(call, 204)


def copy_source(call: S3Call, header: str = "x-amz-copy-source") -> tuple[str, str]:
    source = decode_path((call.header(header) or "").split("?", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise AwsError(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            fields={"ArgumentName": header, "ArgumentValue": call.header(header) or ""},
        )
    return bucket, key


def copy_object(call: S3Call, store: ObjectStore) -> Response:
    src_bucket, src_key = copy_source(call)
    directive = (call.header("x-amz-metadata-directive") or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise AwsError("InvalidArgument", "Unknown metadata directive.")
    if (src_bucket, src_key) == (call.bucket, call.key) and directive == "COPY":
        raise AwsError(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect location "
            "or encryption attributes.",
        )
    meta = object_meta(call) if directive == "REPLACE" else None
    info = store.copy_object(src_bucket, src_key, call.bucket, call.key, meta)
    children: list[Node] = [("LastModified", info.last_modified), ("ETag", quoted(info.etag))]
    children += [(f"Checksum{alg}", value) for alg, value in info.meta.checksums.items()]
    return xml_response(call, "CopyObjectResult", children)


def delete_objects(call: S3Call, store: ObjectStore) -> Response:
    doc = parse(call.payload().verified_bytes())
    if doc.tag != "Delete":
        raise malformed_xml()
    quiet = (text(doc, "Quiet") or "").lower() == "true"
    keys = [text(obj, "Key") for obj in doc.findall("Object")]
    if not keys or len(keys) > 1000 or any(k is None for k in keys):
        raise malformed_xml()
    store.get_bucket(call.bucket)
    results: list[Node] = []
    for key in keys:
        assert key is not None
        try:
            store.delete_object(call.bucket, key)
        except StoreError as err:
            wire = store_error(err)
            error = [("Key", key), ("Code", wire.code), ("Message", wire.message)]
            results.append(("Error", error))
            continue
        if not quiet:
            results.append(("Deleted", [("Key", key)]))
    return xml_response(call, "DeleteResult", results)
