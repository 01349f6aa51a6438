"""SigV4 verification: the expected signature is computed by botocore's own signer.

Each failure is an `AuthFailure` with a kind; the protocol that received the request
turns the kind into the error code that service uses (see `sigv4_errors`). Besides the
signature, the request must keep AWS's rules on what is signed and when (`sigv4_rules`).
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

from cove.auth import sigv2_query, sigv4_rules
from cove.auth.credentials import Credential, CredentialStore, KeyUse
from cove.auth.sigv4_errors import AuthFailure as AuthFailure
from cove.auth.sigv4_errors import AuthKind
from cove.auth.sigv4_errors import auth_error as auth_error
from cove.http.messages import Request

ALGORITHM = "AWS4-HMAC-SHA256"
SIGV2_REGION = "us-east-1"  # where a SigV2 request's key was used: it names no region
# The query parameters of SigV4 query-string authentication (presigned URLs).
_QUERY_AUTH = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
)


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
    date_header: str = ""  # the header that carried the timestamp (header auth)
    token: str | None = None  # X-Amz-Security-Token of a presigned URL


def signing_name(req: Request) -> str | None:
    """The service of the request's credential scope (`Credential=AK/date/region/
    <service>/aws4_request`, in the Authorization header or X-Amz-Credential), read
    without verifying anything: what routes the request. None when it carries none."""
    auth = req.headers.get("authorization")
    if auth is not None:
        start = auth.find("Credential=")
        if start >= 0:
            scope = auth[start + 11 :].split(",", 1)[0].split("/")
            return scope[3] if len(scope) == 5 else None
        return "s3" if auth.startswith("AWS ") else None  # SigV2 headers: only S3 has them
    if "X-Amz-Credential=" in req.query:
        try:
            params = _query_auth(req.query) or {}
        except AuthFailure:  # refused when it is verified, by the service it is for
            params = {}
        scope = params.get("X-Amz-Credential", "").split("/")
        if len(scope) == 5:
            return scope[3]
    return "s3" if sigv2_query.is_v2_query(req) else None


def _query_auth(query: str) -> dict[str, str] | None:
    """The SigV4 auth parameters of a query string; None when there are none. A
    parameter named twice is refused: the signer and the verifier could read
    different copies."""
    if "X-Amz-" not in query:
        return None  # the common case, without parsing
    found: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in _QUERY_AUTH:
            if name in found:
                raise AuthFailure(AuthKind.QUERY_MALFORMED, f"{name} is given more than once")
            found[name] = value
    return found or None


def parse_signature(req: Request) -> SignatureParts:
    auth = req.headers.get("authorization")
    params = _query_auth(req.query)
    if auth is not None:
        if params is not None and ("X-Amz-Signature" in params or "X-Amz-Algorithm" in params):
            raise AuthFailure(AuthKind.TWO_MECHANISMS)
        return _parse_header(auth, req)
    if params is not None:
        return _parse_presigned(params)
    raise AuthFailure(AuthKind.MISSING)


def _parse_header(auth: str, req: Request) -> SignatureParts:
    algorithm, _, rest = auth.partition(" ")
    if algorithm != ALGORITHM:
        raise AuthFailure(AuthKind.MALFORMED, f"Unsupported authorization type: {algorithm[:32]}")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        key, _, value = item.strip().partition("=")
        fields[key] = value
    try:
        access_key, date, region, service, terminator = fields["Credential"].split("/")
        signed = tuple(fields["SignedHeaders"].split(";"))
        signature = fields["Signature"]
    except (KeyError, ValueError) as exc:
        raise AuthFailure(AuthKind.MALFORMED, "Authorization header is malformed") from exc
    if terminator != "aws4_request":
        raise AuthFailure(AuthKind.MALFORMED, "Credential scope must end in aws4_request")
    date_header, timestamp = sigv4_rules.request_timestamp(req.headers)
    return SignatureParts(
        access_key, date, region, service, signed, signature, timestamp, date_header=date_header
    )


def _parse_presigned(params: dict[str, str]) -> SignatureParts:
    if any(name not in params for name in _QUERY_AUTH[:-1]):
        raise AuthFailure(AuthKind.QUERY_MALFORMED, sigv4_rules.REQUIRED_PARAMS)
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthFailure(
            AuthKind.QUERY_MALFORMED,
            'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"',
        )
    try:
        access_key, date, region, service, terminator = params["X-Amz-Credential"].split("/")
    except ValueError:
        raise AuthFailure(AuthKind.QUERY_MALFORMED, "X-Amz-Credential is malformed") from None
    if terminator != "aws4_request":
        raise AuthFailure(AuthKind.QUERY_MALFORMED, "Credential scope must end in aws4_request")
    return SignatureParts(
        access_key,
        date,
        region,
        service,
        tuple(params["X-Amz-SignedHeaders"].split(";")),
        params["X-Amz-Signature"],
        params["X-Amz-Date"],
        presigned=True,
        expires=sigv4_rules.presign_expires(params.get("X-Amz-Expires")),
        token=params.get("X-Amz-Security-Token"),
    )


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
    # outside S3 the signature covers the body itself, whatever a header claims
    payload = hashlib.sha256(req.body).hexdigest()
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
    headers = {}
    if parts.service == "s3":
        # S3 signs the x-amz-content-sha256 claim (checked against the body when the body
        # is read) or, for presigned URLs, UNSIGNED-PAYLOAD; botocore takes the payload
        # hash from this header when there is one. Elsewhere the body's own hash is signed.
        content_sha = "UNSIGNED-PAYLOAD" if parts.presigned else signed.get("x-amz-content-sha256")
        if content_sha:
            headers["X-Amz-Content-SHA256"] = content_sha
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
    signed = frozenset(parts.signed_headers)
    sigv4_rules.check_coverage(req.headers, signed, parts.date_header, parts.service)
    cred = store.get(parts.access_key)
    if cred is None:
        raise AuthFailure(AuthKind.UNKNOWN_KEY, parts.access_key)
    now = now or dt.datetime.now(dt.UTC)
    sigv4_rules.check_token(
        req.headers, parts.token, cred.session_token, cred.expires, now.timestamp()
    )
    expires = parts.expires if parts.presigned else None
    sigv4_rules.check_time(parts.timestamp, now, expires)
    expected = expected_signature(req, parts, cred.secret_key)
    if not hmac.compare_digest(expected, parts.signature):
        raise AuthFailure(AuthKind.BAD_SIGNATURE)
    req.context.service = parts.service
    req.context.region = parts.region
    if cred.session_token is None:  # a long-term key: IAM tells when it was last used
        store.record_use(cred.access_key, KeyUse(now.timestamp(), parts.service, parts.region))
    return cred


def _verify_v2_query(req: Request, store: CredentialStore, now: dt.datetime | None) -> Credential:
    """An S3 URL presigned with signature version 2 (boto3's default for S3)."""
    query = sigv2_query.params(req)
    cred = store.get(query["AWSAccessKeyId"])
    if cred is None:
        raise AuthFailure(AuthKind.UNKNOWN_KEY, query["AWSAccessKeyId"])
    at = (now or dt.datetime.now(dt.UTC)).timestamp()
    token = query.get("x-amz-security-token")
    sigv4_rules.check_token(req.headers, token, cred.session_token, cred.expires, at)
    if sigv2_query.expired(query["Expires"], now.timestamp() if now else None):
        raise AuthFailure(AuthKind.PRESIGN_EXPIRED, query["Expires"])
    expected = sigv2_query.expected_signature(
        req, cred.secret_key, cred.access_key, query["Expires"]
    )
    if not hmac.compare_digest(expected, query["Signature"]):
        raise AuthFailure(AuthKind.BAD_SIGNATURE)
    req.context.service = "s3"
    if cred.session_token is None:  # SigV2 names no region: S3's global endpoint's
        store.record_use(cred.access_key, KeyUse(at, "s3", SIGV2_REGION))
    return cred
