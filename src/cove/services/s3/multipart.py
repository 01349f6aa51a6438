"""S3 multipart uploads: create, upload (or copy) a part, list parts, complete, abort."""

from __future__ import annotations

from typing import Any

from cove.errors import AwsError
from cove.services.s3.call import Reply, S3Call, malformed_xml, owner, quoted
from cove.services.s3.objects import (
    BYTE_RANGE,
    check_size,
    copy_source,
    object_meta,
    staged_body,
)
from cove.services.s3.payload import checksum_algorithm, invalid_request
from cove.services.s3.values import invalid_object_size, invalid_part_number
from cove.storage.s3.checksums import FULL_OBJECT_DEFAULT
from cove.storage.s3.objects import ObjectStore
from cove.storage.s3.uploads import MAX_PART_NUMBER, RequestedPart, UploadInfo

MAX_PART_SIZE = 5 * 1024**3
_CRCS = ("CRC32", "CRC32C", "CRC64NVME")


def create_upload(call: S3Call, store: ObjectStore) -> Reply:
    inp = call.input
    meta = object_meta(inp)
    algorithm = checksum_algorithm(inp.get("ChecksumAlgorithm"))
    kind = (inp.get("ChecksumType") or "").upper() or None
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
    upload = store.uploads.create(inp["Bucket"], inp["Key"], meta, algorithm)
    output: dict[str, Any] = {}
    if algorithm:
        output = {"ChecksumAlgorithm": algorithm, "ChecksumType": str(kind)}
    output |= {"Bucket": inp["Bucket"], "Key": inp["Key"], "UploadId": upload.upload_id}
    return Reply(output)


def _upload(call: S3Call, store: ObjectStore) -> UploadInfo:
    inp = call.input
    return store.uploads.get(inp["Bucket"], inp["Key"], inp["UploadId"])


def _part_number(call: S3Call) -> int:
    number: int = call.input["PartNumber"]
    if not 1 <= number <= MAX_PART_NUMBER:
        raise invalid_part_number(str(number))
    return number


def upload_part(call: S3Call, store: ObjectStore) -> Reply:
    number = _part_number(call)
    upload = _upload(call, store)
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
    output = {"ETag": quoted(part.etag)}
    if algorithm and part.checksum:
        output[f"Checksum{algorithm}"] = part.checksum
    elif payload.algorithm and payload.checksum:  # verified above; echoed as S3 does
        output[f"Checksum{payload.algorithm}"] = payload.checksum
    return Reply(output)


def upload_part_copy(call: S3Call, store: ObjectStore) -> Reply:
    number = _part_number(call)
    upload = _upload(call, store)
    src_bucket, src_key = copy_source(call.input["CopySource"])
    algorithm = upload.checksum_algorithm
    with store.open_object(src_bucket, src_key) as (src, fh):
        start, end = 0, src.size - 1
        wanted = call.input.get("CopySourceRange")
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
    result = {"ETag": quoted(part.etag), "LastModified": part.last_modified}
    if algorithm and part.checksum:
        result[f"Checksum{algorithm}"] = part.checksum
    return Reply({"CopyPartResult": result})


def complete_upload(call: S3Call, store: ObjectStore) -> Reply:
    inp = call.input
    upload = _upload(call, store)
    document = call.document(flexible=False)
    algorithm = upload.checksum_algorithm
    requested = []
    for part in (document or {}).get("Parts", []):
        number, etag = part.get("PartNumber"), part.get("ETag")
        if number is None or number < 0 or etag is None:
            raise malformed_xml()
        checksum = part.get(f"Checksum{algorithm}") if algorithm else None
        requested.append(RequestedPart(number, etag, checksum))
    if not requested:
        raise malformed_xml()
    full = inp.get(f"Checksum{algorithm}") if algorithm else None
    if_none_match = (inp.get("IfNoneMatch") or "").strip() == "*"
    size = inp.get("MpuObjectSize")
    if size is not None and size < 0:
        raise invalid_object_size()
    info = store.uploads.complete(upload, requested, full, if_none_match, size)
    host = call.req.headers.get("host") or "localhost"  # where the object is: no member
    output = {
        "Location": f"http://{host}/{inp['Bucket']}/{inp['Key']}",
        "Bucket": inp["Bucket"],
        "Key": inp["Key"],
        "ETag": quoted(info.etag),
    }
    output |= {f"Checksum{alg}": value for alg, value in info.meta.checksums.items()}
    if info.meta.checksum_type:
        output["ChecksumType"] = info.meta.checksum_type
    return Reply(output)


def abort_upload(call: S3Call, store: ObjectStore) -> Reply:
    store.uploads.abort(_upload(call, store))
    return Reply()


def list_parts(call: S3Call, store: ObjectStore) -> Reply:
    upload = _upload(call, store)
    marker = call.count("PartNumberMarker", 0)
    max_parts = call.count("MaxParts", 1000, 1000)
    parts = store.uploads.list_parts(upload.upload_id, marker, max_parts + 1)
    page, truncated = parts[:max_parts], len(parts) > max_parts
    algorithm = upload.checksum_algorithm
    listed = []
    for part in page:
        entry = {
            "PartNumber": part.number,
            "LastModified": part.last_modified,
            "ETag": quoted(part.etag),
            "Size": part.size,
        }
        if algorithm and part.checksum:
            entry[f"Checksum{algorithm}"] = part.checksum
        listed.append(entry)
    return Reply(
        {
            "Bucket": call.input["Bucket"],
            "Key": call.input["Key"],
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "NextPartNumberMarker": page[-1].number if page else marker,
            "MaxParts": max_parts,
            "IsTruncated": truncated,
            "Parts": listed,
            "Initiator": owner(call.account),
            "Owner": owner(call.account),
            "StorageClass": "STANDARD",
            "ChecksumAlgorithm": algorithm,
            "ChecksumType": upload.meta.checksum_type,
        }
    )


def list_uploads(call: S3Call, store: ObjectStore) -> Reply:
    inp = call.input
    encode = call.encoder()
    prefix = inp.get("Prefix", "")
    max_uploads = call.count("MaxUploads", 1000, 1000)
    uploads = store.uploads.list(inp["Bucket"], prefix)
    page = uploads[:max_uploads]
    output: dict[str, Any] = {
        "Bucket": inp["Bucket"],
        "KeyMarker": "",
        "UploadIdMarker": "",
        "NextKeyMarker": encode(page[-1].key) if page else "",
        "NextUploadIdMarker": page[-1].upload_id if page else "",
        "Prefix": encode(prefix),
        "MaxUploads": max_uploads,
        "IsTruncated": len(uploads) > max_uploads,
        "Uploads": [
            {
                "Key": encode(upload.key),
                "UploadId": upload.upload_id,
                "Initiator": owner(call.account),
                "Owner": owner(call.account),
                "StorageClass": "STANDARD",
                "Initiated": upload.initiated,
                "ChecksumAlgorithm": upload.checksum_algorithm,
                "ChecksumType": upload.meta.checksum_type,
            }
            for upload in page
        ],
    }
    if inp.get("EncodingType"):
        output["EncodingType"] = inp["EncodingType"]
    return Reply(output)
