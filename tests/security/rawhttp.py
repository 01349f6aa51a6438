"""Raw HTTP/1.1 over sockets, for what a well-behaved client library will not send."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def connect(port: int, source: str = "127.0.0.1", timeout: float = 10) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def head_bytes(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_response(sock: socket.socket) -> tuple[int, bytes, bytes]:
    """(status, head, body) of one response; reads up to its Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, head, body


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (reading and dropping any answer), or None."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - start
    return None


def send_until_refused(sock: socket.socket, total: int, block: int = 1 << 20) -> int:
    """Send up to `total` bytes of body from a generator; returns how many went out
    before the server closed the connection."""
    sent = 0
    piece = b"\0" * block
    sock.settimeout(10)
    try:
        while sent < total:
            sent += sock.send(piece[: min(block, total - sent)])
    except OSError:
        pass
    return sent


def signed_headers(
    service: str, method: str, url: str, headers: dict[str, str], key: str, secret: str,
    data: bytes = b"",
) -> dict[str, str]:
    """SigV4 headers over `data` (S3 signs its hash in x-amz-content-sha256); the body
    itself is sent, or not, by the caller."""
    req = AWSRequest(method=method, url=url, headers=headers, data=data)
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(Credentials(key, secret), service, "us-east-1").add_auth(req)
    return {k: v for k, v in req.headers.items()}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")
