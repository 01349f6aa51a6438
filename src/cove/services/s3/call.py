"""One S3 request as the operation handlers see it, and the helpers that answer it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote_to_bytes

from cove.errors import AwsError
from cove.http.messages import Request, Response
from cove.services.s3.payload import Payload, SecretLookup, read_payload
from cove.services.s3.xml_docs import Node, render

XML = "application/xml"


@dataclass
class S3Call:
    req: Request
    bucket: str  # "" for the service (ListBuckets)
    key: str  # "" for bucket operations
    query: dict[str, str]
    secret_for: SecretLookup | None = None

    @property
    def headers(self) -> dict[str, str]:
        return self.req.headers

    def header(self, name: str) -> str | None:
        return self.req.headers.get(name)

    @property
    def request_id(self) -> str:
        return self.req.context.request_id

    @property
    def account(self) -> str:
        principal = self.req.context.principal
        return principal.account_id if principal else "anonymous"

    def payload(self, flexible: bool = True) -> Payload:
        return read_payload(self.req, self.secret_for, flexible)

    def int_param(self, name: str, default: int, maximum: int | None = None) -> int:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value < 0:
            raise AwsError(
                "InvalidArgument",
                f"Provided {name} not an integer or within integer range",
                fields={"ArgumentName": name, "ArgumentValue": raw},
            )
        return value if maximum is None else min(value, maximum)

    def encoder(self) -> Callable[[str], str]:
        """How keys are written into listings: URL-encoded when the client asked for it
        (boto3 always does, and decodes them again)."""
        if self.query.get("encoding-type") == "url":
            return lambda text: quote(text, safe="/")
        if self.query.get("encoding-type") not in (None, ""):
            raise AwsError("InvalidArgument", "Invalid Encoding Method specified in Request")
        return lambda text: text


def parse_call(req: Request, secret_for: SecretLookup | None) -> S3Call:
    """Path-style (`/bucket/key`) or, for `bucket.localhost` hosts, virtual-hosted."""
    query = dict(parse_qsl(req.query, keep_blank_values=True))
    path = req.path
    host = req.headers.get("host", "").rsplit(":", 1)[0].lower()
    if host.endswith(".localhost"):
        bucket, key = host.removesuffix(".localhost"), path[1:]
    else:
        bucket, _, key = path[1:].partition("/")
    return S3Call(req, decode_path(bucket), decode_path(key), query, secret_for)


_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_path(raw: str) -> str:
    """A percent-encoded path part as text. S3 refuses escapes that are malformed or
    decode to invalid UTF-8 instead of guessing (unquote would keep or replace them)."""
    if "%" not in raw:
        return raw
    try:
        if _ESCAPE.search(raw):
            raise ValueError(raw)
        return unquote_to_bytes(raw).decode("utf-8")
    except ValueError:
        raise AwsError("InvalidURI", "Couldn't parse the specified URI.") from None


def common_headers(call: S3Call) -> list[tuple[str, str]]:
    return [("x-amz-request-id", call.request_id), ("x-amz-id-2", call.request_id)]


def respond(
    call: S3Call,
    status: int = 200,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
) -> Response:
    return Response(status, [*common_headers(call), *headers], body)


def xml_response(
    call: S3Call,
    root: str,
    children: Sequence[Node],
    headers: Sequence[tuple[str, str]] = (),
) -> Response:
    return respond(call, 200, [("Content-Type", XML), *headers], render(root, children))


def quoted(etag: str) -> str:
    return f'"{etag}"'


def owner(account: str) -> list[Node]:
    """S3 names owners by a 64-hex canonical user id; derive a stable one per account."""
    canonical = hashlib.sha256(f"cove:{account}".encode()).hexdigest()
    return [("ID", canonical), ("DisplayName", account)]
