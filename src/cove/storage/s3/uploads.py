"""Multipart uploads of the embedded object store.

Each part is written to disk as it arrives (`root/uploads/<upload id>/<part number>`,
atomically like any blob); completing an upload concatenates the chosen parts into a new
blob and commits it as the object, with S3's multipart ETag and checksum.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
)

from cove.storage.db import metadata
from cove.storage.s3.checksums import composite
from cove.storage.s3.errors import StoreError, StoreFailure, no_such_upload
from cove.storage.s3.objects import (
    KeyType,
    ObjectInfo,
    ObjectMeta,
    check_key,
    fsync_dir,
)

if TYPE_CHECKING:
    from pathlib import Path

    from cove.storage.s3.objects import BlobWriter, ObjectStore

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10_000

uploads_table = Table(
    "s3_uploads",
    metadata,
    Column("upload_id", String(64), primary_key=True),
    Column("bucket", String(63), nullable=False, index=True),
    Column("key", KeyType, nullable=False),
    Column("initiated", Float, nullable=False),
    Column("checksum_algorithm", String(16)),
    Column("meta", Text, nullable=False),  # ObjectMeta JSON for the object to be
)

parts_table = Table(
    "s3_parts",
    metadata,
    Column("upload_id", String(64), primary_key=True),
    Column("part_number", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("last_modified", Float, nullable=False),
    Column("checksum", String(128)),  # base64, of the upload's checksum algorithm
)


@dataclass
class UploadInfo:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    checksum_algorithm: str | None
    meta: ObjectMeta


@dataclass
class PartInfo:
    number: int
    size: int
    etag: str
    last_modified: float
    checksum: str | None


@dataclass
class RequestedPart:
    """A part as CompleteMultipartUpload names it."""

    number: int
    etag: str
    checksum: str | None = None


class MultipartUploads:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def create(
        self, bucket: str, key: str, meta: ObjectMeta, checksum_algorithm: str | None
    ) -> UploadInfo:
        check_key(key)
        self.store.get_bucket(bucket)
        info = UploadInfo(uuid.uuid4().hex, bucket, key, time.time(), checksum_algorithm, meta)
        self._dir(info.upload_id).mkdir()
        with self.store.engine.begin() as conn:
            conn.execute(
                insert(uploads_table).values(
                    upload_id=info.upload_id,
                    bucket=bucket,
                    key=key,
                    initiated=info.initiated,
                    checksum_algorithm=checksum_algorithm,
                    meta=meta.to_json(),
                )
            )
        return info

    def get(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        u = uploads_table
        with self.store.engine.connect() as conn:
            row = conn.execute(select(u).where(u.c.upload_id == upload_id)).first()
        if row is None or row.bucket != bucket or row.key != key:
            self.store.get_bucket(bucket)
            raise no_such_upload(upload_id)
        return _upload(row)

    def list(self, bucket: str, prefix: str = "") -> list[UploadInfo]:
        u = uploads_table
        self.store.get_bucket(bucket)
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(u).where(u.c.bucket == bucket).order_by(u.c.key, u.c.initiated)
            ).all()
        return [_upload(r) for r in rows if r.key.startswith(prefix)]

    def put_part(self, upload: UploadInfo, number: int, blob: BlobWriter) -> PartInfo:
        """Store `blob` as part `number`, replacing an earlier upload of that number."""
        blob.finish()
        algorithm = upload.checksum_algorithm
        checksum = blob.hashers.b64(algorithm) if algorithm else None
        part = PartInfo(number, blob.size, blob.md5_hex, time.time(), checksum)
        dest = self._part_path(upload.upload_id, number)
        p = parts_table
        with self.store.engine.begin() as conn:
            exists = conn.execute(
                select(uploads_table.c.upload_id).where(
                    uploads_table.c.upload_id == upload.upload_id
                )
            ).first()
            if exists is None:
                raise no_such_upload(upload.upload_id)
            os.replace(blob.path, dest)
            fsync_dir(dest.parent)
            conn.execute(
                delete(p).where(p.c.upload_id == upload.upload_id, p.c.part_number == number)
            )
            conn.execute(
                insert(p).values(
                    upload_id=upload.upload_id,
                    part_number=number,
                    size=part.size,
                    etag=part.etag,
                    last_modified=part.last_modified,
                    checksum=checksum,
                )
            )
        return part

    def list_parts(self, upload_id: str, after: int = 0, limit: int = 1000) -> list[PartInfo]:
        p = parts_table
        query = (
            select(p)
            .where(p.c.upload_id == upload_id, p.c.part_number > after)
            .order_by(p.c.part_number)
            .limit(limit)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [PartInfo(r.part_number, r.size, r.etag, r.last_modified, r.checksum) for r in rows]

    def complete(
        self,
        upload: UploadInfo,
        requested: list[RequestedPart],
        full_checksum: str | None = None,
        if_none_match: bool = False,
        expected_size: int | None = None,
    ) -> ObjectInfo:
        """Assemble the requested parts into the object.

        `full_checksum` and `expected_size` are what the client says the whole object is,
        if it says; a mismatch fails the upload.
        """
        uploaded = self.list_parts(upload.upload_id, 0, MAX_PART_NUMBER)
        stored = {part.number: part for part in uploaded}
        parts = self._check_parts(upload, requested, stored)
        size = sum(part.size for part in parts)
        if expected_size is not None and expected_size != size:
            raise StoreError(
                StoreFailure.SIZE_MISMATCH, ObjectSize=str(expected_size), ComputedSize=str(size)
            )
        algorithm = upload.checksum_algorithm
        meta = ObjectMeta(**upload.meta.__dict__)
        meta.part_sizes = [part.size for part in parts]
        full_object = meta.checksum_type == "FULL_OBJECT"
        with self.store.stage([algorithm] if algorithm and full_object else []) as blob:
            for part in parts:
                blob.copy_from(self._part_path(upload.upload_id, part.number))
            if algorithm and full_object:
                meta.checksums = {algorithm: blob.hashers.b64(algorithm)}
            elif algorithm:
                digests = [base64.b64decode(p.checksum or "") for p in parts]
                meta.checksums = {algorithm: composite(algorithm, digests)}
            if algorithm and full_checksum not in (None, meta.checksums[algorithm]):
                raise StoreError(StoreFailure.CHECKSUM_MISMATCH, Algorithm=algorithm)
            md5s = b"".join(bytes.fromhex(part.etag) for part in parts)
            etag = f"{hashlib.md5(md5s).hexdigest()}-{len(parts)}"
            info = self.store.put_object(
                upload.bucket, upload.key, blob, meta, etag=etag, if_none_match=if_none_match
            )
        self._forget(upload.upload_id)
        return info

    def _check_parts(
        self, upload: UploadInfo, requested: list[RequestedPart], stored: dict[int, PartInfo]
    ) -> list[PartInfo]:
        parts: list[PartInfo] = []
        for i, want in enumerate(requested):
            if i and want.number <= requested[i - 1].number:
                raise StoreError(StoreFailure.PARTS_OUT_OF_ORDER, UploadId=upload.upload_id)
            have = stored.get(want.number)
            if (
                have is None
                or have.etag != want.etag.strip('"')
                or (want.checksum is not None and want.checksum != have.checksum)
            ):
                raise StoreError(
                    StoreFailure.PART_NOT_FOUND,
                    UploadId=upload.upload_id,
                    PartNumber=str(want.number),
                    ETag=want.etag,
                )
            parts.append(have)
        for part in parts[:-1]:
            if part.size < MIN_PART_SIZE:
                raise StoreError(
                    StoreFailure.PART_TOO_SMALL,
                    ProposedSize=str(part.size),
                    MinSizeAllowed=str(MIN_PART_SIZE),
                    PartNumber=str(part.number),
                    ETag=part.etag,
                )
        return parts

    def abort(self, upload: UploadInfo) -> None:
        self._forget(upload.upload_id)

    def abort_all(self, bucket: str) -> None:
        u = uploads_table
        with self.store.engine.connect() as conn:
            ids = list(conn.execute(select(u.c.upload_id).where(u.c.bucket == bucket)).scalars())
        for upload_id in ids:
            self._forget(upload_id)

    def _forget(self, upload_id: str) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(delete(parts_table).where(parts_table.c.upload_id == upload_id))
            conn.execute(delete(uploads_table).where(uploads_table.c.upload_id == upload_id))
        shutil.rmtree(self._dir(upload_id), ignore_errors=True)

    def collect_garbage(self) -> None:
        """Remove part directories of uploads that no longer exist (a crash mid-abort)."""
        with self.store.engine.connect() as conn:
            live = set(conn.execute(select(uploads_table.c.upload_id)).scalars())
        for path in self.store.upload_dir.iterdir():
            if path.name not in live:
                shutil.rmtree(path, ignore_errors=True)

    def _dir(self, upload_id: str) -> Path:
        return self.store.upload_dir / upload_id

    def _part_path(self, upload_id: str, number: int) -> Path:
        return self._dir(upload_id) / str(number)


def _upload(row: Any) -> UploadInfo:
    return UploadInfo(
        row.upload_id,
        row.bucket,
        row.key,
        row.initiated,
        row.checksum_algorithm,
        ObjectMeta.from_json(row.meta),
    )
