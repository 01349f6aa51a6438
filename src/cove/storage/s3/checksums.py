"""The checksum algorithms S3 accepts (`x-amz-checksum-<alg>`), computed over streamed chunks.

CRC32 and the SHA/MD5 family come from zlib and hashlib. CRC32C and CRC64NVME have no
stdlib implementation; they fall back to table-driven pure Python (a few MB/s), which is
enough for the clients that opt into them (botocore itself needs awscrt to send them).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterable
from typing import Protocol

Buffer = bytes | bytearray | memoryview

# Names as S3 spells them in headers (lower-cased) and XML (upper-cased).
ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5")
# Algorithms whose multipart checksum defaults to FULL_OBJECT rather than COMPOSITE.
FULL_OBJECT_DEFAULT = ("CRC64NVME",)


class Hasher(Protocol):
    def update(self, data: Buffer, /) -> None: ...

    def digest(self) -> bytes: ...


def _reflected_table(poly: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


class _TableCrc:
    """A reflected CRC with all-ones init and final xor (the CRC32C/CRC64NVME family)."""

    def __init__(self, table: list[int], width: int) -> None:
        self._table = table
        self._mask = (1 << width) - 1
        self._width = width
        self._crc = self._mask

    def update(self, data: Buffer, /) -> None:
        table, crc = self._table, self._crc
        for byte in bytes(data):
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self._crc = crc

    def digest(self) -> bytes:
        return (self._crc ^ self._mask).to_bytes(self._width // 8, "big")


class _Crc32:
    def __init__(self) -> None:
        self._crc = 0

    def update(self, data: Buffer, /) -> None:
        self._crc = zlib.crc32(data, self._crc)

    def digest(self) -> bytes:
        return self._crc.to_bytes(4, "big")


_CRC32C_TABLE = _reflected_table(0x82F63B78)
_CRC64NVME_TABLE = _reflected_table(0x9A6C9329AC4BC9B5)


def new_hasher(algorithm: str) -> Hasher:
    """A fresh hasher for one of `ALGORITHMS`."""
    match algorithm:
        case "CRC32":
            return _Crc32()
        case "CRC32C":
            return _TableCrc(_CRC32C_TABLE, 32)
        case "CRC64NVME":
            return _TableCrc(_CRC64NVME_TABLE, 64)
        case "SHA1" | "SHA256" | "SHA512" | "MD5":
            return hashlib.new(algorithm.lower())
    raise ValueError(f"unsupported checksum algorithm {algorithm}")


def digest_length(algorithm: str) -> int:
    return len(new_hasher(algorithm).digest())


class Hashers:
    """Several digests of the same byte stream, computed in one pass."""

    def __init__(self, algorithms: Iterable[str]) -> None:
        self._hashers = {alg: new_hasher(alg) for alg in dict.fromkeys(algorithms)}

    def update(self, data: Buffer) -> None:
        for hasher in self._hashers.values():
            hasher.update(data)

    def digest(self, algorithm: str) -> bytes:
        return self._hashers[algorithm].digest()

    def b64(self, algorithm: str) -> str:
        return b64(self.digest(algorithm))

    @property
    def algorithms(self) -> tuple[str, ...]:
        return tuple(self._hashers)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def composite(algorithm: str, part_digests: Iterable[bytes]) -> str:
    """S3's COMPOSITE multipart checksum: the checksum of the parts' checksums, '-N'."""
    hasher = new_hasher(algorithm)
    count = 0
    for raw in part_digests:
        hasher.update(raw)
        count += 1
    return f"{b64(hasher.digest())}-{count}"
