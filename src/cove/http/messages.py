"""The request and response objects handlers see, and the RequestContext policies see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from cove.http.body import BodyStream


@dataclass(frozen=True)
class Listener:
    """Where a request arrived: the public listener (or its edge inside a VPC: that VPC),
    a VPC endpoint's ENI (its endpoint, VPC, subnet and AZ), a host's instance metadata
    service (the host's ENI), the container credentials endpoint of a SageMaker
    instance's or job's ENI, or a private socket (a worker's)."""

    kind: str = "public"  # "public" | "vpce" | "imds" | "credentials" | "worker"
    vpce_id: str | None = None
    vpc_id: str | None = None
    subnet_id: str | None = None
    az: str | None = None
    interface_id: str | None = None  # the ENI the listener is on
    tls: bool = False  # it speaks TLS (aws:SecureTransport)

    @property
    def through_endpoint(self) -> bool:
        return self.kind == "vpce"


PUBLIC_LISTENER = Listener()


@dataclass
class Principal:
    account_id: str
    arn: str
    access_key: str
    user_id: str = ""  # AIDA... for a user, AROA...:session for a role session, the account
    name: str = ""  # the user's name (aws:username); empty for root and role sessions
    role_arn: str = ""  # a role session's role
    session_policy: str | None = None  # a role session's session policy, as passed

    @property
    def is_root(self) -> bool:
        return self.arn.endswith(":root")


@dataclass
class RequestContext:
    """Built once per request; what authorization is evaluated on."""

    listener: Listener
    source_ip: str
    principal: Principal | None = None
    service: str | None = None  # signing name from the credential scope
    region: str | None = None
    operation: str | None = None
    request_id: str = ""
    authenticated: bool = False  # the signature was verified from the headers already
    condition_keys: dict[str, Any] = field(default_factory=dict)
    host: str = ""  # the Host the client addressed: URLs handed back to it name it


@dataclass
class Request:
    method: str
    path: str  # raw, still percent-encoded
    query: str  # raw query string without '?'
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ','
    body: bytes
    context: RequestContext
    received_at: float = 0.0  # time.perf_counter() when the whole request was read
    # Set instead of `body` for a body the handler reads as it arrives (see BodyPlan).
    stream: BodyStream | None = None
    service: Any = None  # what the gateway routed it to, once it has

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


@dataclass
class FileBody:
    """A response body sent from an open file as the client takes it: `length` bytes
    from `offset`; the HTTP layer closes the file when done."""

    file: BinaryIO
    offset: int
    length: int


@dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # For HEAD: the Content-Length to announce without sending a body.
    content_length: int | None = None
    # Instead of `body`, for large bodies (S3 objects): streamed, never held whole.
    file: FileBody | None = None


@dataclass(frozen=True)
class BodyPlan:
    """How a request's body is taken, decided from its headers before any of it is read."""

    limit: int  # most bytes accepted; a declared length above it is refused unread
    too_large: Callable[[int], Exception]  # the error to answer for `size` bytes over it
    stream: bool = False  # the handler reads it as it arrives (the signature verified)
    # aws-chunked framing may add this much on the wire to `limit` bytes of content
    framing: int = 0
