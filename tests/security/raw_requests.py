"""Raw requests for the hostile tests: signed by botocore's own signers, then tampered
with, and sent with http.client exactly as built (no client-side fix-ups or retries)."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass(frozen=True)
class Call:
    """One request of one protocol: what is signed and sent."""

    protocol: str  # json | rest-json | rest-xml
    service: str  # the signing name
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""

    def with_body(self, body: bytes) -> Call:
        return replace(self, body=body)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def code(self, protocol: str) -> str:
        """The AWS error code as each protocol carries it."""
        if protocol == "rest-xml":
            found = re.search(rb"<Code>([^<]*)</Code>", self.body)
            return found.group(1).decode() if found else ""
        if "x-amzn-errortype" in self.headers:
            return self.headers["x-amzn-errortype"].split(":")[0]
        return str(json.loads(self.body or b"{}").get("__type", ""))

    def message(self, protocol: str) -> str:
        if protocol == "rest-xml":
            found = re.search(rb"<Message>([^<]*)</Message>", self.body)
            return found.group(1).decode() if found else ""
        doc = json.loads(self.body or b"{}")
        return str(doc.get("message", doc.get("Message", "")))


def credentials(server) -> Credentials:  # noqa: ANN001 - the conftest CoveServer
    return Credentials(*server.credentials())


def _url(server, call: Call) -> str:  # noqa: ANN001
    return f"{server.url}{call.path}" + (f"?{call.query}" if call.query else "")


class _Only:
    """Mixin: sign only the named headers (to build requests that sign too little)."""

    only: frozenset[str] = frozenset()

    def headers_to_sign(self, request):  # noqa: ANN001, ANN201 - botocore's hook
        picked = super().headers_to_sign(request)  # type: ignore[misc]
        for name in list(picked.keys()):
            if name.lower() not in self.only:
                del picked[name]
        return picked


def sign(
    server,  # noqa: ANN001
    call: Call,
    *,
    only: Iterable[str] | None = None,
    token: str | None = None,
) -> dict[str, str]:
    """The headers botocore's SigV4 signer sends for `call` (S3SigV4Auth for S3);
    `only` restricts SignedHeaders, `token` adds a session token to the credentials."""
    base = S3SigV4Auth if call.service == "s3" else SigV4Auth
    signer_cls = base
    if only is not None:
        signer_cls = type("Only", (_Only, base), {"only": frozenset(only)})
    creds = credentials(server)
    if token is not None:
        creds = Credentials(creds.access_key, creds.secret_key, token)
    aws = AWSRequest(call.method, _url(server, call), headers=dict(call.headers), data=call.body)
    signer_cls(creds, call.service, "us-east-1").add_auth(aws)
    return dict(aws.headers.items())


def presign(server, call: Call, expires: int = 3600) -> str:  # noqa: ANN001
    """A presigned URL's path and query (S3SigV4QueryAuth for S3)."""
    signer_cls = S3SigV4QueryAuth if call.service == "s3" else SigV4QueryAuth
    aws = AWSRequest(call.method, _url(server, call), headers=dict(call.headers))
    signer_cls(credentials(server), call.service, "us-east-1", expires=expires).add_auth(aws)
    return aws.url.removeprefix(server.url)


def send(
    server,  # noqa: ANN001
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes = b"",
    timeout: float = 10,
) -> Answer:
    """Send exactly these headers (plus Content-Length); Host comes from `headers`
    when signed there, else the server's address."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        names = {k.lower() for k in headers}
        if "host" not in names:
            conn.putheader("Host", f"127.0.0.1:{server.port}")
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def send_call(server, call: Call, headers: dict[str, str], body: bytes | None = None) -> Answer:  # noqa: ANN001
    target = call.path + (f"?{call.query}" if call.query else "")
    return send(server, call.method, target, headers, call.body if body is None else body)
