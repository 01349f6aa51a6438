"""A small HTTP/1.1 client on asyncio + httptools, for talking to instances.

One request at a time per connection; connections are kept alive, so an invocation
costs one write and one read on an open socket. `HttpConnection.send` delivers the
answer to a callback straight from the parser (the invocation hot path: no future, no
task switch); `request` wraps it for coroutines.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httptools


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


# Called once per exchange with the response, or with the exception that ended it.
OnResponse = Callable[[HttpResponse | Exception], None]


class HttpConnection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.reusable = False
        self._on_response: OnResponse | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._got_headers = False

    # -- asyncio.Protocol -----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = transport  # type: ignore[assignment]
        self.reusable = True

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._finish(exc=ConnectionError(f"malformed HTTP response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if self._got_headers and self._on_response is not None:
            # a response delimited by closing the connection is complete now
            self._finish()
            return
        self._finish(exc=ConnectionError("connection closed by the instance"))

    # -- httptools callbacks --------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._got_headers = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.reusable = self.reusable and self.parser.should_keep_alive()
        self._finish()

    # -- use ------------------------------------------------------------------------
    def _finish(self, exc: Exception | None = None) -> None:
        on_response, self._on_response = self._on_response, None
        if on_response is None:
            return
        if exc is not None:
            on_response(exc)
        else:
            status = self.parser.get_status_code()
            on_response(HttpResponse(status, self._headers, b"".join(self._body)))

    @property
    def idle(self) -> bool:
        """Open, and no exchange in progress."""
        return self._on_response is None and self.transport is not None and self.reusable

    def send(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes,
        on_response: OnResponse,
    ) -> None:
        """Write one request; `on_response` gets its answer (or a ConnectionError)."""
        if self.transport is None or self.transport.is_closing():
            on_response(ConnectionError("connection is closed"))
            return
        self._headers, self._body, self._got_headers = {}, [], False
        self._on_response = on_response
        head = f"{method} {path} HTTP/1.1\r\nHost: instance\r\nContent-Length: {len(body)}\r\n"
        for name, value in headers:
            head += f"{name}: {value}\r\n"
        self.transport.write((head + "\r\n").encode("latin-1") + body)

    async def request(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes = b"",
        timeout: float | None = None,
    ) -> HttpResponse:
        """Send one request; TimeoutError (and a closed connection) after `timeout` s."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[HttpResponse] = loop.create_future()

        def settle(outcome: HttpResponse | Exception) -> None:
            if waiter.done():
                return
            if isinstance(outcome, Exception):
                waiter.set_exception(outcome)
            else:
                waiter.set_result(outcome)

        self.send(method, path, headers, body, settle)
        # a timer handle rather than asyncio.wait_for: no extra task
        timer = loop.call_later(timeout, self.abort, TimeoutError()) if timeout else None
        try:
            return await waiter
        finally:
            if timer is not None:
                timer.cancel()

    def abort(self, exc: Exception) -> None:
        """End the exchange in progress with `exc` and close the connection."""
        self._finish(exc=exc)
        self.close()

    @property
    def answered(self) -> bool:
        """Whether the instance started answering the current request."""
        return self._got_headers

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


Connector = Callable[[], Awaitable[HttpConnection]]


def unix_connector(path: str, trusted: Callable[[int], bool] | None = None) -> Connector:
    """Connections to a Unix socket; with `trusted`, only to one whose listening process
    (its SO_PEERCRED pid) passes: the socket's directory is writable by sandboxed code,
    which could otherwise put a link to another socket there."""

    async def connect() -> HttpConnection:
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_unix_connection(HttpConnection, path)
        if trusted is not None:
            sock = transport.get_extra_info("socket")
            pid, _, _ = struct.unpack(
                "3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            )
            if not trusted(pid):
                transport.close()
                raise ConnectionRefusedError(f"{path} is not served by the instance (pid {pid})")
        return proto

    return connect


def tcp_connector(host: str, port: int) -> Connector:
    async def connect() -> HttpConnection:
        _, proto = await asyncio.get_running_loop().create_connection(HttpConnection, host, port)
        return proto

    return connect


class NotSent(ConnectionError):
    """The request never reached the instance (it went away, or could not be connected
    to, before the request was sent): it may safely go to another instance. A request
    that was sent when its instance died is not one: it may be what killed it."""


class ConnectionPool:
    """Idle keep-alive connections to one instance."""

    def __init__(self, connect: Connector, max_idle: int = 32) -> None:
        self.connect = connect
        self.max_idle = max_idle
        self._idle: list[HttpConnection] = []

    async def request(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes = b"",
        timeout: float | None = None,
    ) -> HttpResponse:
        conn = self._take_idle()
        try:
            if conn is None:
                conn = await self._connect()
                resp = await conn.request(method, path, headers, body, timeout)
            else:
                try:
                    resp = await conn.request(method, path, headers, body, timeout)
                except ConnectionError:
                    if conn.answered:
                        raise
                    # the instance closed this idle connection meanwhile; one fresh try
                    conn = await self._connect()
                    resp = await conn.request(method, path, headers, body, timeout)
        except BaseException:
            if conn is not None:
                conn.close()  # a cancelled or failed exchange leaves the stream unusable
            raise
        if conn.reusable and len(self._idle) < self.max_idle:
            self._idle.append(conn)
        else:
            conn.close()
        return resp

    async def _connect(self) -> HttpConnection:
        try:
            return await self.connect()
        except OSError as exc:
            raise NotSent(f"could not connect to the instance: {exc}") from exc

    def _take_idle(self) -> HttpConnection | None:
        while self._idle:
            conn = self._idle.pop()
            if conn.reusable:
                return conn
        return None

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
