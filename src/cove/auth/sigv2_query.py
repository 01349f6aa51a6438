"""S3's query-string authentication of signature version 2, which boto3's
`generate_presigned_url` and `aws s3 presign` still produce for S3 by default:
`?AWSAccessKeyId=...&Signature=...&Expires=<epoch seconds>`.

As for SigV4, the expected signature comes from botocore's own signer (`HmacV1QueryAuth`).
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import HmacV1QueryAuth
from botocore.awsrequest import HTTPHeaders
from botocore.credentials import Credentials

from cove.http.messages import Request

MARKERS = frozenset({"AWSAccessKeyId", "Signature", "Expires"})


def is_v2_query(req: Request) -> bool:
    """All three parameters present by name: a substring test would also take SigV4's
    X-Amz-Signature and X-Amz-Expires for them."""
    if "authorization" in req.headers or "AWSAccessKeyId=" not in req.query:
        return False
    return {name for name, _ in parse_qsl(req.query, keep_blank_values=True)} >= MARKERS


def params(req: Request) -> dict[str, str]:
    return dict(parse_qsl(req.query, keep_blank_values=True))


class _ExpiresAt(HmacV1QueryAuth):
    """botocore's presigner with the Expires the URL carries, instead of now + N."""

    def __init__(self, credentials: Credentials, expires_at: str) -> None:
        super().__init__(credentials)
        self._expires_at = expires_at

    def _get_date(self) -> str:
        return self._expires_at


def _signed(name: str) -> bool:
    return name in ("content-md5", "content-type") or name.startswith("x-amz-")


def expected_signature(req: Request, secret: str, access_key: str, expires: str) -> str:
    headers = HTTPHeaders()
    for name, value in req.headers.items():
        if _signed(name):
            headers[name] = value
    # The presigner signs these as headers, then moves them into the query string: a
    # session's x-amz-security-token above all, which the URL carries only there.
    for name, value in parse_qsl(req.query, keep_blank_values=True):
        if _signed(name.lower()) and name.lower() not in headers:
            headers[name.lower()] = value
    split = urlsplit(f"http://{req.headers.get('host', '')}{req.path}?{req.query}")
    signer = _ExpiresAt(Credentials(access_key, secret), expires)
    return signer.get_signature(req.method, split, headers)


def expired(expires: str, now: float | None = None) -> bool:
    try:
        return (now or time.time()) > int(expires)
    except ValueError:
        return True
