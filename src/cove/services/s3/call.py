"""One S3 request as the operation handlers see it, and what they answer with."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from cove.errors import AwsError
from cove.http.messages import Request
from cove.iam.principals import Identities
from cove.protocol.rest import OperationBinding, malformed
from cove.protocol.rest_routes import parse_query
from cove.services.s3.payload import Payload, SecretLookup, read_payload
from cove.services.s3.values import invalid_count

# The namespace of S3's documents (the model gives its root elements none).
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"

# Whether the caller may do the operation's action on one key of the call's bucket.
KeyCheck = Callable[[str], bool]


@dataclass
class S3Call:
    req: Request
    bucket: str  # "" for the service (ListBuckets)
    key: str  # "" for bucket operations
    params: dict[str, list[str]]  # the query as sent, for routing; handlers read `input`
    secret_for: SecretLookup | None = None
    # the operation's input members, as its rest binding parsed them from the request
    # (all but an XML payload, which `document` reads once the body's checks passed)
    input: dict[str, Any] = field(default_factory=dict)
    binding: OperationBinding | None = None
    # the account's users and roles, which a bucket policy's principals must name
    identities: Identities | None = None
    # set for the operations S3 authorizes per key they name (DeleteObjects), not once
    may_act_on: KeyCheck | None = None

    @property
    def headers(self) -> dict[str, str]:
        return self.req.headers

    @property
    def request_id(self) -> str:
        return self.req.context.request_id

    @property
    def account(self) -> str:
        principal = self.req.context.principal
        return principal.account_id if principal else "anonymous"

    def payload(self, flexible: bool = True) -> Payload:
        """The body, decoded (aws-chunked) and checked as it is read: a streaming payload
        member as the binding handed it through, else the whole body."""
        return read_payload(self.req, self.secret_for, flexible, self.input.get("Body"))

    def document(self, flexible: bool = True) -> Any:
        """The operation's XML payload member (CreateBucketConfiguration, Delete, ...), from
        the body once its integrity checks passed; None for a body of whitespace at most."""
        assert self.binding is not None and self.binding.payload_name is not None
        body = self.payload(flexible).verified_bytes()
        if not body.strip():
            return None
        return self.binding.parse_body(body).get(self.binding.payload_name)

    def count(self, member: str, default: int, maximum: int | None = None) -> int:
        """A count parameter (MaxKeys, ...): `default` when absent, at most `maximum`."""
        value = self.input.get(member)
        if value is None:
            return default
        if value < 0:
            assert self.binding is not None
            raise invalid_count(self.binding.wire_name(member), str(value))
        return value if maximum is None else min(value, maximum)

    def encoder(self) -> Callable[[str], str]:
        """How keys are written into listings: URL-encoded when the client asked for it
        (boto3 always does, and decodes them again)."""
        encoding = self.input.get("EncodingType")
        if encoding == "url":
            return lambda text: quote(text, safe="/")
        if encoding not in (None, ""):
            raise AwsError("InvalidArgument", "Invalid Encoding Method specified in Request")
        return lambda text: text


@dataclass(frozen=True)
class Reply:
    """What an operation answers: its output members, which the binding writes as headers
    and the XML body (or the object's bytes)."""

    output: dict[str, Any] = field(default_factory=dict)
    status: int | None = None  # where HTTP sets it and the model cannot: 206, 304
    # a document the model cannot describe (GetBucketLocation's legacy one)
    document: bytes | None = None


# Virtual-hosted names (Amazon S3 User Guide, "Virtual hosting of buckets" and "AWS
# PrivateLink for Amazon S3"): bucket.s3.<region>.amazonaws.com, bucket.s3.amazonaws.com,
# the legacy bucket.s3-<region>.amazonaws.com, and through an interface endpoint
# bucket.bucket.vpce-<id>.s3.<region>.vpce.amazonaws.com. Clients inside a VPC reach Cove
# by these real names; `bucket.localhost` is Cove's own for clients on this machine.
_VIRTUAL_HOSTS = (
    re.compile(r"^(?P<bucket>.+)\.s3\.amazonaws\.com$"),
    re.compile(r"^(?P<bucket>.+)\.s3[.-][a-z0-9-]+\.amazonaws\.com$"),
    re.compile(r"^(?P<bucket>.+)\.bucket\.vpce-[a-z0-9-]+\.s3\.[a-z0-9-]+\.vpce\.amazonaws\.com$"),
    re.compile(r"^(?P<bucket>.+)\.localhost$"),
)


def bucket_of_host(host: str) -> str | None:
    """The bucket a virtual-hosted Host names; None for a path-style request."""
    for pattern in _VIRTUAL_HOSTS:
        match = pattern.match(host)
        if match:
            return match.group("bucket")
    return None


def parse_call(req: Request, secret_for: SecretLookup | None) -> S3Call:
    """Path-style (`/bucket/key`) or virtual-hosted (the bucket in the Host)."""
    path = req.path
    host = req.headers.get("host", "").rsplit(":", 1)[0].lower()
    virtual = bucket_of_host(host)
    if virtual is not None:
        bucket, key = virtual, path[1:]
    else:
        bucket, _, key = path[1:].partition("/")
    params = parse_query(req.query)
    return S3Call(req, decode_path(bucket), decode_path(key), params, secret_for)


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


def malformed_xml() -> AwsError:
    """A document that parses but is not what its operation takes (no Object to delete)."""
    return malformed("rest-xml", "", xml_body=True)


def quoted(etag: str) -> str:
    return f'"{etag}"'


def owner(account: str) -> dict[str, str]:
    """S3 names owners by a 64-hex canonical user id; derive a stable one per account."""
    canonical = hashlib.sha256(f"cove:{account}".encode()).hexdigest()
    return {"ID": canonical, "DisplayName": account}
