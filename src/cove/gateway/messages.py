"""The request and response objects handlers see, and the RequestContext policies see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Listener:
    """Where a request arrived: the public listener, or a VPC endpoint's ENI."""

    kind: str = "public"  # "public" | "vpce"
    vpce_id: str | None = None
    vpc_id: str | None = None
    subnet_id: str | None = None
    az: str | None = None


PUBLIC_LISTENER = Listener()


@dataclass
class Principal:
    account_id: str
    arn: str
    access_key: str


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
    condition_keys: dict[str, Any] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str  # raw, still percent-encoded
    query: str  # raw query string without '?'
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ','
    body: bytes
    context: RequestContext
    received_at: float = 0.0  # time.perf_counter() when the whole request was read

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


@dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # For HEAD: the Content-Length to announce without sending a body.
    content_length: int | None = None
