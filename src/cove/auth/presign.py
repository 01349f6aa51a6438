"""SigV4 presigned URLs that Cove itself hands out (Lambda's Code.Location): botocore's
S3 query signer, dated when the caller says so the expiry can be checked either way."""

from __future__ import annotations

import datetime as dt

from botocore.auth import SIGV4_TIMESTAMP, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class _DatedQueryAuth(S3SigV4QueryAuth):
    """botocore's presigner with the signing time given instead of now."""

    def __init__(
        self, credentials: Credentials, region: str, expires: int, at: dt.datetime
    ) -> None:
        super().__init__(credentials, "s3", region, expires=expires)
        self._at = at

    def add_auth(self, request: AWSRequest) -> None:
        request.context["timestamp"] = self._at.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        signature = self.signature(self.string_to_sign(request, canonical), request)
        self._inject_signature_to_request(request, signature)


def presigned_get(
    url: str,
    access_key: str,
    secret: str,
    region: str,
    expires: int,
    at: dt.datetime | None = None,
) -> str:
    """`url` (scheme, host, path) as an S3-style presigned GET, valid `expires` seconds
    from `at` (now by default)."""
    request = AWSRequest(method="GET", url=url)
    signer = _DatedQueryAuth(
        Credentials(access_key, secret), region, expires, at or dt.datetime.now(dt.UTC)
    )
    signer.add_auth(request)
    return request.url
