"""The embedded object store: S3 buckets and objects in the data dir.

Object bytes are immutable blob files under `root/blobs`, written to `root/tmp` first and
fsynced, then renamed into place; a row in `s3_objects` makes a blob visible. So a crash
never exposes half an object: at worst it leaves an unreferenced blob, which the next
start removes. Overwrites point the row at a new blob and then unlink the old one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from cove.storage.db import metadata
from cove.storage.s3.checksums import Hashers
from cove.storage.s3.errors import StoreError, StoreFailure, no_such_bucket, no_such_key

# S3 orders keys by their UTF-8 bytes; PostgreSQL needs the C collation for that
# (SQLite's default BINARY collation already does it).
KeyType = String(1024).with_variant(String(1024, collation="C"), "postgresql")

buckets_table = Table(
    "s3_buckets",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("owner", String(32), nullable=False),
    Column("created", Float, nullable=False),
)

objects_table = Table(
    "s3_objects",
    metadata,
    Column("bucket", String(63), primary_key=True),
    Column("key", KeyType, primary_key=True),
    Column("blob", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("last_modified", Float, nullable=False),
    # JSON: content_type, user metadata, stored headers, checksums, part sizes
    Column("meta", Text, nullable=False),
)

MAX_KEY_BYTES = 1024


@dataclass
class BucketInfo:
    name: str
    region: str
    owner: str
    created: float


@dataclass
class ObjectMeta:
    """What a writer says about an object besides its bytes."""

    content_type: str = "binary/octet-stream"
    user: dict[str, str] = field(default_factory=dict)  # x-amz-meta-* without the prefix
    headers: dict[str, str] = field(default_factory=dict)  # Content-Encoding, Cache-Control...
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm -> base64 (or 'b64-N')
    checksum_type: str | None = None  # FULL_OBJECT | COMPOSITE
    part_sizes: list[int] | None = None  # set for objects made by a multipart upload

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> ObjectMeta:
        return cls(**json.loads(text))


@dataclass
class ObjectInfo:
    bucket: str
    key: str
    size: int
    etag: str  # without quotes
    last_modified: float
    meta: ObjectMeta
    blob: str


@dataclass
class ListPage:
    contents: list[ObjectInfo]
    prefixes: list[str]
    truncated: bool
    last: str | None  # the last key or common prefix returned: where the next page starts


class BlobWriter:
    """A blob being written: bytes go to a temp file while every digest is computed.

    Used as a context manager; whatever was not committed by the store is removed on exit.
    """

    def __init__(self, store: ObjectStore, algorithms: Iterable[str]) -> None:
        self.store = store
        self.blob = uuid.uuid4().hex
        self.path = store.tmp_dir / self.blob
        self.hashers = Hashers(["MD5", *algorithms])
        self.size = 0
        self._fh: BinaryIO | None = open(self.path, "xb")  # noqa: SIM115 - closed in finish()

    def write(self, data: bytes | memoryview) -> None:
        assert self._fh is not None, "blob already finished"
        self._fh.write(data)
        self.hashers.update(data)
        self.size += len(data)

    def copy_from(self, path: Path) -> None:
        with open(path, "rb") as src:
            while chunk := src.read(8 * 1024 * 1024):
                self.write(chunk)

    def adopt(self, path: Path, size: int) -> None:
        """Take an existing blob's bytes without copying them: blobs are immutable, so a
        hard link will do."""
        self.finish()
        self.path.unlink()
        os.link(path, self.path)
        self.size = size

    def finish(self) -> None:
        """Make the bytes durable; the blob can then be committed."""
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.path.unlink(missing_ok=True)

    @property
    def md5_hex(self) -> str:
        return self.hashers.digest("MD5").hex()


class ObjectStore:
    def __init__(self, root: Path, engine: Engine) -> None:
        self.root = root
        self.engine = engine
        self.blob_dir = root / "blobs"
        self.tmp_dir = root / "tmp"
        self.upload_dir = root / "uploads"
        for d in (self.blob_dir, self.tmp_dir, self.upload_dir):
            d.mkdir(parents=True, exist_ok=True)
        # One writer at a time decides which blob a key points to, so no blob is orphaned.
        self._lock = threading.Lock()
        from cove.storage.s3.bucket_policies import BucketPolicies
        from cove.storage.s3.uploads import MultipartUploads

        self.uploads = MultipartUploads(self)
        self.policies = BucketPolicies(engine)
        self._collect_garbage()

    # -- buckets ------------------------------------------------------------------------
    def create_bucket(self, name: str, region: str, owner: str) -> BucketInfo:
        with self._lock, self.engine.begin() as conn:
            existing = self._bucket_row(conn, name)
            if existing is not None:
                if existing.owner != owner:
                    raise StoreError(StoreFailure.BUCKET_TAKEN, BucketName=name)
                raise StoreError(StoreFailure.BUCKET_ALREADY_OWNED, BucketName=name)
            info = BucketInfo(name, region, owner, time.time())
            conn.execute(insert(buckets_table).values(**info.__dict__))
        return info

    def get_bucket(self, name: str) -> BucketInfo:
        with self.engine.connect() as conn:
            row = self._bucket_row(conn, name)
        if row is None:
            raise no_such_bucket(name)
        return BucketInfo(row.name, row.region, row.owner, row.created)

    def list_buckets(self) -> list[BucketInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(buckets_table).order_by(buckets_table.c.name)).all()
        return [BucketInfo(r.name, r.region, r.owner, r.created) for r in rows]

    def delete_bucket(self, name: str) -> None:
        o = objects_table
        with self._lock, self.engine.begin() as conn:
            if self._bucket_row(conn, name) is None:
                raise no_such_bucket(name)
            if conn.execute(select(o.c.key).where(o.c.bucket == name).limit(1)).first():
                raise StoreError(StoreFailure.BUCKET_NOT_EMPTY, BucketName=name)
            conn.execute(delete(buckets_table).where(buckets_table.c.name == name))
        self.uploads.abort_all(name)
        self.policies.delete(name)

    @staticmethod
    def _bucket_row(conn: Connection, name: str) -> Any:
        return conn.execute(select(buckets_table).where(buckets_table.c.name == name)).first()

    # -- writing --------------------------------------------------------------------------
    def stage(self, algorithms: Iterable[str] = ()) -> BlobWriter:
        """A new blob to write into; commit it with `put_object`."""
        return BlobWriter(self, algorithms)

    def put_object(
        self,
        bucket: str,
        key: str,
        blob: BlobWriter,
        meta: ObjectMeta,
        etag: str | None = None,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        """Make `blob` the content of bucket/key (atomically replacing what was there).

        `if_none_match` refuses to overwrite an existing key (S3's `If-None-Match: *`).
        """
        check_key(key)
        blob.finish()
        dest = self._blob_path(blob.blob)
        dest.parent.mkdir(exist_ok=True)
        info = ObjectInfo(
            bucket, key, blob.size, etag or blob.md5_hex, time.time(), meta, blob.blob
        )
        os.replace(blob.path, dest)
        fsync_dir(dest.parent)
        try:
            old = self._commit(info, if_none_match)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        if old:
            self._blob_path(old).unlink(missing_ok=True)
        return info

    def _commit(self, info: ObjectInfo, if_none_match: bool) -> str | None:
        """Point the key at the new blob; returns the blob it replaced."""
        o = objects_table
        values = {
            "blob": info.blob,
            "size": info.size,
            "etag": info.etag,
            "last_modified": info.last_modified,
            "meta": info.meta.to_json(),
        }
        with self._lock, self.engine.begin() as conn:
            if self._bucket_row(conn, info.bucket) is None:
                raise no_such_bucket(info.bucket)
            where = (o.c.bucket == info.bucket, o.c.key == info.key)
            old = conn.execute(select(o.c.blob).where(*where)).scalar()
            if old is None:
                conn.execute(insert(o).values(bucket=info.bucket, key=info.key, **values))
            elif if_none_match:
                raise StoreError(StoreFailure.KEY_EXISTS, Condition="If-None-Match")
            else:
                conn.execute(update(o).where(*where).values(**values))
        return old

    def copy_object(
        self, src_bucket: str, src_key: str, bucket: str, key: str, meta: ObjectMeta | None
    ) -> ObjectInfo:
        """Copy bucket/key; `meta` replaces the source's metadata (not its checksums)."""
        self.get_bucket(bucket)
        for _ in range(3):
            src = self.head_object(src_bucket, src_key)
            new_meta = ObjectMeta(**src.meta.__dict__)
            if meta is not None:
                new_meta.content_type, new_meta.user, new_meta.headers = (
                    meta.content_type,
                    meta.user,
                    meta.headers,
                )
            with self.stage() as blob:
                try:
                    blob.adopt(self._blob_path(src.blob), src.size)
                except FileNotFoundError:
                    continue  # overwritten while we looked; look again
                return self.put_object(bucket, key, blob, new_meta, etag=src.etag)
        raise no_such_key(src_key)

    # -- reading --------------------------------------------------------------------------
    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        o = objects_table
        with self.engine.connect() as conn:
            row = conn.execute(select(o).where(o.c.bucket == bucket, o.c.key == key)).first()
            if row is None:
                if self._bucket_row(conn, bucket) is None:
                    raise no_such_bucket(bucket)
                raise no_such_key(key)
        return _object(row)

    @contextlib.contextmanager
    def open_object(self, bucket: str, key: str) -> Iterator[tuple[ObjectInfo, BinaryIO]]:
        """The object's info and an open file on exactly those bytes."""
        for _ in range(3):
            info = self.head_object(bucket, key)
            try:
                fh = open(self._blob_path(info.blob), "rb")  # noqa: SIM115
            except FileNotFoundError:
                continue  # replaced between the lookup and the open; look again
            with fh:
                yield info, fh
            return
        raise no_such_key(key)

    def read_object(
        self, bucket: str, key: str, start: int = 0, end: int | None = None
    ) -> tuple[ObjectInfo, bytes]:
        """Bytes [start, end] (inclusive, like an HTTP range) of the object."""
        with self.open_object(bucket, key) as (info, fh):
            last = info.size - 1 if end is None else min(end, info.size - 1)
            fh.seek(start)
            return info, fh.read(max(0, last - start + 1))

    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        delimiter: str = "",
        after: str = "",
        max_keys: int = 1000,
    ) -> ListPage:
        """Keys (and, with a delimiter, common prefixes) in S3 order, starting after `after`."""
        self.get_bucket(bucket)
        page = ListPage([], [], False, None)
        # Resuming after a common prefix skips the rest of that prefix.
        resumes_prefix = delimiter and _common_prefix(after, prefix, delimiter) == after
        last_prefix = after if resumes_prefix else None
        cursor, inclusive = (after, False) if after >= prefix else (prefix, True)
        if last_prefix:
            cursor = last_prefix + "\U0010ffff"
        batch = min(max(max_keys + 1, 100), 1001)
        while True:
            rows = self._scan(bucket, cursor, inclusive, batch)
            if not rows:
                return page
            for row in rows:
                key = row.key
                if not key.startswith(prefix):
                    return page  # keys with the prefix are contiguous; we are past them
                common = _common_prefix(key, prefix, delimiter) if delimiter else None
                if common is not None and common == last_prefix:
                    cursor, inclusive = key, False
                    continue
                if len(page.contents) + len(page.prefixes) >= max_keys:
                    page.truncated = True
                    return page
                if common is not None:
                    page.prefixes.append(common)
                    page.last = last_prefix = common
                    # skip the rest of this prefix's keys
                    cursor, inclusive = common + "\U0010ffff", False
                    break
                page.contents.append(_object(row))
                page.last = cursor = key
                inclusive = False
            else:
                if len(rows) < batch:
                    return page

    def _scan(self, bucket: str, cursor: str, inclusive: bool, limit: int) -> list[Any]:
        o = objects_table
        bound = o.c.key >= cursor if inclusive else o.c.key > cursor
        query = select(o).where(o.c.bucket == bucket, bound).order_by(o.c.key).limit(limit)
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    # -- deleting ------------------------------------------------------------------------
    def delete_object(self, bucket: str, key: str) -> bool:
        """Remove bucket/key; deleting a missing key succeeds, as in S3."""
        o = objects_table
        with self._lock, self.engine.begin() as conn:
            if self._bucket_row(conn, bucket) is None:
                raise no_such_bucket(bucket)
            where = (o.c.bucket == bucket, o.c.key == key)
            blob = conn.execute(select(o.c.blob).where(*where)).scalar()
            if blob is None:
                return False
            conn.execute(delete(o).where(*where))
        self._blob_path(blob).unlink(missing_ok=True)
        return True

    # -- housekeeping ---------------------------------------------------------------------
    def _blob_path(self, blob: str) -> Path:
        return self.blob_dir / blob[:2] / blob

    def _collect_garbage(self) -> None:
        """Remove what a crash left behind: temp files and blobs no row points to."""
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self.tmp_dir.mkdir(exist_ok=True)
        with self.engine.connect() as conn:
            live = set(conn.execute(select(objects_table.c.blob)).scalars())
        for sub in self.blob_dir.iterdir():
            for path in sub.iterdir():
                if path.name not in live:
                    path.unlink(missing_ok=True)
        self.uploads.collect_garbage()


def check_key(key: str) -> None:
    if not key:
        raise StoreError(StoreFailure.EMPTY_KEY)
    if len(key.encode()) > MAX_KEY_BYTES:
        raise StoreError(
            StoreFailure.KEY_TOO_LONG,
            Size=str(len(key.encode())),
            MaxSizeAllowed=str(MAX_KEY_BYTES),
        )


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not key.startswith(prefix):
        return None
    i = key.find(delimiter, len(prefix))
    return key[: i + len(delimiter)] if i >= 0 else None


def _object(row: Any) -> ObjectInfo:
    return ObjectInfo(
        row.bucket,
        row.key,
        row.size,
        row.etag,
        row.last_modified,
        ObjectMeta.from_json(row.meta),
        row.blob,
    )


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
