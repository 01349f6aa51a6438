"""Request bodies as S3 receives them: aws-chunked decoding and every integrity check.

The gateway verified the SigV4 signature over the `x-amz-content-sha256` header, not over
the body; the body is checked here against that header (a hex digest), Content-MD5, the
flexible `x-amz-checksum-*` header or trailer, and, for signed streaming uploads, every
chunk signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cove.gateway.messages import Request
from cove.protocol.errors import AwsError
from cove.protocol.sigv4 import AuthFailure, auth_error, parse_signature
from cove.storage.s3_checksums import ALGORITHMS, Hashers, digest_length

UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_NOT_CHECKSUMS = ("x-amz-checksum-algorithm", "x-amz-checksum-mode", "x-amz-checksum-type")

# access key -> secret key, to verify chunk signatures of signed streaming uploads
SecretLookup = Callable[[str], str | None]


def invalid_request(message: str) -> AwsError:
    return AwsError("InvalidRequest", message)


@dataclass
class Payload:
    """A decoded request body and what the client claimed about it."""

    chunks: list[memoryview]
    trailers: dict[str, str] = field(default_factory=dict)
    content_sha256: str | None = None  # hex digest the client signed, if it signed the body
    content_md5: str | None = None
    algorithm: str | None = None  # flexible checksum algorithm in use, e.g. CRC32
    checksum: str | None = None  # its base64 value (header or trailer)

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.chunks)

    def algorithms(self) -> list[str]:
        """Digests `verify` needs (besides any the caller wants for itself)."""
        needed = []
        if self.content_sha256:
            needed.append("SHA256")
        if self.content_md5:
            needed.append("MD5")
        if self.algorithm:
            needed.append(self.algorithm)
        return needed

    def verify(self, hashers: Hashers) -> None:
        """Raise the error S3 would if the body is not what the client said it sent."""
        if self.content_sha256:
            computed = hashers.digest("SHA256").hex()
            if computed != self.content_sha256:
                raise AwsError(
                    "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was "
                    "computed.",
                    fields={
                        "ClientComputedContentSHA256": self.content_sha256,
                        "S3ComputedContentSHA256": computed,
                    },
                )
        if self.content_md5 and hashers.b64("MD5") != self.content_md5:
            raise AwsError(
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
                fields={"ExpectedDigest": self.content_md5, "CalculatedDigest": hashers.b64("MD5")},
            )
        if self.algorithm and self.checksum and hashers.b64(self.algorithm) != self.checksum:
            raise AwsError(
                "BadDigest",
                f"The {self.algorithm} you specified did not match the calculated checksum.",
            )

    def verified_bytes(self) -> bytes:
        """The whole (small) body, checked; for XML request documents."""
        hashers = Hashers(self.algorithms())
        for chunk in self.chunks:
            hashers.update(chunk)
        self.verify(hashers)
        return b"".join(self.chunks)


def read_payload(
    req: Request, secret_for: SecretLookup | None = None, flexible: bool = True
) -> Payload:
    """Decode and describe the body. `flexible=False` for operations whose x-amz-checksum-*
    headers describe something else (CompleteMultipartUpload: the whole object)."""
    headers = req.headers
    sha = headers.get("x-amz-content-sha256", "")
    encodings = [e.strip() for e in headers.get("content-encoding", "").split(",")]
    streaming = sha.startswith("STREAMING-") or "aws-chunked" in encodings
    if streaming:
        if sha not in (STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
            raise AwsError(
                "NotImplemented",
                f"x-amz-content-sha256 {sha or '(missing)'} is not supported for aws-chunked "
                "uploads",
                501,
            )
        signer = _ChunkSigner(req, secret_for) if sha != STREAMING_UNSIGNED_TRAILER else None
        chunks, trailers = decode_aws_chunked(req.body, signer)
        payload = Payload(chunks, trailers)
        _check_decoded_length(req, payload.size)
    else:
        payload = Payload([memoryview(req.body)] if req.body else [])
        if sha and sha != UNSIGNED:
            if len(sha) != 64 or not _is_hex(sha):
                raise AwsError(
                    "InvalidArgument",
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                    "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
                )
            payload.content_sha256 = sha.lower()
    payload.content_md5 = _content_md5(headers.get("content-md5"))
    if flexible:
        _resolve_checksum(headers, payload)
    return payload


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def _check_decoded_length(req: Request, size: int) -> None:
    declared = req.headers.get("x-amz-decoded-content-length")
    if declared is not None and declared.strip() != str(size):
        raise AwsError(
            "IncompleteBody",
            "You did not provide the number of bytes specified by the "
            "x-amz-decoded-content-length HTTP header.",
        )


def _content_md5(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 16:
        raise AwsError("InvalidDigest", "The Content-MD5 you specified is not valid.")
    return value


def _resolve_checksum(headers: dict[str, str], payload: Payload) -> None:
    """Find the one flexible checksum the request carries (header or trailer), if any."""
    found = [
        (name, value)
        for name, value in headers.items()
        if name.startswith("x-amz-checksum-") and name not in _NOT_CHECKSUMS
    ]
    trailer = headers.get("x-amz-trailer", "").strip().lower()
    if trailer:
        if not trailer.startswith("x-amz-checksum-"):
            raise invalid_request(f"Unsupported trailer {trailer}")
        value = payload.trailers.get(trailer)
        if value is None:
            raise AwsError(
                "MalformedTrailerError",
                "The request contained trailing data that was not well-formed or did not "
                "conform to our published schema.",
            )
        found.append((trailer, value))
    if len(found) > 1:
        raise invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
    declared = headers.get("x-amz-sdk-checksum-algorithm", "").upper() or None
    if found:
        name, value = found[0]
        algorithm = name.removeprefix("x-amz-checksum-").upper()
        _check_algorithm(algorithm)
        if declared and declared != algorithm:
            raise invalid_request(
                f"Value for x-amz-sdk-checksum-algorithm header is invalid: {declared} does not "
                f"match the {name} header."
            )
        if not _valid_digest(value, algorithm):
            raise invalid_request(f"Value for {name} header is invalid.")
        payload.algorithm, payload.checksum = algorithm, value.strip()
    elif declared:
        raise invalid_request(
            "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
            "x-amz-trailer headers were found."
        )


def _check_algorithm(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise invalid_request(
            f"Checksum algorithm {algorithm} is not supported; use one of "
            + ", ".join(ALGORITHMS)
        )


def _valid_digest(value: str, algorithm: str) -> bool:
    try:
        return len(base64.b64decode(value.strip(), validate=True)) == digest_length(algorithm)
    except binascii.Error:
        return False


def checksum_algorithm(name: str | None) -> str | None:
    """Validate an algorithm named by a request (e.g. CreateMultipartUpload's)."""
    if not name:
        return None
    algorithm = name.upper()
    _check_algorithm(algorithm)
    return algorithm


# -- aws-chunked -------------------------------------------------------------------------


def _incomplete() -> AwsError:
    return AwsError("IncompleteBody", "The request body terminated unexpectedly")


def decode_aws_chunked(
    body: bytes, signer: _ChunkSigner | None = None
) -> tuple[list[memoryview], dict[str, str]]:
    """Split `<hex size>[;chunk-signature=..]\\r\\n<data>\\r\\n ... 0\\r\\n<trailers>\\r\\n`
    into data slices (no copies) and trailer headers, checking signatures if `signer`."""
    view = memoryview(body)
    chunks: list[memoryview] = []
    pos = 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise _incomplete()
        size_text, _, ext = bytes(view[pos:eol]).decode("latin-1").partition(";")
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise invalid_request("Invalid aws-chunked chunk size") from exc
        start, end = eol + 2, eol + 2 + size
        if size and body[end : end + 2] != b"\r\n":
            raise _incomplete()
        data = view[start:end]
        if signer is not None:
            signer.check_chunk(ext, data)
        if size == 0:
            trailers = _trailers(body[start:], signer)
            return chunks, trailers
        chunks.append(data)
        pos = end + 2


def _trailers(tail: bytes, signer: _ChunkSigner | None) -> dict[str, str]:
    trailers: dict[str, str] = {}
    signature = None
    for line in tail.decode("latin-1").split("\r\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise AwsError(
                "MalformedTrailerError",
                "The request contained trailing data that was not well-formed or did not "
                "conform to our published schema.",
            )
        if name.strip().lower() == "x-amz-trailer-signature":
            signature = value.strip()
        else:
            trailers[name.strip().lower()] = value.strip()
    if signer is not None and trailers:
        signer.check_trailer(trailers, signature)
    return trailers


class _ChunkSigner:
    """Checks the chain of chunk signatures of a STREAMING-AWS4-HMAC-SHA256 upload."""

    def __init__(self, req: Request, secret_for: SecretLookup | None) -> None:
        parts = parse_signature(req)
        secret = secret_for(parts.access_key) if secret_for else None
        if secret is None:
            raise auth_error(AuthFailure("bad_signature"), "rest-xml")
        self._signer = SigV4Auth(Credentials(parts.access_key, secret), parts.service, parts.region)
        self._request = AWSRequest()
        self._request.context["timestamp"] = parts.timestamp
        self._scope = f"{parts.date}/{parts.region}/{parts.service}/aws4_request"
        self._timestamp = parts.timestamp
        self._previous = parts.signature

    def _expect(self, kind: str, digest: str, given: str | None) -> None:
        lines = [kind, self._timestamp, self._scope, self._previous]
        if kind == "AWS4-HMAC-SHA256-PAYLOAD":
            lines.append(EMPTY_SHA256)
        lines.append(digest)
        expected = self._signer.signature("\n".join(lines), self._request)
        if given != expected:
            raise auth_error(AuthFailure("bad_signature"), "rest-xml")
        self._previous = expected

    def check_chunk(self, ext: str, data: memoryview) -> None:
        name, _, signature = ext.partition("=")
        given = signature.strip() if name.strip() == "chunk-signature" else None
        self._expect("AWS4-HMAC-SHA256-PAYLOAD", hashlib.sha256(data).hexdigest(), given)

    def check_trailer(self, trailers: dict[str, str], signature: str | None) -> None:
        canonical = "".join(f"{name}:{value}\n" for name, value in trailers.items())
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        self._expect("AWS4-HMAC-SHA256-TRAILER", digest, signature)
