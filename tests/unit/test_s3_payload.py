"""aws-chunked decoding and body integrity checks, against AWS's published examples and
bodies encoded by botocore itself."""

from __future__ import annotations

import base64
import hashlib
import io
import zlib

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from cove.errors import AwsError
from cove.http.messages import Request, RequestContext
from cove.services.s3.payload import read_payload
from cove.storage.s3.checksums import Hashers

# The example of https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
# (and sigv4-streaming-trailers.html): 66560 bytes of 'a' in chunks of 64 KiB, 1 KiB, 0.
DOC_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOC_DATA = b"a" * 66560


def doc_request(seed: str, content_sha256: str, body: bytes, **headers: str) -> Request:
    auth = (
        f"AWS4-HMAC-SHA256 Credential={DOC_ACCESS_KEY}/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        f"x-amz-decoded-content-length;x-amz-storage-class,Signature={seed}"
    )
    return request(
        body,
        authorization=auth,
        **{
            "x-amz-date": "20130524T000000Z",
            "x-amz-content-sha256": content_sha256,
            "content-encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(DOC_DATA)),
            **headers,
        },
    )


def request(body: bytes, **headers: str) -> Request:
    ctx = RequestContext(listener=None, source_ip="127.0.0.1")  # type: ignore[arg-type]
    return Request("PUT", "/examplebucket/chunkObject.txt", "", headers, body, ctx)


def signed_body(signatures: list[str], trailer: str = "") -> bytes:
    sizes = [65536, 1024, 0]
    out = b""
    for size, sig in zip(sizes, signatures, strict=True):
        out += f"{size:x};chunk-signature={sig}\r\n".encode() + b"a" * size
        out += b"\r\n" if size else b""
    return out + (trailer.encode() if trailer else b"\r\n")


def secrets(key: str) -> str | None:
    return DOC_SECRET if key == DOC_ACCESS_KEY else None


def decoded(payload) -> bytes:
    hashers = Hashers(payload.algorithms())
    for chunk in payload.chunks:
        hashers.update(chunk)
    payload.verify(hashers)
    return b"".join(payload.chunks)


SIGNED = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
SIGNED_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"


def test_aws_documented_signed_chunks_decode() -> None:
    req = doc_request(SIGNED_SEED, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", signed_body(SIGNED))
    assert decoded(read_payload(req, secrets)) == DOC_DATA


def test_aws_documented_signed_chunks_with_trailer_decode() -> None:
    sigs = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ]
    trailer = (
        "x-amz-checksum-crc32c:sOO8/Q==\r\n"
        "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
        "\r\n\r\n"
    )
    req = doc_request(
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        signed_body(sigs, trailer),
        **{"x-amz-trailer": "x-amz-checksum-crc32c"},
    )
    payload = read_payload(req, secrets)
    assert payload.algorithm == "CRC32C" and payload.checksum == "sOO8/Q=="
    assert decoded(payload) == DOC_DATA


def test_tampered_signed_chunk_is_rejected() -> None:
    body = bytearray(signed_body(SIGNED))
    body[200] = ord("b")  # inside the first chunk's data
    req = doc_request(SIGNED_SEED, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", bytes(body))
    with pytest.raises(AwsError) as err:
        read_payload(req, secrets)
    assert err.value.code == "SignatureDoesNotMatch"


def test_signed_chunks_need_the_secret() -> None:
    req = doc_request(SIGNED_SEED, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", signed_body(SIGNED))
    with pytest.raises(AwsError) as err:
        read_payload(req, None)
    assert err.value.code == "SignatureDoesNotMatch"


def botocore_chunked(data: bytes) -> bytes:
    """The body botocore sends for an unsigned-trailer upload (its own encoder)."""
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), Crc32Checksum, "x-amz-checksum-crc32", chunk_size=1000
    )
    return wrapper.read()


def trailer_request(body: bytes, size: int) -> Request:
    return request(
        body,
        **{
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "content-encoding": "aws-chunked",
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-decoded-content-length": str(size),
            "x-amz-sdk-checksum-algorithm": "CRC32",
        },
    )


def test_unsigned_trailer_from_botocore() -> None:
    data = bytes(range(256)) * 20
    payload = read_payload(trailer_request(botocore_chunked(data), len(data)))
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert payload.checksum == crc
    assert decoded(payload) == data


def test_unsigned_trailer_with_wrong_checksum_is_bad_digest() -> None:
    data = b"x" * 5000
    body = botocore_chunked(data).replace(b"x" * 10, b"y" * 10, 1)
    payload = read_payload(trailer_request(body, len(data)))
    with pytest.raises(AwsError) as err:
        decoded(payload)
    assert err.value.code == "BadDigest"


def test_decoded_length_must_match() -> None:
    data = b"x" * 5000
    with pytest.raises(AwsError) as err:
        read_payload(trailer_request(botocore_chunked(data), 4999))
    assert err.value.code == "IncompleteBody"


def test_truncated_chunked_body() -> None:
    data = b"x" * 5000
    with pytest.raises(AwsError) as err:
        read_payload(trailer_request(botocore_chunked(data)[:2500], 5000))
    assert err.value.code == "IncompleteBody"


def test_body_must_match_signed_sha256() -> None:
    sha = hashlib.sha256(b"original").hexdigest()
    payload = read_payload(request(b"tampered", **{"x-amz-content-sha256": sha}))
    with pytest.raises(AwsError) as err:
        decoded(payload)
    assert err.value.code == "XAmzContentSHA256Mismatch"
    assert err.value.fields["ClientComputedContentSHA256"] == sha


def test_content_md5() -> None:
    good = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    assert decoded(read_payload(request(b"body", **{"content-md5": good}))) == b"body"
    with pytest.raises(AwsError) as err:
        decoded(read_payload(request(b"other", **{"content-md5": good})))
    assert err.value.code == "BadDigest"
    with pytest.raises(AwsError) as err:
        read_payload(request(b"body", **{"content-md5": "not-base64"}))
    assert err.value.code == "InvalidDigest"


def test_checksum_header_rules() -> None:
    with pytest.raises(AwsError) as err:
        read_payload(request(b"x", **{"x-amz-checksum-crc32": "AAAA"}))  # 3 bytes, not 4
    assert err.value.code == "InvalidRequest"
    with pytest.raises(AwsError) as err:
        read_payload(
            request(b"x", **{"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-sha1": "AA=="})
        )
    assert "Multiple checksum" in err.value.message
    with pytest.raises(AwsError) as err:
        read_payload(request(b"x", **{"x-amz-sdk-checksum-algorithm": "CRC32"}))
    assert err.value.code == "InvalidRequest"


class _Pieces:
    """A streamed body as the gateway hands it over: pieces of any size, read once."""

    def __init__(self, body: bytes, size: int) -> None:
        self.pieces = [body[i : i + size] for i in range(0, len(body), size)]

    def __iter__(self):
        return iter(self.pieces)


@pytest.mark.parametrize("piece", [1, 7, 1000, 65538, 10**6])
def test_streamed_signed_chunks_decode_across_any_split(piece: int) -> None:
    # chunk lines, CRLFs and signatures split anywhere still decode and verify
    req = doc_request(SIGNED_SEED, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", signed_body(SIGNED))
    req.stream = _Pieces(req.body, piece)  # type: ignore[assignment]
    payload = read_payload(req, secrets)
    assert payload.size == 0  # nothing read yet: it is decoded as it is consumed
    assert decoded_once(payload) == DOC_DATA


@pytest.mark.parametrize("piece", [3, 999])
def test_streamed_trailer_checksum_is_known_at_the_end(piece: int) -> None:
    data = bytes(range(256)) * 20
    req = trailer_request(botocore_chunked(data), len(data))
    req.stream = _Pieces(req.body, piece)  # type: ignore[assignment]
    payload = read_payload(req)
    assert payload.algorithm == "CRC32" and payload.checksum is None
    assert decoded_once(payload) == data
    assert payload.checksum == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_streamed_tampered_chunk_fails_while_reading() -> None:
    body = bytearray(signed_body(SIGNED))
    body[200] = ord("b")
    req = doc_request(SIGNED_SEED, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", bytes(body))
    req.stream = _Pieces(bytes(body), 4096)  # type: ignore[assignment]
    payload = read_payload(req, secrets)
    with pytest.raises(AwsError) as err:
        decoded_once(payload)
    assert err.value.code == "SignatureDoesNotMatch"


def decoded_once(payload) -> bytes:
    """A streamed payload's content: its chunks can be iterated only once."""
    hashers = Hashers(payload.algorithms())
    out = bytearray()
    for chunk in payload.chunks:
        hashers.update(chunk)
        out += chunk
    payload.verify(hashers)
    return bytes(out)
