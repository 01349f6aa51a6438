"""Model directories laid out like /opt/ml/model, made from a ModelDataUrl once per server
run: `model.tar.gz` is downloaded through the artifact store and extracted under
`<data dir>/models/`; a `file://` directory is used as it is."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse


class ModelDataError(Exception):
    """str(exc) is a FailureReason."""


class ModelStore:
    def __init__(self, root: Path, artifacts: Any) -> None:
        self.root = root
        self.artifacts = artifacts
        self._ready: dict[str, Path] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def prepare(self, url: str | None) -> Path:
        """The model directory for `url` (an empty one when there is no model data)."""
        if not url:
            empty = self.root / "empty"
            empty.mkdir(parents=True, exist_ok=True)
            return empty
        local = _local_directory(url)
        if local is not None:
            return local
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            if url not in self._ready:
                self._ready[url] = await self._fetch(url)
            return self._ready[url]

    async def _fetch(self, url: str) -> Path:
        key = hashlib.sha256(url.encode()).hexdigest()[:24]
        target = self.root / key
        self.root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.root))
        try:
            archive = work / "model.tar.gz"
            try:
                download = self.artifacts.download
                if inspect.iscoroutinefunction(download):
                    await download(url, archive)
                else:
                    await asyncio.to_thread(download, url, archive)
            except Exception as exc:
                raise ModelDataError(
                    f"Could not download model data from {url}: {exc}"
                ) from exc
            extracted = work / "model"
            await asyncio.to_thread(_extract, archive, extracted, url)
            # a fresh copy per server run: the object behind the URL may have changed
            if target.exists():
                shutil.rmtree(target)
            extracted.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return target


def _local_directory(url: str) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    path = Path(unquote(parsed.path))
    return path if path.is_dir() else None


def _extract(archive: Path, dest: Path, url: str) -> None:
    dest.mkdir()
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(dest, filter="data")  # no absolute paths, links out, devices
    except (tarfile.TarError, OSError) as exc:
        raise ModelDataError(
            f"Model data at {url} is not a valid tar.gz archive "
            f"(SageMaker expects model.tar.gz): {exc}"
        ) from exc
