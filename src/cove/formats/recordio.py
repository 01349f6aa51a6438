"""`application/x-recordio-protobuf`, the built-in algorithms' native format.

RecordIO framing (little-endian uint32 magic 0xced7230a, uint32 length whose top 3 bits
flag split records, payload padded to 4 bytes) around protobuf `Record` messages:

    Record  { map<string, Value> features = 1; map<string, Value> label = 2; ... }
    Value   { oneof { Float32Tensor float32_tensor = 2; Float64Tensor float64_tensor = 3;
                      Int32Tensor int32_tensor = 7; Bytes bytes = 9; } }
    *Tensor { repeated values = 1 [packed]; repeated uint64 keys = 2 [packed];
              repeated uint64 shape = 3 [packed]; }

This is what the SageMaker Python SDK writes for `record_set()` / the linear learner's
predictor, decoded and encoded here without a protobuf dependency.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = 0xCED7230A
_LENGTH_MASK = (1 << 29) - 1
_MAGIC_BYTES = struct.pack("<I", MAGIC)


class RecordIOError(ValueError):
    pass


# ------------------------------------------------------------------ RecordIO framing


def iter_payloads(data: bytes) -> Iterator[bytes]:
    """Each record's payload; split records (cflag 1..3) are joined back with the magic."""
    pos, parts = 0, []
    while pos < len(data):
        if pos + 8 > len(data):
            raise RecordIOError(f"truncated RecordIO header at byte {pos}")
        magic, header = struct.unpack_from("<II", data, pos)
        if magic != MAGIC:
            raise RecordIOError(f"bad RecordIO magic at byte {pos}: not recordio-protobuf data")
        flag, length = header >> 29, header & _LENGTH_MASK
        start = pos + 8
        if start + length > len(data):
            raise RecordIOError(f"truncated RecordIO record at byte {pos}")
        parts.append(data[start : start + length])
        pos = start + ((length + 3) & ~3)
        if flag in (0, 3):  # a whole record, or the last part of a split one
            yield _MAGIC_BYTES.join(parts)
            parts = []
    if parts:
        raise RecordIOError("RecordIO data ends inside a split record")


def frame(payload: bytes) -> bytes:
    pad = (-len(payload)) % 4
    return struct.pack("<II", MAGIC, len(payload)) + payload + b"\0" * pad


# ------------------------------------------------------------------ protobuf wire format


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise RecordIOError("truncated protobuf varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, bytes | int]]:
    """(field number, value): bytes for length-delimited and fixed-width, int for varint."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            yield number, data[pos : pos + size]
            pos += size
        elif wire == 2:
            size, pos = _varint(data, pos)
            yield number, data[pos : pos + size]
            pos += size
        else:
            raise RecordIOError(f"unsupported protobuf wire type {wire}")


def _as_bytes(chunk: bytes | int) -> bytes:
    if isinstance(chunk, int):
        raise RecordIOError("expected a length-delimited protobuf field, got a varint")
    return chunk


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


# ------------------------------------------------------------------ Record messages

# Value's oneof field number -> dtype of the tensor's values
_TENSORS = {2: "<f4", 3: "<f8", 7: "int32"}


@dataclass
class Tensor:
    values: np.ndarray
    keys: list[int] = field(default_factory=list)
    shape: list[int] = field(default_factory=list)

    def dense(self) -> np.ndarray:
        if not self.keys:
            return self.values.astype(np.float64)
        width = self.shape[0] if self.shape else max(self.keys) + 1
        out = np.zeros(width)
        out[np.asarray(self.keys, dtype=np.int64)] = self.values
        return out


def _packed_ints(chunk: bytes | int) -> list[int]:
    if isinstance(chunk, int):
        return [chunk]
    out, pos = [], 0
    while pos < len(chunk):
        value, pos = _varint(chunk, pos)
        out.append(value)
    return out


def _tensor(kind: int, data: bytes) -> Tensor:
    dtype = _TENSORS[kind]
    values: list[np.ndarray] = []
    keys: list[int] = []
    shape: list[int] = []
    for number, chunk in _fields(data):
        if number == 1:
            if dtype == "int32":
                ints = np.asarray(_packed_ints(chunk), dtype=np.int64)
                values.append(np.where(ints >= 2**31, ints - 2**64, ints))
            else:  # packed, or one fixed-width value
                values.append(np.frombuffer(_as_bytes(chunk), dtype=dtype))
        elif number == 2:
            keys += _packed_ints(chunk)
        elif number == 3:
            shape += _packed_ints(chunk)
    flat = np.concatenate(values).astype(np.float64) if values else np.zeros(0)
    return Tensor(flat, keys, shape)


def _value(data: bytes) -> Tensor | None:
    for number, chunk in _fields(data):
        if number in _TENSORS:
            return _tensor(number, _as_bytes(chunk))
    return None  # Bytes values carry no numbers


def _map(data: bytes) -> tuple[str, Tensor | None]:
    key, value = "", None
    for number, chunk in _fields(data):
        if number == 1:
            key = _as_bytes(chunk).decode()
        elif number == 2:
            value = _value(_as_bytes(chunk))
    return key, value


@dataclass
class Record:
    features: dict[str, Tensor] = field(default_factory=dict)
    label: dict[str, Tensor] = field(default_factory=dict)


def parse_record(payload: bytes) -> Record:
    record = Record()
    for number, chunk in _fields(payload):
        if number in (1, 2):
            key, tensor = _map(_as_bytes(chunk))
            if tensor is not None:
                (record.features if number == 1 else record.label)[key] = tensor
    return record


def read_records(data: bytes) -> list[Record]:
    return [parse_record(p) for p in iter_payloads(data)]


def _first(mapping: dict[str, Tensor]) -> Tensor | None:
    return mapping.get("values") or next(iter(mapping.values()), None)


def to_arrays(records: list[Record]) -> tuple[np.ndarray, np.ndarray | None]:
    """Dense features (rows, width) and labels (rows,), None when no record has one."""
    rows, labels = [], []
    for i, record in enumerate(records):
        features = _first(record.features)
        if features is None:
            raise RecordIOError(f"record {i} has no features")
        rows.append(features.dense())
        label = _first(record.label)
        labels.append(float(label.values[0]) if label is not None and label.values.size else None)
    widths = {r.size for r in rows}
    if len(widths) > 1:
        raise RecordIOError(f"records have different feature counts: {sorted(widths)}")
    matrix = np.vstack(rows) if rows else np.zeros((0, 0))
    if all(v is None for v in labels):
        return matrix, None
    if any(v is None for v in labels):
        raise RecordIOError("some records have a label and others do not")
    return matrix, np.asarray(labels, dtype=np.float64)


def encode_label_records(rows: list[dict[str, Any]]) -> bytes:
    """Records whose `label` map holds each key as a Float32Tensor (the answer format)."""
    out = bytearray()
    for row in rows:
        message = bytearray()
        for key, value in row.items():
            values = np.atleast_1d(np.asarray(value, dtype="<f4"))
            tensor = _field(1, values.tobytes())
            entry = _field(1, key.encode()) + _field(2, _field(2, tensor))
            message += _field(2, entry)
        out += frame(bytes(message))
    return bytes(out)


def encode_feature_records(features: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    """Dense rows as records with features["values"] (and label["values"]) Float32Tensors."""
    out = bytearray()
    for i, row in enumerate(np.atleast_2d(features)):
        tensor = _field(1, np.asarray(row, dtype="<f4").tobytes())
        message = _field(1, _field(1, b"values") + _field(2, _field(2, tensor)))
        if labels is not None:
            label = _field(1, np.asarray([labels[i]], dtype="<f4").tobytes())
            message += _field(2, _field(1, b"values") + _field(2, _field(2, label)))
        out += frame(message)
    return bytes(out)
