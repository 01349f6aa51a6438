"""The one interface Cove's components read and write artifacts through.

URIs are `s3://bucket/key` or `file:///absolute/path`. `s3://` goes to the embedded object
store in-process (no HTTP), or, when `COVE_S3_ENDPOINT_URL` is set, to that S3-compatible
service through boto3 with the usual AWS credential chain. Every call blocks; async code
runs them in a worker thread.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlparse

from cove.storage.s3.errors import StoreError, StoreFailure
from cove.storage.s3.objects import ObjectMeta, ObjectStore

if TYPE_CHECKING:
    from cove.config import Settings


class ArtifactError(Exception):
    """An artifact could not be read or written; the message says which and why."""


class ArtifactNotFound(ArtifactError, FileNotFoundError):
    pass


class InvalidArtifactUri(ArtifactError, ValueError):
    pass


@dataclass(frozen=True)
class Location:
    uri: str
    scheme: str  # "s3" | "file"
    bucket: str = ""
    key: str = ""  # s3 key, or "" for a whole bucket
    path: Path | None = None  # file path

    def child(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def parse_uri(uri: str) -> Location:
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise InvalidArtifactUri(f"{uri}: an s3:// URI needs a bucket (s3://bucket/key)")
        return Location(uri, "s3", parsed.netloc, parsed.path.lstrip("/"))
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidArtifactUri(f"{uri}: file:// URIs must be absolute (file:///path)")
        return Location(uri, "file", path=Path(unquote(parsed.path)))
    raise InvalidArtifactUri(f"{uri}: only s3:// and file:// artifact URIs are supported")


class _Objects(Protocol):
    """What the artifact store needs from an S3-like backend."""

    def read(self, loc: Location) -> bytes: ...
    def write(self, loc: Location, data: bytes) -> None: ...
    def upload(self, src: Path, loc: Location) -> None: ...
    def download(self, loc: Location, dest: Path) -> None: ...
    def keys(self, loc: Location) -> Iterator[str]: ...
    def exists(self, loc: Location) -> bool: ...
    def delete(self, loc: Location) -> None: ...


class ArtifactStore:
    def __init__(self, settings: Settings, objects: ObjectStore | None) -> None:
        self._roots = tuple(p.resolve() for p in settings.local_roots)
        self._data_dir = settings.data_dir.resolve()
        if settings.s3_endpoint_url:
            self._s3: _Objects = _RemoteObjects(settings.s3_endpoint_url, settings.region)
        elif objects is not None:
            self._s3 = _EmbeddedObjects(objects)
        else:
            raise ArtifactError("no object store: set COVE_S3_ENDPOINT_URL or pass the store")

    @property
    def embedded(self) -> bool:
        """Whether s3:// artifacts are the embedded store's, the one Cove's S3 API serves
        (else an external service's, COVE_S3_ENDPOINT_URL, which knows no Cove roles)."""
        return isinstance(self._s3, _EmbeddedObjects)

    def read_bytes(self, uri: str) -> bytes:
        loc = parse_uri(uri)
        if loc.scheme == "file":
            return self._file(loc).read_bytes()
        return self._s3.read(_object(loc))

    def write_bytes(self, uri: str, data: bytes) -> None:
        loc = parse_uri(uri)
        if loc.scheme == "file":
            _atomic_write(self._path(loc), lambda fh: fh.write(data))
        else:
            self._s3.write(_object(loc), data)

    def upload(self, src: Path | str, uri: str) -> None:
        src = Path(src)
        if not src.is_file():
            raise ArtifactNotFound(f"{src} does not exist or is not a file")
        loc = parse_uri(uri)
        if loc.scheme == "file":
            _copy_file(src, self._path(loc))
        else:
            self._s3.upload(src, _object(loc))

    def download(self, uri: str, dest: Path | str) -> Path:
        """Copy one artifact to `dest` (written atomically); returns `dest`."""
        dest = Path(dest)
        loc = parse_uri(uri)
        if loc.scheme == "file":
            _copy_file(self._file(loc), dest)
        else:
            self._s3.download(_object(loc), dest)
        return dest

    def download_prefix(self, prefix_uri: str, dest_dir: Path | str) -> list[Path]:
        """Copy every artifact under a prefix into `dest_dir`, keeping relative paths."""
        dest_dir = Path(dest_dir)
        base = prefix_uri if prefix_uri.endswith("/") else prefix_uri + "/"
        got = []
        for uri in self.list(prefix_uri):
            relative = uri[len(base) :] if uri.startswith(base) else uri.rsplit("/", 1)[-1]
            target = (dest_dir / relative).resolve()
            if not target.is_relative_to(dest_dir.resolve()) or not relative:
                raise ArtifactError(f"{uri}: refusing to write outside {dest_dir}")
            got.append(self.download(uri, target))
        return got

    def list(self, prefix_uri: str) -> list[str]:
        """URIs of every artifact whose URI starts with `prefix_uri`, sorted."""
        loc = parse_uri(prefix_uri)
        if loc.scheme == "file":
            return _list_files(self._path(loc))
        return [loc.child(key) for key in self._s3.keys(loc)]

    def exists(self, uri: str) -> bool:
        loc = parse_uri(uri)
        if loc.scheme == "file":
            return self._path(loc).is_file()
        return bool(loc.key) and self._s3.exists(loc)

    def delete(self, uri: str) -> None:
        loc = parse_uri(uri)
        if loc.scheme == "file":
            self._path(loc).unlink(missing_ok=True)
        else:
            self._s3.delete(_object(loc))

    def local_path(self, uri: str) -> Path:
        """The host path a file:// URI names, if Cove may read or write it there."""
        return self._path(parse_uri(uri))

    def _path(self, loc: Location) -> Path:
        """file:// URIs reach only the operator's COVE_LOCAL_ROOTS, never the data dir:
        the server reads and writes them as its own user, for whoever made the call."""
        path = _path(loc).resolve()  # symlinks followed: where the bytes really are
        inside = any(path.is_relative_to(root) for root in self._roots)
        if not inside or path.is_relative_to(self._data_dir):
            roots = os.pathsep.join(map(str, self._roots)) or "none set"
            raise InvalidArtifactUri(
                f"{loc.uri}: file:// artifacts are read and written only under the "
                f"directories in COVE_LOCAL_ROOTS ({roots}), and never in the data dir; "
                "use s3:// or ask the operator to add a root"
            )
        return path

    def _file(self, loc: Location) -> Path:
        path = self._path(loc)
        if not path.is_file():
            raise ArtifactNotFound(f"{loc.uri} does not exist")
        return path


def _object(loc: Location) -> Location:
    if not loc.key or loc.key.endswith("/"):
        raise InvalidArtifactUri(f"{loc.uri}: names a prefix, not an object")
    return loc


def _path(loc: Location) -> Path:
    assert loc.path is not None
    if not loc.path.is_absolute():
        raise InvalidArtifactUri(f"{loc.uri}: file:// URIs must be absolute (file:///path)")
    return loc.path


def _atomic_write(dest: Path, write: Any) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _copy_file(src: Path, dest: Path) -> None:
    with open(src, "rb") as fh:
        _atomic_write(dest, lambda out: shutil.copyfileobj(fh, out, 8 * 1024 * 1024))


def _list_files(prefix: Path) -> list[str]:
    if prefix.is_dir():
        files = (p for p in prefix.rglob("*") if p.is_file())
    elif prefix.parent.is_dir():
        files = (
            p for p in prefix.parent.rglob("*") if p.is_file() and str(p).startswith(str(prefix))
        )
    else:
        return []
    return sorted(p.as_uri() for p in files)


class _EmbeddedObjects:
    """The object store in this process."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def _not_found(self, loc: Location, err: StoreError) -> ArtifactError:
        if err.failure is StoreFailure.NO_SUCH_BUCKET:
            return ArtifactNotFound(f"{loc.uri}: bucket {loc.bucket} does not exist")
        if err.failure is StoreFailure.NO_SUCH_KEY:
            return ArtifactNotFound(f"{loc.uri} does not exist")
        return ArtifactError(f"{loc.uri}: {err}")

    def read(self, loc: Location) -> bytes:
        try:
            return self.store.read_object(loc.bucket, loc.key)[1]
        except StoreError as err:
            raise self._not_found(loc, err) from None

    def write(self, loc: Location, data: bytes) -> None:
        self._put(loc, lambda blob: blob.write(data))

    def upload(self, src: Path, loc: Location) -> None:
        self._put(loc, lambda blob: blob.copy_from(src))

    def _put(self, loc: Location, fill: Any) -> None:
        try:
            self.store.get_bucket(loc.bucket)
            with self.store.stage() as blob:
                fill(blob)
                self.store.put_object(loc.bucket, loc.key, blob, ObjectMeta())
        except StoreError as err:
            raise self._not_found(loc, err) from None

    def download(self, loc: Location, dest: Path) -> None:
        try:
            with self.store.open_object(loc.bucket, loc.key) as (_, fh):
                _atomic_write(dest, lambda out: shutil.copyfileobj(fh, out, 8 * 1024 * 1024))
        except StoreError as err:
            raise self._not_found(loc, err) from None

    def keys(self, loc: Location) -> Iterator[str]:
        after = ""
        while True:
            try:
                page = self.store.list_objects(loc.bucket, loc.key, after=after)
            except StoreError as err:
                raise self._not_found(loc, err) from None
            yield from (obj.key for obj in page.contents)
            if not page.truncated or page.last is None:
                return
            after = page.last

    def exists(self, loc: Location) -> bool:
        try:
            self.store.head_object(loc.bucket, loc.key)
        except StoreError:
            return False
        return True

    def delete(self, loc: Location) -> None:
        try:
            self.store.delete_object(loc.bucket, loc.key)
        except StoreError as err:
            raise self._not_found(loc, err) from None


class _RemoteObjects:
    """An external S3-compatible service, through boto3."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        import boto3

        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.endpoint_url = endpoint_url

    def _error(self, loc: Location, err: Exception) -> ArtifactError:
        from botocore.exceptions import ClientError

        if isinstance(err, ClientError):
            code = err.response.get("Error", {}).get("Code", "")
            if code == "NoSuchBucket":
                return ArtifactNotFound(f"{loc.uri}: bucket {loc.bucket} does not exist")
            if code in ("NoSuchKey", "404", "NotFound"):
                return ArtifactNotFound(f"{loc.uri} does not exist")
            return ArtifactError(f"{loc.uri}: {code}: {err} (S3 at {self.endpoint_url})")
        return ArtifactError(f"{loc.uri}: {err} (S3 at {self.endpoint_url})")

    def _call(self, loc: Location, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(*args, **kwargs)
        except (ClientError, BotoCoreError) as err:
            raise self._error(loc, err) from None

    def read(self, loc: Location) -> bytes:
        resp = self._call(loc, self.client.get_object, Bucket=loc.bucket, Key=loc.key)
        return resp["Body"].read()

    def write(self, loc: Location, data: bytes) -> None:
        self._call(loc, self.client.put_object, Bucket=loc.bucket, Key=loc.key, Body=data)

    def upload(self, src: Path, loc: Location) -> None:
        self._call(loc, self.client.upload_file, str(src), loc.bucket, loc.key)

    def download(self, loc: Location, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        os.close(fd)
        try:
            self._call(loc, self.client.download_file, loc.bucket, loc.key, tmp)
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def keys(self, loc: Location) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=loc.bucket, Prefix=loc.key
        )
        for page in self._call(loc, list, pages):
            yield from (obj["Key"] for obj in page.get("Contents", []))

    def exists(self, loc: Location) -> bool:
        try:
            self._call(loc, self.client.head_object, Bucket=loc.bucket, Key=loc.key)
        except ArtifactNotFound:
            return False
        return True

    def delete(self, loc: Location) -> None:
        self._call(loc, self.client.delete_object, Bucket=loc.bucket, Key=loc.key)
