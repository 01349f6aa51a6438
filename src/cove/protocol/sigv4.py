"""SigV4 verification: the expected signature is computed by botocore's own signer.

Each failure is an `AuthFailure` with a kind; the protocol that received the request
turns the kind into the error code that service uses (see `auth_error`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cove.gateway.messages import Request
from cove.iam.credentials import Credential, CredentialStore
from cove.protocol import sigv2_query
from cove.protocol.errors import AwsError

MAX_SKEW = dt.timedelta(minutes=15)
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"


class AuthFailure(Exception):
    """kind: missing | malformed | unknown_key | bad_signature | expired | presign_expired."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class SignatureParts:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    presigned: bool = False
    expires: int = 0


def scope_service(req: Request) -> str | None:
    """The signing name from the credential scope, without verifying anything."""
    if sigv2_query.is_v2_query(req):
        return "s3"
    try:
        return parse_signature(req).service
    except AuthFailure:
        return None


def parse_signature(req: Request) -> SignatureParts:
    auth = req.headers.get("authorization")
    if auth:
        return _parse_header(auth, req)
    if "X-Amz-Signature=" in req.query:
        return _parse_presigned(req.query)
    raise AuthFailure("missing")


def _parse_header(auth: str, req: Request) -> SignatureParts:
    algorithm, _, rest = auth.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise AuthFailure("malformed", f"Unsupported authorization type: {algorithm}")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        key, _, value = item.strip().partition("=")
        fields[key] = value
    try:
        access_key, date, region, service, terminator = fields["Credential"].split("/")
        signed = tuple(fields["SignedHeaders"].split(";"))
        signature = fields["Signature"]
    except (KeyError, ValueError) as exc:
        raise AuthFailure("malformed", "Authorization header is malformed") from exc
    if terminator != "aws4_request":
        raise AuthFailure("malformed", "Credential scope must end in aws4_request")
    timestamp = req.headers.get("x-amz-date") or ""
    if not timestamp:
        raise AuthFailure("malformed", "X-Amz-Date header is missing")
    return SignatureParts(access_key, date, region, service, signed, signature, timestamp)


def _parse_presigned(query: str) -> SignatureParts:
    params = dict(parse_qsl(query, keep_blank_values=True))
    try:
        access_key, date, region, service, _ = params["X-Amz-Credential"].split("/")
        return SignatureParts(
            access_key,
            date,
            region,
            service,
            tuple(params["X-Amz-SignedHeaders"].split(";")),
            params["X-Amz-Signature"],
            params["X-Amz-Date"],
            presigned=True,
            expires=int(params.get("X-Amz-Expires", "604800")),
        )
    except (KeyError, ValueError) as exc:
        raise AuthFailure("malformed", "Presigned URL is malformed") from exc


@functools.lru_cache(maxsize=1024)
def _parse_timestamp(timestamp: str) -> dt.datetime:
    # strptime is slow and every request of a busy client in one second shares a stamp
    return dt.datetime.strptime(timestamp, TIMESTAMP_FORMAT).replace(tzinfo=dt.UTC)


def _check_time(parts: SignatureParts, now: dt.datetime) -> None:
    try:
        when = _parse_timestamp(parts.timestamp)
    except ValueError as exc:
        raise AuthFailure("malformed", f"Invalid X-Amz-Date: {parts.timestamp}") from exc
    if parts.presigned:
        if now > when + dt.timedelta(seconds=parts.expires):
            raise AuthFailure("presign_expired", parts.timestamp)
        return
    if abs(now - when) > MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime(TIMESTAMP_FORMAT)
        latest = (now + MAX_SKEW).strftime(TIMESTAMP_FORMAT)
        if when < now:
            detail = (
                f"Signature expired: {parts.timestamp} is now earlier than {earliest} "
                f"({now.strftime(TIMESTAMP_FORMAT)} - 15 min.)"
            )
        else:
            detail = (
                f"Signature not yet current: {parts.timestamp} is still later than {latest} "
                f"({now.strftime(TIMESTAMP_FORMAT)} + 15 min.)"
            )
        raise AuthFailure("expired", detail)


@functools.lru_cache(maxsize=256)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """SigV4's derived key: the same all day for one secret, region and service."""
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class _SignedHeaders(dict[str, str]):
    """The headers the client signed, in the shape botocore's canonicalization reads."""

    def get_all(self, name: str) -> list[str]:
        return [self[name]] if name in self else []


class _VerifierMixin:
    """botocore's signer minus three costs a verifier need not pay on every request: the
    signing key is derived once a day (as AWS's own SDKs cache it), the payload hash is
    taken from the body Cove already holds instead of re-preparing the request, and the
    signed headers come from the list the client named instead of an email-style
    header map rebuilt for each request."""

    credentials: Credentials
    _region_name: str
    _service_name: str

    def headers_to_sign(self, request: AWSRequest) -> _SignedHeaders:
        return request.context["signed_headers"]

    def payload(self, request: AWSRequest) -> str:
        return hashlib.sha256(request.data or b"").hexdigest()

    def signature(self, string_to_sign: str, request: AWSRequest) -> str:
        key = _signing_key(
            self.credentials.secret_key,
            request.context["timestamp"][0:8],
            self._region_name,
            self._service_name,
        )
        return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


class _Verifier(_VerifierMixin, SigV4Auth):
    pass


class _S3Verifier(_VerifierMixin, S3SigV4Auth):
    pass


# A path that SigV4's normalization (dot segments, repeated slashes, percent-encoding
# with safe '/~') leaves as it is: every segment non-empty and of unreserved characters,
# not starting with a dot.
_PLAIN_PATH = re.compile(r"/|(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+/?")


def _plain_signature(req: Request, parts: SignatureParts, secret: str) -> str:
    """The signature of a header-signed request with a plain path and no query string,
    built directly: what botocore's SigV4Auth computes for it (`tests/unit/test_sigv4.py`
    checks that they agree), at a fraction of the cost. This is the shape of every
    InvokeEndpoint and JSON-protocol call, so the invocation hot path takes it."""
    headers = req.headers
    names = sorted(set(parts.signed_headers))
    canonical_headers = "".join(
        f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in names
    )
    signed = ";".join(sorted(n.lower().strip() for n in names))
    payload = headers.get("x-amz-content-sha256") if "x-amz-content-sha256" in names else None
    payload = payload or hashlib.sha256(req.body).hexdigest()
    canonical = f"{req.method}\n{req.path}\n\n{canonical_headers}\n{signed}\n{payload}"
    day = parts.timestamp[0:8]
    string_to_sign = (
        f"AWS4-HMAC-SHA256\n{parts.timestamp}\n{day}/{parts.region}/{parts.service}"
        f"/aws4_request\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    key = _signing_key(secret, day, parts.region, parts.service)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def expected_signature(req: Request, parts: SignatureParts, secret: str) -> str:
    """The signature the client must have sent: computed by botocore's signer over the
    request rebuilt as the client signed it, or directly for the plain common shape."""
    if (
        not parts.presigned
        and parts.service != "s3"
        and not req.query
        and _PLAIN_PATH.fullmatch(req.path)
    ):
        return _plain_signature(req, parts, secret)
    return _botocore_signature(req, parts, secret)


def _botocore_signature(req: Request, parts: SignatureParts, secret: str) -> str:
    host = req.headers.get("host", "")
    query = req.query
    if parts.presigned:
        query = "&".join(p for p in query.split("&") if not p.startswith("X-Amz-Signature="))
    url = f"http://{host}{req.path}" + (f"?{query}" if query else "")
    signed = _SignedHeaders((name, req.headers.get(name, "")) for name in parts.signed_headers)
    # botocore takes the payload hash from this header when there is one (S3 sends it)
    content_sha = "UNSIGNED-PAYLOAD" if parts.presigned else signed.get("x-amz-content-sha256")
    headers = {"X-Amz-Content-SHA256": content_sha} if content_sha else {}
    aws_req = AWSRequest(method=req.method, url=url, headers=headers, data=req.body)
    aws_req.context["timestamp"] = parts.timestamp
    aws_req.context["signed_headers"] = signed
    signer_cls = _S3Verifier if parts.service == "s3" else _Verifier
    signer = signer_cls(Credentials(parts.access_key, secret), parts.service, parts.region)
    canonical = signer.canonical_request(aws_req)
    string_to_sign = signer.string_to_sign(aws_req, canonical)
    return signer.signature(string_to_sign, aws_req)


def verify(req: Request, store: CredentialStore, now: dt.datetime | None = None) -> Credential:
    """Return the credential that signed `req`, or raise AuthFailure."""
    if sigv2_query.is_v2_query(req):
        return _verify_v2_query(req, store, now)
    parts = parse_signature(req)
    cred = store.get(parts.access_key)
    if cred is None:
        raise AuthFailure("unknown_key", parts.access_key)
    _check_time(parts, now or dt.datetime.now(dt.UTC))
    expected = expected_signature(req, parts, cred.secret_key)
    if not hmac.compare_digest(expected, parts.signature):
        raise AuthFailure("bad_signature")
    req.context.service = parts.service
    req.context.region = parts.region
    return cred


def _verify_v2_query(req: Request, store: CredentialStore, now: dt.datetime | None) -> Credential:
    """An S3 URL presigned with signature version 2 (boto3's default for S3)."""
    query = sigv2_query.params(req)
    cred = store.get(query["AWSAccessKeyId"])
    if cred is None:
        raise AuthFailure("unknown_key", query["AWSAccessKeyId"])
    if sigv2_query.expired(query["Expires"], now.timestamp() if now else None):
        raise AuthFailure("presign_expired")
    expected = sigv2_query.expected_signature(
        req, cred.secret_key, cred.access_key, query["Expires"]
    )
    if not hmac.compare_digest(expected, query["Signature"]):
        raise AuthFailure("bad_signature")
    req.context.service = "s3"
    return cred


_BAD_SIG = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)

# kind -> (code, message) for services on the json and rest-json protocols
_JSON_ERRORS = {
    "missing": ("MissingAuthenticationTokenException", "Missing Authentication Token"),
    "malformed": ("IncompleteSignatureException", "{detail}"),
    "unknown_key": (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    ),
    "bad_signature": ("InvalidSignatureException", _BAD_SIG),
    "expired": ("InvalidSignatureException", "{detail}"),
    "presign_expired": ("InvalidSignatureException", "Signature expired"),
}

_S3_ERRORS = {
    "missing": ("AccessDenied", "Access Denied"),
    "malformed": ("AuthorizationHeaderMalformed", "{detail}"),
    "unknown_key": (
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
    ),
    "bad_signature": (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "expired": (
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
    ),
    "presign_expired": ("AccessDenied", "Request has expired"),
}

_QUERY_ERRORS = {
    "missing": ("MissingAuthenticationToken", "Request is missing Authentication Token"),
    "malformed": ("IncompleteSignature", "{detail}"),
    "unknown_key": (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    ),
    "bad_signature": ("SignatureDoesNotMatch", _BAD_SIG),
    "expired": ("SignatureDoesNotMatch", "{detail}"),
    "presign_expired": ("SignatureDoesNotMatch", "Signature expired"),
}

_TABLES = {"json": _JSON_ERRORS, "rest-json": _JSON_ERRORS, "rest-xml": _S3_ERRORS,
           "query": _QUERY_ERRORS, "ec2": _QUERY_ERRORS}


def auth_error(failure: AuthFailure, protocol: str) -> AwsError:
    code, message = _TABLES[protocol][failure.kind]
    status = 400 if code in ("AuthorizationHeaderMalformed", "IncompleteSignatureException",
                             "IncompleteSignature") else 403
    return AwsError(code, message.format(detail=failure.detail), status)
