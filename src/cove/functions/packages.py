"""Deployment packages: each zip kept once by its sha256 under the data dir, unpacked
beside it into the directory a function's workers mount read-only. A package is checked
when it arrives (Lambda refuses what it cannot unzip, and more than 250 MB unzipped:
Lambda DG, "Lambda quotas"); unpacking is what a Pending function waits for."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from cove.functions.failures import Failure, FunctionError
from cove.functions.model import CodeRef

PACKAGES_DIR = "functions/packages"  # in the data dir
UNZIPPED_LIMIT = 262_144_000  # bytes, "Deployment package size (unzipped)"
_KEY = re.compile(r"^[0-9a-f]{64}$")  # a package's name: its zip's sha256


class Packages:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(self, data: bytes) -> CodeRef:
        """Check and keep a zip; the same bytes are kept once."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                unzipped = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError):
            raise FunctionError(Failure.BAD_ZIP) from None
        if unzipped > UNZIPPED_LIMIT:
            raise FunctionError(Failure.UNZIPPED_TOO_LARGE, limit=str(UNZIPPED_LIMIT))
        digest = hashlib.sha256(data)
        key = digest.hexdigest()
        path = self._zip(key)
        if not path.exists():
            fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".part")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return CodeRef(key, base64.b64encode(digest.digest()).decode(), len(data))

    def unpacked(self, key: str) -> Path:
        """The package's directory, unpacked now if it is not yet (safe to call twice at
        once: each unpacks aside and the first rename wins)."""
        target = self.root / key
        if target.is_dir():
            return target
        aside = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{key[:12]}-"))
        try:
            with zipfile.ZipFile(self._zip(key)) as archive:
                archive.extractall(aside)  # member names with .. or / are made safe
            for folder, _dirs, files in os.walk(aside):  # workers run as another user
                os.chmod(folder, 0o755)
                for name in files:
                    os.chmod(os.path.join(folder, name), 0o644)
            os.rename(aside, target)
        except OSError:
            if not target.is_dir():
                raise
        finally:
            if aside.exists():
                shutil.rmtree(aside, ignore_errors=True)
        return target

    def zip_bytes(self, key: str) -> bytes:
        return self._zip(key).read_bytes()

    def zip_path(self, key: str) -> Path | None:
        """Where a package's zip is; None for a key that names no package kept here."""
        if not _KEY.match(key):
            return None
        path = self._zip(key)
        return path if path.is_file() else None

    def collect(self, referenced: set[str]) -> None:
        """Drop the packages no version refers to any more (only packages: what else
        shares the directory is left alone)."""
        for path in self.root.iterdir():
            key = path.name.removesuffix(".zip")
            if not _KEY.match(key) or key in referenced:
                continue
            with contextlib.suppress(OSError):
                shutil.rmtree(path) if path.is_dir() else path.unlink()

    def _zip(self, key: str) -> Path:
        return self.root / f"{key}.zip"
