"""S3 multipart uploads: create, upload (or copy) a part, list parts, complete, abort."""

from __future__ import annotations

from cove.errors import AwsError
from cove.http.messages import Response
from cove.services.s3.call import S3Call, owner, quoted, respond, xml_response
from cove.services.s3.objects import (
    BYTE_RANGE,
    check_size,
    copy_source,
    object_meta,
    staged_body,
)
from cove.services.s3.payload import checksum_algorithm, invalid_request
from cove.services.s3.xml_docs import Node, malformed_xml, parse, text
from cove.storage.s3.checksums import FULL_OBJECT_DEFAULT
from cove.storage.s3.objects import ObjectStore
from cove.storage.s3.uploads import MAX_PART_NUMBER, RequestedPart, UploadInfo

MAX_PART_SIZE = 5 * 1024**3
_CRCS = ("CRC32", "CRC32C", "CRC64NVME")


def create_upload(call: S3Call, store: ObjectStore) -> Response:
    meta = object_meta(call.input)
    algorithm = checksum_algorithm(call.header("x-amz-checksum-algorithm"))
    kind = (call.header("x-amz-checksum-type") or "").upper() or None
    if kind and not algorithm:
        raise invalid_request("x-amz-checksum-type requires x-amz-checksum-algorithm")
    if algorithm:
        kind = kind or ("FULL_OBJECT" if algorithm in FULL_OBJECT_DEFAULT else "COMPOSITE")
        if kind not in ("FULL_OBJECT", "COMPOSITE"):
            raise invalid_request(f"Value for x-amz-checksum-type header is invalid: {kind}")
        if kind == "FULL_OBJECT" and algorithm not in _CRCS:
            raise invalid_request(f"The FULL_OBJECT checksum type cannot be used with {algorithm}")
        if kind == "COMPOSITE" and algorithm == "CRC64NVME":
            raise invalid_request("The COMPOSITE checksum type cannot be used with CRC64NVME")
        meta.checksum_type = kind
    upload = store.uploads.create(call.bucket, call.key, meta, algorithm)
    headers = []
    if algorithm:
        headers = [("x-amz-checksum-algorithm", algorithm), ("x-amz-checksum-type", str(kind))]
    children: list[Node] = [
        ("Bucket", call.bucket),
        ("Key", call.key),
        ("UploadId", upload.upload_id),
    ]
    return xml_response(call, "InitiateMultipartUploadResult", children, headers)


def _upload(call: S3Call, store: ObjectStore) -> UploadInfo:
    return store.uploads.get(call.bucket, call.key, call.query["uploadId"])


def _part_number(call: S3Call) -> int:
    raw = call.query.get("partNumber", "")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PART_NUMBER:
        raise AwsError(
            "InvalidArgument",
            f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
            fields={"ArgumentName": "partNumber", "ArgumentValue": raw},
        )
    return int(raw)


def upload_part(call: S3Call, store: ObjectStore) -> Response:
    number = _part_number(call)
    upload = _upload(call, store)
    if call.header("x-amz-copy-source"):
        return _copy_part(call, store, upload, number)
    payload = call.payload()
    algorithm = upload.checksum_algorithm
    if algorithm and payload.algorithm not in (None, algorithm):
        raise invalid_request(
            f"Checksum Type mismatch occurred, expected checksum Type: {algorithm.lower()}, "
            f"actual checksum Type: {str(payload.algorithm).lower()}"
        )
    with staged_body(store, payload, [algorithm] if algorithm else []) as blob:
        check_size(blob.size, MAX_PART_SIZE)  # a streamed body is counted as it is written
        payload.verify(blob.hashers)
        part = store.uploads.put_part(upload, number, blob)
    headers = [("ETag", quoted(part.etag))]
    if algorithm and part.checksum:
        headers.append((f"x-amz-checksum-{algorithm.lower()}", part.checksum))
    elif payload.algorithm and payload.checksum:  # verified above; echoed as S3 does
        headers.append((f"x-amz-checksum-{payload.algorithm.lower()}", payload.checksum))
    return respond(call, headers=headers)


def _copy_part(call: S3Call, store: ObjectStore, upload: UploadInfo, number: int) -> Response:
    src_bucket, src_key = copy_source(call.header("x-amz-copy-source") or "")
    algorithm = upload.checksum_algorithm
    with store.open_object(src_bucket, src_key) as (src, fh):
        start, end = 0, src.size - 1
        wanted = call.header("x-amz-copy-source-range")
        if wanted:
            match = BYTE_RANGE.match(wanted.strip())
            if not match or not all(match.groups()) or int(match[2]) >= src.size:
                raise AwsError(
                    "InvalidArgument",
                    "Range specified is not valid for source object of size: " + str(src.size),
                    fields={"ArgumentName": "x-amz-copy-source-range", "ArgumentValue": wanted},
                )
            start, end = int(match[1]), int(match[2])
        check_size(end - start + 1, MAX_PART_SIZE)
        with store.stage([algorithm] if algorithm else []) as blob:
            fh.seek(start)
            remaining = end - start + 1
            while remaining > 0 and (chunk := fh.read(min(remaining, 8 * 1024 * 1024))):
                blob.write(chunk)
                remaining -= len(chunk)
            part = store.uploads.put_part(upload, number, blob)
    children: list[Node] = [("ETag", quoted(part.etag)), ("LastModified", part.last_modified)]
    if algorithm and part.checksum:
        children.append((f"Checksum{algorithm}", part.checksum))
    return xml_response(call, "CopyPartResult", children)


def complete_upload(call: S3Call, store: ObjectStore) -> Response:
    upload = _upload(call, store)
    doc = parse(call.payload(flexible=False).verified_bytes())
    algorithm = upload.checksum_algorithm
    requested = []
    for node in doc.findall("Part"):
        number, etag = text(node, "PartNumber"), text(node, "ETag")
        if not number or not number.isdigit() or etag is None:
            raise malformed_xml()
        checksum = text(node, f"Checksum{algorithm}") if algorithm else None
        requested.append(RequestedPart(int(number), etag, checksum))
    if doc.tag != "CompleteMultipartUpload" or not requested:
        raise malformed_xml()
    full = call.header(f"x-amz-checksum-{algorithm.lower()}") if algorithm else None
    if_none_match = (call.header("if-none-match") or "").strip() == "*"
    size = call.header("x-amz-mp-object-size")
    if size is not None and not size.isdigit():
        raise invalid_request("Value for x-amz-mp-object-size header is invalid.")
    info = store.uploads.complete(
        upload, requested, full, if_none_match, int(size) if size else None
    )
    host = call.header("host") or "localhost"
    children: list[Node] = [
        ("Location", f"http://{host}/{call.bucket}/{call.key}"),
        ("Bucket", call.bucket),
        ("Key", call.key),
        ("ETag", quoted(info.etag)),
    ]
    children += [(f"Checksum{alg}", value) for alg, value in info.meta.checksums.items()]
    if info.meta.checksum_type:
        children.append(("ChecksumType", info.meta.checksum_type))
    return xml_response(call, "CompleteMultipartUploadResult", children)


def abort_upload(call: S3Call, store: ObjectStore) -> Response:
    store.uploads.abort(_upload(call, store))
    return respond(call, 204)


def list_parts(call: S3Call, store: ObjectStore) -> Response:
    upload = _upload(call, store)
    marker = call.int_param("part-number-marker", 0)
    max_parts = call.int_param("max-parts", 1000, 1000)
    parts = store.uploads.list_parts(upload.upload_id, marker, max_parts + 1)
    page, truncated = parts[:max_parts], len(parts) > max_parts
    algorithm = upload.checksum_algorithm
    children: list[Node] = [
        ("Bucket", call.bucket),
        ("Key", call.key),
        ("UploadId", upload.upload_id),
        ("PartNumberMarker", marker),
        ("NextPartNumberMarker", page[-1].number if page else marker),
        ("MaxParts", max_parts),
        ("IsTruncated", truncated),
    ]
    for part in page:
        node: list[Node] = [
            ("PartNumber", part.number),
            ("LastModified", part.last_modified),
            ("ETag", quoted(part.etag)),
            ("Size", part.size),
        ]
        if algorithm and part.checksum:
            node.append((f"Checksum{algorithm}", part.checksum))
        children.append(("Part", node))
    children += [
        ("Initiator", owner(call.account)),
        ("Owner", owner(call.account)),
        ("StorageClass", "STANDARD"),
        ("ChecksumAlgorithm", algorithm),
        ("ChecksumType", upload.meta.checksum_type),
    ]
    return xml_response(call, "ListPartsResult", children)


def list_uploads(call: S3Call, store: ObjectStore) -> Response:
    encode = call.encoder()
    prefix = call.query.get("prefix", "")
    max_uploads = call.int_param("max-uploads", 1000, 1000)
    uploads = store.uploads.list(call.bucket, prefix)
    page = uploads[:max_uploads]
    children: list[Node] = [
        ("Bucket", call.bucket),
        ("KeyMarker", ""),
        ("UploadIdMarker", ""),
        ("NextKeyMarker", encode(page[-1].key) if page else ""),
        ("NextUploadIdMarker", page[-1].upload_id if page else ""),
        ("Prefix", encode(prefix)),
        ("MaxUploads", max_uploads),
        ("IsTruncated", len(uploads) > max_uploads),
    ]
    for upload in page:
        node: list[Node] = [
            ("Key", encode(upload.key)),
            ("UploadId", upload.upload_id),
            ("Initiator", owner(call.account)),
            ("Owner", owner(call.account)),
            ("StorageClass", "STANDARD"),
            ("Initiated", upload.initiated),
            ("ChecksumAlgorithm", upload.checksum_algorithm),
            ("ChecksumType", upload.meta.checksum_type),
        ]
        children.append(("Upload", node))
    if call.query.get("encoding-type"):
        children.append(("EncodingType", call.query["encoding-type"]))
    return xml_response(call, "ListMultipartUploadsResult", children)
