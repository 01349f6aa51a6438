"""S3's checksum algorithms against their published check values ("123456789")."""

from __future__ import annotations

import base64
import zlib

import pytest

from cove.storage.s3.checksums import ALGORITHMS, Hashers, composite, new_hasher

CHECK = {
    "CRC32": "cbf43926",
    "CRC32C": "e3069283",
    "CRC64NVME": "ae8b14860a799888",
    "SHA1": "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
    "SHA256": "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
    "MD5": "25f9e794323b453885f5181f1b624d0b",
}


@pytest.mark.parametrize("algorithm", sorted(CHECK))
def test_check_values(algorithm: str) -> None:
    hasher = new_hasher(algorithm)
    hasher.update(b"1234")
    hasher.update(memoryview(b"56789"))  # streamed in pieces, as bodies are
    assert hasher.digest().hex() == CHECK[algorithm]


def test_every_algorithm_is_constructible() -> None:
    hashers = Hashers(ALGORITHMS)
    hashers.update(b"")
    assert set(hashers.algorithms) == set(ALGORITHMS)


def test_composite_is_checksum_of_part_checksums() -> None:
    parts = [b"a" * 10, b"b" * 10]
    raw = [zlib.crc32(p).to_bytes(4, "big") for p in parts]
    expected = base64.b64encode(zlib.crc32(b"".join(raw)).to_bytes(4, "big")).decode()
    assert composite("CRC32", raw) == f"{expected}-2"


def test_unknown_algorithm() -> None:
    with pytest.raises(ValueError):
        new_hasher("XXHASH64")
