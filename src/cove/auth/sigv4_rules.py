"""The rules a SigV4 request must keep besides a matching signature, as AWS enforces
them: what must be signed, when a signature is current, and which tokens are valid.

A correct signature over too little proves too little: a request that signs neither its
host nor its date can be replayed anywhere, at any time, and an unsigned X-Amz-Target
lets a captured request run another operation.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import hmac
from collections.abc import Mapping

from cove.auth.sigv4_errors import AuthFailure, AuthKind

MAX_SKEW = dt.timedelta(minutes=15)
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs live at most a week
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
SESSION_TOKEN = "x-amz-security-token"
# S3 lets this one be unsigned: its value is checked against the body instead.
_S3_UNSIGNED_OK = frozenset({"x-amz-content-sha256"})


def request_timestamp(headers: Mapping[str, str]) -> tuple[str, str]:
    """(header name, ISO 8601 basic timestamp) of a header-signed request: X-Amz-Date,
    else Date (which HTTP clients send in RFC 7231 form). Raises DATE_MISSING."""
    if "x-amz-date" in headers:
        return "x-amz-date", headers["x-amz-date"]
    value = headers.get("date")
    if value is None:
        raise AuthFailure(AuthKind.DATE_MISSING)
    if len(value) == 16 and value.endswith("Z"):
        return "date", value
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise AuthFailure(AuthKind.DATE_MISSING) from None
    return "date", when.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def check_coverage(
    headers: Mapping[str, str], signed: frozenset[str], date_header: str, service: str
) -> None:
    """Raise unless the signature covers the host, the date and the headers that change
    what the request does."""
    if "host" not in signed:
        raise AuthFailure(AuthKind.HOST_UNSIGNED, fields={"HeadersNotSigned": "host"})
    if date_header and date_header not in signed:
        if service == "s3" and date_header == "x-amz-date":
            raise _not_signed([date_header])
        raise AuthFailure(AuthKind.DATE_MISSING)
    if service == "s3":
        # S3 refuses any x-amz-* header it was not shown in the signature
        unsigned = [
            name
            for name in headers
            if name.startswith("x-amz-") and name not in signed and name not in _S3_UNSIGNED_OK
        ]
        if unsigned:
            raise _not_signed(unsigned)
    elif "x-amz-target" in headers and "x-amz-target" not in signed:
        # the operation of a json-protocol call is this header
        raise AuthFailure(
            AuthKind.HEADERS_UNSIGNED,
            "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
        )


def _not_signed(names: list[str]) -> AuthFailure:
    joined = ", ".join(sorted(names))
    return AuthFailure(
        AuthKind.HEADERS_UNSIGNED,
        f"There were headers present in the request which were not signed: {joined}",
        fields={"HeadersNotSigned": joined},
    )


def check_token(
    headers: Mapping[str, str],
    query_token: str | None,
    issued: str | None,
    expires: float | None,
    now: float,
) -> None:
    """Temporary credentials need the session token they were issued with, until they
    expire; long-term keys take none (AWS refuses a token it did not issue rather than
    ignoring it)."""
    sent = headers.get(SESSION_TOKEN, query_token)
    if issued is None:
        if sent is not None:
            raise AuthFailure(AuthKind.INVALID_TOKEN)
        return
    if sent is None or not hmac.compare_digest(sent.encode(), issued.encode()):
        raise AuthFailure(AuthKind.INVALID_TOKEN)
    if expires is not None and now >= expires:
        raise AuthFailure(AuthKind.EXPIRED_TOKEN)


@functools.lru_cache(maxsize=1024)
def parse_timestamp(timestamp: str) -> dt.datetime:
    # strptime is slow and every request of a busy client in one second shares a stamp
    return dt.datetime.strptime(timestamp, TIMESTAMP_FORMAT).replace(tzinfo=dt.UTC)


def _stamp(when: dt.datetime) -> str:
    return when.strftime(TIMESTAMP_FORMAT)


def check_time(timestamp: str, now: dt.datetime, expires: int | None) -> None:
    """Header auth: within 15 minutes of now. Presigned (`expires` seconds): not dated
    later than the same 15 minutes allow, and not past its expiry."""
    try:
        when = parse_timestamp(timestamp)
    except ValueError:
        kind = AuthKind.MALFORMED if expires is None else AuthKind.QUERY_MALFORMED
        raise AuthFailure(kind, f"Invalid X-Amz-Date: {timestamp[:32]}") from None
    latest = now + MAX_SKEW
    if when > latest:
        detail = (
            f"Signature not yet current: {timestamp} is still later than {_stamp(latest)} "
            f"({_stamp(now)} + 15 min.)"
        )
        raise AuthFailure(AuthKind.EXPIRED if expires is None else AuthKind.PRESIGN_NOT_YET, detail)
    if expires is not None:
        if now > when + dt.timedelta(seconds=expires):
            raise AuthFailure(AuthKind.PRESIGN_EXPIRED, timestamp)
        return
    earliest = now - MAX_SKEW
    if when < earliest:
        raise AuthFailure(
            AuthKind.EXPIRED,
            f"Signature expired: {timestamp} is now earlier than {_stamp(earliest)} "
            f"({_stamp(now)} - 15 min.)",
        )


REQUIRED_PARAMS = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)


def presign_expires(raw: str | None) -> int:
    """X-Amz-Expires as seconds: required, from 0 to a week (S3's rule)."""
    if raw is None:
        raise AuthFailure(AuthKind.QUERY_MALFORMED, REQUIRED_PARAMS)
    if raw.startswith("-") and raw[1:].isdigit():
        raise AuthFailure(AuthKind.QUERY_MALFORMED, "X-Amz-Expires must be non-negative")
    if not (raw.isascii() and raw.isdigit()):
        raise AuthFailure(AuthKind.QUERY_MALFORMED, "X-Amz-Expires should be a number")
    # compare as text first: a 5,000-digit value must not reach int()
    if len(raw.lstrip("0")) > 7 or int(raw) > MAX_PRESIGN_SECONDS:
        raise AuthFailure(AuthKind.PRESIGN_TOO_LONG)
    return int(raw)
