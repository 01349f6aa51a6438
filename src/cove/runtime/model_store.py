"""Model directories laid out like /opt/ml/model, made from a ModelDataUrl.

Every `prepare` reads the artifact afresh (the object behind a URL may have changed since
the last endpoint used it) and keys the unpacked copy by the archive's SHA-256, so
endpoints made from the same bytes share one copy and an endpoint made after the object
changed gets the new model. `model.tar.gz` is unpacked within size and member-count
limits; a `file://` directory is copied. Copies are private to the server (0700/0600),
handed to the sandbox user, mounted read-only into instances, and deleted when the last
endpoint using them lets go (and at start-up, when nothing uses any).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import os
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from cove.host.sandbox import Sandbox
from cove.storage.artifacts import ArtifactError, ArtifactStore

CHUNK = 1 << 20
Fetch = Callable[[str, Path], Awaitable[None]]


class ModelDataError(Exception):
    """str(exc) is a FailureReason."""


@dataclass(frozen=True)
class UnpackLimits:
    """How large a model may unpack to; a tar bomb fails the endpoint instead of the disk."""

    max_bytes: int
    max_members: int


@dataclass(frozen=True)
class ModelCopy:
    path: Path
    key: str


class ModelStore:
    def __init__(
        self, root: Path, artifacts: ArtifactStore, sandbox: Sandbox, limits: UnpackLimits
    ) -> None:
        self.root = root
        self.artifacts = artifacts
        self.sandbox = sandbox
        self.limits = limits
        self._users: dict[str, int] = {}  # key -> endpoints (fleet variants) holding it
        self._lock = asyncio.Lock()
        shutil.rmtree(root, ignore_errors=True)  # copies of a previous run: nobody uses them
        root.mkdir(mode=0o700, parents=True, exist_ok=True)

    async def prepare(self, url: str | None, fetch: Fetch | None = None) -> ModelCopy:
        """A model directory for `url` (an empty one when there is no model data), held
        until `release`. `fetch(url, archive)` downloads an s3:// archive instead of the
        artifact store (through a VPC); it raises ModelDataError."""
        work = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.root))
        try:
            if not url:
                (work / "model").mkdir()
                return await self._adopt("empty", work / "model")
            local = self._local_directory(url)
            if local is not None:
                await asyncio.to_thread(self._copy_dir, local, work / "model", url)
                return await self._adopt(f"dir-{uuid.uuid4().hex}", work / "model")
            archive = work / "model.tar.gz"
            await (fetch or self._download)(url, archive)
            key = await asyncio.to_thread(_sha256, archive)
            async with self._lock:
                if key in self._users:
                    self._users[key] += 1
                    return ModelCopy(self.root / key, key)
            await asyncio.to_thread(self._extract, archive, work / "model", url)
            return await self._adopt(key, work / "model")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def release(self, copy: ModelCopy) -> None:
        left = self._users.get(copy.key, 0) - 1
        if left > 0:
            self._users[copy.key] = left
            return
        self._users.pop(copy.key, None)
        # out of the way at once (the same bytes may be adopted again next), gone later
        trash = self.root / f".released-{uuid.uuid4().hex}"
        try:
            copy.path.rename(trash)
        except OSError:
            return
        asyncio.get_running_loop().run_in_executor(None, shutil.rmtree, trash, True)

    async def _adopt(self, key: str, unpacked: Path) -> ModelCopy:
        async with self._lock:
            target = self.root / key
            if key in self._users:  # the same bytes were unpacked meanwhile
                self._users[key] += 1
                return ModelCopy(target, key)
            await asyncio.to_thread(_make_private, unpacked)
            await asyncio.to_thread(self.sandbox.give, unpacked)
            unpacked.rename(target)
            self._users[key] = 1
            return ModelCopy(target, key)

    async def _download(self, url: str, archive: Path) -> None:
        try:
            download = self.artifacts.download
            if inspect.iscoroutinefunction(download):
                await download(url, archive)
            else:
                await asyncio.to_thread(download, url, archive)
        except Exception as exc:
            raise ModelDataError(f"Could not download model data from {url}: {exc}") from exc

    def _extract(self, archive: Path, dest: Path, url: str) -> None:
        dest.mkdir()
        try:
            with tarfile.open(archive, "r:*") as tar:
                size = 0
                for count, member in enumerate(tar, 1):  # a bomb stops at the limits
                    size += member.size if member.isfile() else 0
                    self._check(count, size, url)
                tar.extractall(dest, filter="data")  # no absolute paths, links out, devices
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ModelDataError(
                f"Model data at {url} is not a valid tar.gz archive "
                f"(SageMaker expects model.tar.gz): {exc}"
            ) from exc

    def _local_directory(self, url: str) -> Path | None:
        """The directory a file:// ModelDataUrl names (within COVE_LOCAL_ROOTS only)."""
        if urlparse(url).scheme != "file":
            return None
        try:
            path = self.artifacts.local_path(url)
        except ArtifactError as exc:
            raise ModelDataError(str(exc)) from None
        return path if path.is_dir() else None

    def _copy_dir(self, source: Path, dest: Path, url: str) -> None:
        """Regular files and directories only: a link or a device could reach beyond."""
        entries = list(source.rglob("*"))
        odd = [p for p in entries if p.is_symlink() or not (p.is_file() or p.is_dir())]
        if odd:
            raise ModelDataError(
                f"Model data at {url} holds {odd[0]}, which is not a regular file or "
                "directory; Cove copies only those."
            )
        files = [p for p in entries if p.is_file()]
        self._check(len(files), sum(p.stat().st_size for p in files), url)
        try:
            shutil.copytree(source, dest, symlinks=True)
        except (OSError, shutil.Error) as exc:
            raise ModelDataError(f"Could not copy model data from {url}: {exc}") from exc

    def _check(self, members: int, size: int, url: str) -> None:
        if members > self.limits.max_members:
            raise ModelDataError(
                f"Model data at {url} holds more than the {self.limits.max_members} files "
                "Cove unpacks (COVE_MODEL_MAX_FILES)."
            )
        if size > self.limits.max_bytes:
            raise ModelDataError(
                f"Model data at {url} unpacks to more than the {self.limits.max_bytes} bytes "
                "Cove allows (COVE_MODEL_MAX_UNPACKED_BYTES)."
            )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _make_private(tree: Path) -> None:
    """Directories 0700, files 0600 (0700 where the archive made them executable)."""
    for root, dirs, files in os.walk(tree):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o700)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700 if os.stat(path).st_mode & 0o111 else 0o600)
    os.chmod(tree, 0o700)
