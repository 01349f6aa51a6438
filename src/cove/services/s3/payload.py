"""Request bodies as S3 receives them: aws-chunked decoding and every integrity check.

The gateway verified the SigV4 signature over the `x-amz-content-sha256` header, not over
the body; the body is checked here against that header (a hex digest), Content-MD5, the
flexible `x-amz-checksum-*` header or trailer, and, for signed streaming uploads, every
chunk signature.

A body the gateway streams (`Request.stream`, see `cove.http.body`) is decoded as it is
read, never held whole: its chunks are iterated once, and the checks that need its end
(trailers, the decoded length) run when it ends. An in-memory body is decoded at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cove.auth.sigv4 import AuthFailure, auth_error, parse_signature
from cove.errors import AwsError
from cove.http.messages import Request
from cove.storage.s3.checksums import ALGORITHMS, Hashers, digest_length

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


Buffer = bytes | memoryview


@dataclass
class Payload:
    """A decoded request body and what the client claimed about it."""

    source: Iterable[Buffer] = ()  # the decoded content, in pieces
    trailers: dict[str, str] = field(default_factory=dict)
    content_sha256: str | None = None  # hex digest the client signed, if it signed the body
    content_md5: str | None = None
    algorithm: str | None = None  # flexible checksum algorithm in use, e.g. CRC32
    checksum: str | None = None  # its base64 value (header or trailer)
    size: int = 0  # bytes read so far (all of them, once the chunks were iterated)
    on_end: Callable[[Payload], None] | None = None  # checks that need the whole body
    _loaded: list[Buffer] | None = None

    @property
    def chunks(self) -> Iterable[Buffer]:
        """The content: a list for an in-memory body, a one-pass iterator for a stream."""
        return self._loaded if self._loaded is not None else self._read()

    def load(self) -> None:
        """Decode (and check) all of it now."""
        self._loaded = list(self._read())

    def _read(self) -> Iterator[Buffer]:
        for chunk in self.source:
            self.size += len(chunk)
            yield chunk
        if self.on_end is not None:
            self.on_end(self)

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
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
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
    req: Request,
    secret_for: SecretLookup | None = None,
    flexible: bool = True,
    body: bytes | Iterable[bytes] | None = None,
) -> Payload:
    """Decode and describe the body: `body` as the rest binding handed it through (the
    request's stream, or bytes), else the request's own. `flexible=False` for operations
    whose x-amz-checksum-* headers describe something else (CompleteMultipartUpload: the
    whole object).

    The checks read the request's headers, not the operation's members: they cover every
    body (the XML documents are checked before they are parsed), and most of what they
    read (x-amz-content-sha256, x-amz-trailer, x-amz-decoded-content-length, the trailer's
    checksum, an x-amz-checksum-* of an algorithm S3 does not know) is no member at all."""
    headers = req.headers
    sha = headers.get("x-amz-content-sha256", "")
    encodings = [e.strip() for e in headers.get("content-encoding", "").split(",")]
    streaming = sha.startswith("STREAMING-") or "aws-chunked" in encodings
    if body is None:
        body = req.stream if req.stream is not None else req.body
    wire: Iterable[bytes] = [body] if isinstance(body, bytes) else body
    payload = Payload()
    if streaming:
        if sha not in (STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
            raise AwsError(
                "NotImplemented",
                f"x-amz-content-sha256 {sha or '(missing)'} is not supported for aws-chunked "
                "uploads",
                501,
            )
        signer = _ChunkSigner(req, secret_for) if sha != STREAMING_UNSIGNED_TRAILER else None
        decoder = ChunkedDecoder(signer)
        payload.source = decoder.decode(wire)

        def ended(done: Payload) -> None:
            done.trailers = decoder.trailers
            _check_decoded_length(req, done.size)
            if flexible:
                _trailer_checksum(headers, done)

        payload.on_end = ended
    else:
        payload.source = (piece for piece in wire if piece)
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
    if isinstance(body, bytes):
        payload.load()
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
    """Find the one flexible checksum the request carries (header, or the name of a
    trailer whose value comes at the end), if any."""
    found = [
        (name, value)
        for name, value in headers.items()
        if name.startswith("x-amz-checksum-") and name not in _NOT_CHECKSUMS
    ]
    trailer = _trailer_name(headers)
    if trailer:
        if not trailer.startswith("x-amz-checksum-"):
            raise invalid_request(f"Unsupported trailer {trailer}")
        found.append((trailer, None))
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
        payload.algorithm = algorithm
        if value is not None:
            _set_checksum(payload, name, value)
    elif declared:
        raise invalid_request(
            "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
            "x-amz-trailer headers were found."
        )


def _trailer_name(headers: dict[str, str]) -> str:
    return headers.get("x-amz-trailer", "").strip().lower()


def _trailer_checksum(headers: dict[str, str], payload: Payload) -> None:
    """The checksum the trailer named by x-amz-trailer carries, once the body ended."""
    name = _trailer_name(headers)
    if not name:
        return
    value = payload.trailers.get(name)
    if value is None:
        raise AwsError(
            "MalformedTrailerError",
            "The request contained trailing data that was not well-formed or did not "
            "conform to our published schema.",
        )
    _set_checksum(payload, name, value)


def _set_checksum(payload: Payload, name: str, value: str) -> None:
    assert payload.algorithm is not None
    if not _valid_digest(value, payload.algorithm):
        raise invalid_request(f"Value for {name} header is invalid.")
    payload.checksum = value.strip()


def _check_algorithm(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise invalid_request(
            f"Checksum algorithm {algorithm} is not supported; use one of " + ", ".join(ALGORITHMS)
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


MAX_CHUNK_LINE = 4096  # `<hex size>;chunk-signature=<64 hex>` is under 100 bytes
MAX_TRAILERS = 16 * 1024


class ChunkedDecoder:
    """Decodes `<hex size>[;chunk-signature=..]\\r\\n<data>\\r\\n ... 0\\r\\n<trailers>\\r\\n`
    as it arrives: data comes out as slices of the pieces fed in (no copies), chunk
    signatures are checked chunk by chunk if there is a `signer`."""

    def __init__(self, signer: _ChunkSigner | None = None) -> None:
        self._signer = signer
        self._line = bytearray()  # a size line (or a data chunk's CRLF) not yet complete
        self._remaining = 0  # data bytes left in the current chunk
        self._in_data = False
        self._after_data = False  # the CRLF ending a chunk's data is next
        self._ext = ""
        self._digest = hashlib.sha256()
        self._tail: bytearray | None = None  # after the last chunk: the trailers
        self.trailers: dict[str, str] = {}

    def decode(self, pieces: Iterable[bytes]) -> Iterator[memoryview]:
        for piece in pieces:
            yield from self._feed(piece)
        self._finish()

    def _feed(self, data: bytes) -> Iterator[memoryview]:
        view = memoryview(data)
        pos, end = 0, len(data)
        while pos < end:
            if self._tail is not None:
                self._tail += view[pos:]
                if len(self._tail) > MAX_TRAILERS:
                    raise _malformed_trailer()
                return
            if self._in_data:
                take = min(self._remaining, end - pos)
                piece = view[pos : pos + take]
                pos += take
                self._remaining -= take
                if self._signer is not None:
                    self._digest.update(piece)
                if self._remaining == 0:
                    self._in_data, self._after_data = False, True
                yield piece
                continue
            line, pos = self._take_line(data, pos)
            if line is None:
                return
            if self._after_data:
                if line:
                    raise _incomplete()
                self._after_data = False
                self._chunk_done()
            else:
                self._start_chunk(line)

    def _take_line(self, data: bytes, pos: int) -> tuple[bytes | None, int]:
        if self._line.endswith(b"\r") and data[pos : pos + 1] == b"\n":
            line = bytes(self._line[:-1])
            self._line.clear()
            return line, pos + 1
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            self._line += data[pos:]
            if len(self._line) > MAX_CHUNK_LINE:
                raise invalid_request("Invalid aws-chunked chunk size")
            return None, len(data)
        line = bytes(self._line) + data[pos:eol]
        self._line.clear()
        return line, eol + 2

    def _start_chunk(self, line: bytes) -> None:
        size_text, _, self._ext = line.decode("latin-1").partition(";")
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise invalid_request("Invalid aws-chunked chunk size") from exc
        if size == 0:
            if self._signer is not None:
                self._signer.check_chunk(self._ext, EMPTY_SHA256)
            self._tail = bytearray()
            return
        self._remaining, self._in_data = size, True
        self._digest = hashlib.sha256()

    def _chunk_done(self) -> None:
        if self._signer is not None:
            self._signer.check_chunk(self._ext, self._digest.hexdigest())

    def _finish(self) -> None:
        if self._tail is None:
            raise _incomplete()
        self.trailers = _trailers(bytes(self._tail), self._signer)


def decode_aws_chunked(
    body: bytes, signer: _ChunkSigner | None = None
) -> tuple[list[memoryview], dict[str, str]]:
    """A whole aws-chunked body at once: its data slices and trailer headers."""
    decoder = ChunkedDecoder(signer)
    chunks = list(decoder.decode([body]))
    return chunks, decoder.trailers


def _malformed_trailer() -> AwsError:
    return AwsError(
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not "
        "conform to our published schema.",
    )


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

    def check_chunk(self, ext: str, digest: str) -> None:
        """`digest`: the hex SHA-256 of the chunk's data."""
        name, _, signature = ext.partition("=")
        given = signature.strip() if name.strip() == "chunk-signature" else None
        self._expect("AWS4-HMAC-SHA256-PAYLOAD", digest, given)

    def check_trailer(self, trailers: dict[str, str], signature: str | None) -> None:
        canonical = "".join(f"{name}:{value}\n" for name, value in trailers.items())
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        self._expect("AWS4-HMAC-SHA256-TRAILER", digest, signature)
