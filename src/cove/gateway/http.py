"""A lean HTTP/1.1 server protocol on httptools: keep-alive, pipelining, 100-continue.

The gateway and the model workers both serve through it; it hands each complete
request to an async `app(request) -> Response` and writes the answer in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus

import httptools

from cove.gateway.header_values import safe_headers
from cove.gateway.messages import Listener, Request, RequestContext, Response

log = logging.getLogger(__name__)

App = Callable[[Request], Awaitable[Response]]
Reply = Callable[[Response], None]
# An app may also offer `answer_now(request, reply) -> bool`, which the connection calls
# from the parser callback when nothing else is in flight on it. Returning True means
# the app calls `reply(response)` exactly once, now or later (model workers answer at
# once; the gateway when the instance answers); False sends the request the general
# way, through `app(request)` on the connection's serving task. This saves the task
# switches and event loop turns of the general way on the invocation hot path.
# Called with (headers, path) once headers are in; returns a Response to answer
# early (e.g. a body that is too large) or None to read the body.
EarlyCheck = Callable[[dict[str, str], str], Response | None]

_REASONS = {s.value: s.phrase for s in HTTPStatus}
_REASONS[424] = "Failed Dependency"


def _head(status: int, headers: list[tuple[str, str]], length: int, keep_alive: bool) -> str:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines.extend(f"{k}: {v}" for k, v in headers)
    lines.append(f"Content-Length: {length}")
    if not keep_alive:
        lines.append("Connection: close")
    return "\r\n".join(lines) + "\r\n\r\n"


def _head_bytes(
    status: int, headers: list[tuple[str, str]], length: int, keep_alive: bool
) -> bytes:
    """The status line and headers. A value holding a CR or LF would start a header of
    its own, so the line breaks are counted (cheaper than checking every value); on a
    mismatch, or a character Latin-1 cannot hold, the headers are made safe first."""
    text = _head(status, headers, length, keep_alive)
    breaks = len(headers) + 3 + (not keep_alive)  # one per line plus the blank line
    if text.count("\n") == breaks and text.count("\r") == breaks:
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            pass
    return _head(status, safe_headers(headers), length, keep_alive).encode("latin-1")


def encode_response(resp: Response, keep_alive: bool, head: bool = False) -> bytes:
    length = resp.content_length if resp.content_length is not None else len(resp.body)
    head_bytes = _head_bytes(resp.status, resp.headers, length, keep_alive)
    if head or resp.content_length is not None:
        return head_bytes
    return head_bytes + resp.body


class HttpProtocol(asyncio.Protocol):
    """One client connection. Requests are answered strictly in arrival order."""

    def __init__(
        self,
        app: App,
        listener: Listener,
        early_check: EarlyCheck | None = None,
        max_body: int = 6 * 1024**3,
    ) -> None:
        self.app = app
        self.listener = listener
        self.early_check = early_check
        self.max_body = max_body
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._body_size = 0
        self._early: Response | None = None
        self._queue: asyncio.Queue[tuple[Request | Response, bool, bool] | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        self._busy = False  # the serving task is between taking a request and answering it
        self._replying = False  # an answer_now reply is due
        self._replied: asyncio.Future[None] | None = None  # the serving task waits for it
        self._answer_now: Callable[[Request, Reply], bool] | None = getattr(
            app, "answer_now", None
        )

    # -- asyncio.Protocol ---------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if isinstance(peer, tuple) else "unix"
        self._worker = asyncio.get_running_loop().create_task(self._serve())

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400, "Upgrade is not supported")
        except httptools.HttpParserError as exc:
            self._fail(400, f"Malformed HTTP request: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        if self._worker is not None:
            self._worker.cancel()

    # -- httptools callbacks ------------------------------------------------------
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []
        self._body_size = 0
        self._early = None

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        val = value.decode("latin-1")
        if key in self._headers:
            self._headers[key] += "," + val
        else:
            self._headers[key] = val

    def on_headers_complete(self) -> None:
        path = self._url.decode("latin-1").split("?", 1)[0]
        if self.early_check is not None:
            self._early = self.early_check(self._headers, path)
        if self._early is None and self._headers.get("expect", "").lower() == "100-continue":
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if self._early is not None:
            return  # answered already; discard what the client sends anyway
        self._body_size += len(body)
        if self._body_size > self.max_body:
            self._fail(413, "Request body is too large")
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        head = self.parser.get_method() == b"HEAD"
        if self._early is not None:
            self._queue.put_nowait((self._early, keep_alive, head))
            return
        raw = self._url.decode("latin-1")
        path, _, query = raw.partition("?")
        ctx = RequestContext(listener=self.listener, source_ip=self.peer)
        req = Request(
            method=self.parser.get_method().decode("ascii"),
            path=path,
            query=query,
            headers=self._headers,
            body=b"".join(self._body),
            context=ctx,
            received_at=time.perf_counter(),
        )
        if (
            self._answer_now is not None
            and not (self._busy or self._replying)
            and self._queue.empty()
        ):
            self._replying = True
            reply = self._reply_to(keep_alive, head)
            try:
                if self._answer_now(req, reply):
                    return
            except Exception:  # the app serializes its own errors; this is a bug
                log.exception("unhandled error serving %s %s", req.method, req.path)
                reply(Response(500, [("Content-Type", "text/plain")], b"Internal error"))
                return
            self._replying = False
        self._queue.put_nowait((req, keep_alive, head))

    # -- answering ----------------------------------------------------------------
    async def _serve(self) -> None:
        transport = self.transport
        assert transport is not None
        while True:
            item = await self._queue.get()
            if item is None:
                transport.close()
                return
            msg, keep_alive, head = item
            if self._replying:  # answers go out in order: the earlier one first
                self._replied = asyncio.get_running_loop().create_future()
                await self._replied
                if transport.is_closing():
                    return
            self._busy = True
            if isinstance(msg, Response):
                resp = msg
            else:
                try:
                    resp = await self.app(msg)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the app serializes its own errors; this is a bug
                    log.exception("unhandled error serving %s %s", msg.method, msg.path)
                    resp = Response(500, [("Content-Type", "text/plain")], b"Internal error")
            self._busy = False
            if transport.is_closing():
                return
            self._write(resp, keep_alive, head)
            if not keep_alive:
                return

    def _reply_to(self, keep_alive: bool, head: bool) -> Reply:
        used = False

        def reply(resp: Response) -> None:
            nonlocal used
            if used:  # exactly once, even if a buggy app calls again
                return
            used = True
            self._replying = False
            assert self.transport is not None
            if not self.transport.is_closing():
                self._write(resp, keep_alive, head)
            waiter, self._replied = self._replied, None
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

        return reply

    def _write(self, resp: Response, keep_alive: bool, head: bool) -> None:
        assert self.transport is not None
        self.transport.write(encode_response(resp, keep_alive, head))
        if not keep_alive:
            self.transport.close()

    def _fail(self, status: int, message: str) -> None:
        if self._closing or self.transport is None:
            return
        self._closing = True
        body = message.encode()
        resp = Response(status, [("Content-Type", "text/plain")], body)
        self._queue.put_nowait((resp, False, False))
        self.transport.pause_reading()


async def serve_tcp(
    app: App,
    host: str,
    port: int,
    listener: Listener,
    early_check: EarlyCheck | None = None,
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: HttpProtocol(app, listener, early_check),
        host,
        port,
        reuse_address=True,
        backlog=1024,
    )


async def serve_unix(app: App, path: str, listener: Listener) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_unix_server(lambda: HttpProtocol(app, listener), path, backlog=1024)
