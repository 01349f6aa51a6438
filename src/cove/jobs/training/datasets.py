"""Reading a channel's files inside the job process, the way SageMaker's built-in
algorithms expect them: CSV with the label in the first column and no header, or
(XGBoost) LibSVM. Errors name the file and what to change."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cove.formats import recordio
from cove.jobs.training.errors import ClientError

CSV = "text/csv"
LIBSVM = "text/libsvm"
RECORDIO = "application/x-recordio-protobuf"


@dataclass
class Dataset:
    features: np.ndarray  # (rows, features) float64
    labels: np.ndarray  # (rows,) float64


def channel_files(channel_dir: Path) -> list[Path]:
    """The channel's data files in a stable order (SageMaker hands them over sorted)."""
    if not channel_dir.is_dir():
        return []
    return sorted(p for p in channel_dir.rglob("*") if p.is_file() and not p.name.startswith("."))


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _read_text(path: Path, compressed: bool) -> str:
    raw = path.read_bytes()
    if compressed or raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise ClientError(f"Could not decompress {path.name} as gzip: {exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ClientError(
            f"File {path.name} is not UTF-8 text. Built-in algorithms read CSV "
            "(or set CompressionType=Gzip for gzip files)"
        ) from None


def _parse_csv(text: str, name: str, channel: str) -> np.ndarray:
    rows = [line for line in text.splitlines() if line.strip()]
    if not rows:
        return np.empty((0, 0))
    try:
        table = np.array([[float(v) for v in line.split(",")] for line in rows], dtype=np.float64)
    except ValueError as exc:
        line_no = next(i for i, line in enumerate(rows, 1) if not _numeric(line))
        hint = " (CSV input must not have a header row)" if line_no == 1 else ""
        raise ClientError(
            f"Unable to read the {channel} channel: file {name}, line {line_no}: {exc}{hint}. "
            "Expected CSV with the label in the first column followed by numeric features"
        ) from None
    except Exception as exc:  # ragged rows make np.array fail with a shape error
        widths = sorted({len(line.split(",")) for line in rows})
        raise ClientError(
            f"Unable to read the {channel} channel: file {name} has rows with different "
            f"numbers of columns ({', '.join(map(str, widths))}): {exc}"
        ) from None
    if not np.all(np.isfinite(table)):
        raise ClientError(
            f"Unable to read the {channel} channel: file {name} contains NaN or infinite values"
        )
    return table


def _numeric(line: str) -> bool:
    try:
        [float(v) for v in line.split(",")]
    except ValueError:
        return False
    return True


def read_csv(channel_dir: Path, channel: str, compressed: bool = False) -> Dataset:
    """All CSV files of a channel as one dataset; every file must have the same width."""
    files = channel_files(channel_dir)
    tables = []
    for path in files:
        table = _parse_csv(_read_text(path, compressed), path.name, channel)
        if table.size:
            tables.append((path.name, table))
    if not tables:
        raise ClientError(f"The {channel} channel contains no data rows")
    widths = {t.shape[1] for _, t in tables}
    if len(widths) > 1:
        detail = ", ".join(f"{n}: {t.shape[1]}" for n, t in tables)
        raise ClientError(
            f"Files of the {channel} channel have different numbers of columns ({detail})"
        )
    if widths == {1}:
        raise ClientError(
            f"The {channel} channel has a single column; expected the label in the first "
            "column followed by at least one feature"
        )
    data = np.vstack([t for _, t in tables])
    return Dataset(features=data[:, 1:], labels=data[:, 0])


def looks_like_recordio(channel_dir: Path) -> bool:
    files = channel_files(channel_dir)
    return bool(files) and files[0].read_bytes()[:4] == recordio.MAGIC.to_bytes(4, "little")


def read_recordio(channel_dir: Path, channel: str, compressed: bool = False) -> Dataset:
    """Every record of a channel in application/x-recordio-protobuf (dense or sparse)."""
    records = []
    for path in channel_files(channel_dir):
        raw = path.read_bytes()
        if compressed or raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        try:
            records += recordio.read_records(raw)
        except recordio.RecordIOError as exc:
            raise ClientError(
                f"Unable to read the {channel} channel: file {path.name}: {exc}"
            ) from None
    try:
        features, labels = recordio.to_arrays(records)
    except recordio.RecordIOError as exc:
        raise ClientError(f"Unable to read the {channel} channel: {exc}") from None
    if labels is None or not len(labels):
        raise ClientError(f"The {channel} channel's records have no label")
    return Dataset(features=features, labels=labels)


def concatenate_text(channel_dir: Path, out: Path, compressed: bool = False) -> Path:
    """Join every file of a channel into one text file (for readers that take a path)."""
    files = channel_files(channel_dir)
    with open(out, "w", encoding="utf-8") as sink:
        for path in files:
            text = _read_text(path, compressed)
            sink.write(text if text.endswith("\n") or not text else text + "\n")
    return out
