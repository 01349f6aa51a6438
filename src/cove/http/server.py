"""A lean HTTP/1.1 server protocol on httptools: keep-alive, pipelining, 100-continue.

The gateway and the model workers both serve through it; it hands each complete
request to an async `app(request) -> Response` and writes the answer in order.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus

import httptools

from cove.http.body import BodyFailure, BodyStream
from cove.http.connections import Connections
from cove.http.exchange import Exchange
from cove.http.header_values import safe_headers
from cove.http.limits import HttpLimits
from cove.http.messages import BodyPlan, Listener, Request, RequestContext, Response

log = logging.getLogger(__name__)

App = Callable[[Request], Awaitable[Response]]
Reply = Callable[[Response], None]
# An app may also offer `answer_now(request, reply) -> bool`, which the connection calls
# from the parser callback when nothing else is in flight on it. Returning True means
# the app calls `reply(response)` exactly once, now or later (model workers answer at
# once; the gateway when the instance answers); False sends the request the general
# way, through `app(request)` on the connection's serving task. This saves the task
# switches and event loop turns of the general way on the invocation hot path.
#
# And `admit(request) -> Response | BodyPlan`, called once the headers are in (the body
# still empty): a Response refuses the request without reading its body (the connection
# then closes); a BodyPlan says how much body to take and whether the app reads it as it
# arrives (`request.stream`, the request handed over at once). With admit comes
# `refuse_body(request, failure, size) -> Response`, the answer when the body breaks its
# plan. Apps without them get their whole body in memory, up to `max_body`.
Admit = Callable[[Request], "Response | BodyPlan"]


class Phase(enum.Enum):
    """What the connection is reading."""

    BETWEEN = 0  # no request: idle, or waiting for the app to answer
    HEADERS = 1
    BODY = 2


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
    """The response's bytes; for a file body, its head only (the file follows)."""
    if resp.file is not None:
        length = resp.file.length
    else:
        length = resp.content_length if resp.content_length is not None else len(resp.body)
    head_bytes = _head_bytes(resp.status, resp.headers, length, keep_alive)
    if head or resp.content_length is not None or resp.file is not None:
        return head_bytes
    return head_bytes + resp.body


FILE_CHUNK = 256 * 1024


_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# Sent, before closing, to a connection over a cap: nothing of its request was read.
_OVER_CAPACITY_TEXT = b"Too many connections"
_OVER_CAPACITY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
    % (len(_OVER_CAPACITY_TEXT), _OVER_CAPACITY_TEXT)
)
# What the serving task answers, in order: a request (its Exchange), or a refusal that
# closes the connection once written; None closes it at once.
_ITEM = Exchange | Response | None


def _plain(status: int, message: str) -> Response:
    return Response(status, [("Content-Type", "text/plain")], message.encode())


def plain_body_refusal(failure: BodyFailure, size: int) -> Response:
    if failure is BodyFailure.TIMEOUT:
        return _plain(408, "Request body timed out")
    return _plain(413, "Request body is too large")


class HttpProtocol(asyncio.Protocol):
    """One client connection. Requests are answered strictly in arrival order.

    It holds what outlives a request (transport, parser, reading phase and its clock,
    answers owed and their order, flow control); each request's own state is its
    `Exchange`, and the parser callbacks work on the one being read, `_exchange`.
    """

    def __init__(
        self,
        app: App,
        listener: Listener,
        limits: HttpLimits | None = None,
        connections: Connections | None = None,
        max_body: int = 6 * 1024**3,
    ) -> None:
        self.app = app
        self.listener = listener
        self.limits = limits
        self.connections = connections
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        # The request being read, from its first byte until it is read whole (then the
        # serving task or a callback answer holds it): None between requests.
        self._exchange: Exchange | None = None
        self._head_seen = 0  # bytes fed while reading a request's head
        self._read_size = 0  # bytes of the read being parsed
        self._default_plan = BodyPlan(max_body, lambda size: ValueError("too large"))
        self._reading = Phase.BETWEEN
        self._since = time.monotonic()  # when the current phase (or idleness) began
        self._pending = 0  # requests taken and not yet answered
        self._queue: asyncio.Queue[_ITEM] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._closing = False  # the connection is gone
        self._discard = False  # input is no longer read: an answer that closes is due
        self._busy = False  # the serving task is between taking a request and answering it
        self._replying = False  # an answer_now reply is due
        self._replied: asyncio.Future[None] | None = None  # the serving task waits for it
        self._drained: asyncio.Future[None] | None = None  # set while the peer is not reading
        self._answer_now: Callable[[Request, Reply], bool] | None = getattr(app, "answer_now", None)
        self._admit: Admit | None = getattr(app, "admit", None)
        self._refuse_body: Callable[[Request, BodyFailure, int], Response] | None = getattr(
            app, "refuse_body", None
        )

    # -- asyncio.Protocol ---------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = transport  # type: ignore[assignment]
        self._loop = asyncio.get_running_loop()
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if isinstance(peer, tuple) else "unix"
        if self.connections is not None and not self.connections.admit(self):
            self._closing = self._discard = True
            self.transport.write(_OVER_CAPACITY)
            self.transport.close()
            return
        self._worker = self._loop.create_task(self._serve())

    def data_received(self, data: bytes) -> None:
        if self._discard:
            return
        self._read_size = len(data)  # a head within one large read is measured itself
        if self._reading is not Phase.BODY:
            self._head_seen += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(_plain(400, "Upgrade is not supported"))
        except httptools.HttpParserError as exc:
            if not self._discard:
                self._fail(_plain(400, f"Malformed HTTP request: {exc}"))
        limits = self.limits
        if (
            limits is not None
            and self._reading is Phase.HEADERS
            and self._head_seen > limits.max_header_bytes
        ):
            self._header_too_large()

    def pause_writing(self) -> None:
        self._drained = self._loop.create_future()

    def resume_writing(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = self._discard = True
        self.resume_writing()  # a file being sent stops at the next chunk
        if self.connections is not None:
            self.connections.release(self)
        exchange = self._exchange
        if exchange is not None and exchange.stream is not None:
            exchange.stream.fail(BodyFailure.LOST)
        if self._worker is not None:
            self._worker.cancel()

    # -- httptools callbacks ------------------------------------------------------
    # Between on_message_begin and on_message_complete `_exchange` is the request being
    # read; the parser calls nothing else outside them.
    def on_message_begin(self) -> None:
        self._exchange = Exchange(self, self._default_plan)
        self._reading = Phase.HEADERS
        self._since = time.monotonic()

    def on_url(self, url: bytes) -> None:
        exchange = self._exchange
        assert exchange is not None
        exchange.url += url
        if self.limits is not None and len(exchange.url) > self.limits.max_request_line:
            self._header_too_large()

    def on_header(self, name: bytes, value: bytes) -> None:
        # Hot path: the count is checked once the headers are in (their bytes are capped
        # as they arrive, so the dict stays small); repeats are joined as RFC 9110 says,
        # and counted apart so that a header seen once costs no count of its own.
        exchange = self._exchange
        assert exchange is not None
        key = name.decode("latin-1").lower()
        headers = exchange.headers
        if key in headers:
            headers[key] += "," + value.decode("latin-1")
            exchange.repeats += 1
        else:
            headers[key] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        if self._discard:
            return
        exchange = self._exchange
        assert exchange is not None
        earlier = self._pending  # answers still owed to requests before this one
        # The bytes are checked as they arrive too, but a head that arrives in one read
        # is complete before data_received can look at it: when that read was larger
        # than the limit, the head itself is measured (rarely, so not per header).
        limits = self.limits
        if limits is not None and (
            len(exchange.headers) + exchange.repeats > limits.max_headers
            or (
                max(self._head_seen, self._read_size) > limits.max_header_bytes
                and _head_size(exchange.url, exchange.headers) > limits.max_header_bytes
            )
        ):
            self._header_too_large()
            return
        if self.parser.should_upgrade():  # refused before the app sees it, not after
            self._fail(_plain(400, "Upgrade is not supported"))
            return
        self._reading = Phase.BODY
        self._head_seen = 0
        self._since = time.monotonic()
        path, _, query = exchange.url.decode("latin-1").partition("?")
        req = exchange.request = Request(
            method=self.parser.get_method().decode("ascii"),
            path=path,
            query=query,
            headers=exchange.headers,
            body=b"",
            context=RequestContext(
                listener=self.listener, source_ip=self.peer,
                host=exchange.headers.get("host", ""),
            ),
        )
        plan = self._admit(req) if self._admit is not None else self._default_plan
        if isinstance(plan, Response):
            self._fail(plan)  # refused from its headers: the body is never read
            return
        exchange.plan = plan
        if plan.stream:
            exchange.stream = req.stream = BodyStream(self._pause_for_stream, self._resume_soon)
            exchange.keep_alive = self.parser.should_keep_alive()
            exchange.head = req.method == "HEAD"
            self._enqueue(exchange)
        if exchange.headers.get("expect", "").lower() == "100-continue":
            # interim answers go out in order too: after the earlier requests' answers
            exchange.continue_floor = self._pending - earlier
            self._send_continue_if_due()

    def on_body(self, body: bytes) -> None:
        if self._discard:
            return
        exchange = self._exchange
        assert exchange is not None
        exchange.continue_floor = None  # the client sends the body anyway: no 100 now
        exchange.body_size += len(body)
        stream = exchange.stream
        if exchange.body_size > exchange.plan.limit + exchange.plan.framing:
            if stream is not None:  # its handler answers (and the connection closes)
                stream.fail(BodyFailure.TOO_LARGE)
                self._stop_reading()
            else:
                self._fail(self._body_refusal(BodyFailure.TOO_LARGE))
            return
        if stream is not None:
            stream.feed(body)
        else:
            exchange.body.append(body)

    def on_message_complete(self) -> None:
        if self._discard:
            return
        # The whole request is in: the connection lets go of it (and of a 100 Continue
        # it was owed); the next byte parsed starts a new Exchange.
        exchange, self._exchange = self._exchange, None
        assert exchange is not None
        self._reading = Phase.BETWEEN
        self._head_seen = 0
        if exchange.stream is not None:  # handed over already
            exchange.stream.finish()
            return
        req = exchange.request
        exchange.keep_alive = self.parser.should_keep_alive()
        exchange.head = req.method == "HEAD"
        req.body = b"".join(exchange.body)
        req.received_at = time.perf_counter()
        if (
            self._answer_now is not None
            and not (self._busy or self._replying)
            and self._queue.empty()
        ):
            self._replying = True
            self._pending += 1
            try:
                if self._answer_now(req, exchange.reply):
                    return
            except Exception:  # the app serializes its own errors; this is a bug
                log.exception("unhandled error serving %s %s", req.method, req.path)
                exchange.reply(Response(500, [("Content-Type", "text/plain")], b"Internal error"))
                return
            self._replying = False
            self._pending -= 1
        self._enqueue(exchange)

    # -- limits -----------------------------------------------------------------------
    def check_timeouts(self, now: float, limits: HttpLimits) -> None:
        """Called by the connection sweep about once a second."""
        if self._discard:
            return
        if self._reading is Phase.HEADERS:
            if now - self._since > limits.header_timeout:
                self._fail(_plain(408, "Request headers timed out"))
        elif self._reading is Phase.BODY:
            exchange = self._exchange
            assert exchange is not None
            stream = exchange.stream
            if exchange.body_size != exchange.progress_seen or (
                stream is not None and stream.paused
            ):
                exchange.progress_seen = exchange.body_size  # paused: the reader is slow
                self._since = now
            elif now - self._since > limits.body_timeout:
                self._body_timed_out()
        elif self._pending == 0 and now - self._since > limits.idle_timeout:
            self._discard = True
            assert self.transport is not None
            self.transport.close()

    def _body_timed_out(self) -> None:
        exchange = self._exchange
        assert exchange is not None
        if exchange.stream is not None:  # its handler answers RequestTimeout
            exchange.stream.fail(BodyFailure.TIMEOUT)
            self._stop_reading()
        else:
            self._fail(self._body_refusal(BodyFailure.TIMEOUT))

    def _header_too_large(self) -> None:
        # what AWS's load balancers answer (a plain 400, before any service sees it)
        self._fail(_plain(400, "Request Header Or Cookie Too Large"))

    def _body_refusal(self, failure: BodyFailure) -> Response:
        """The answer to the body being read breaking its plan (its head is in)."""
        exchange = self._exchange
        assert exchange is not None
        if self._refuse_body is None:
            return plain_body_refusal(failure, exchange.body_size)
        return self._refuse_body(exchange.request, failure, exchange.body_size)

    def _pause_for_stream(self) -> None:
        if self.transport is not None and not self._discard:
            self.transport.pause_reading()

    def _resume_soon(self) -> None:
        """From the thread reading a stream: take more of the body."""
        self._loop.call_soon_threadsafe(self._resume_reading)

    def _resume_reading(self) -> None:
        if self.transport is not None and not self._discard:
            self.transport.resume_reading()

    # -- answering ----------------------------------------------------------------
    def _enqueue(self, item: Exchange | Response) -> None:
        self._pending += 1
        self._queue.put_nowait(item)

    async def _serve(self) -> None:
        transport = self.transport
        assert transport is not None
        while True:
            item = await self._queue.get()
            if item is None:
                transport.close()
                return
            if self._replying:  # answers go out in order: the earlier one first
                self._replied = asyncio.get_running_loop().create_future()
                await self._replied
                if transport.is_closing():
                    return
            self._busy = True
            if isinstance(item, Response):  # a refusal: the connection closes after it
                resp, keep_alive, head = item, False, False
            else:
                keep_alive, head = item.keep_alive, item.head
                try:
                    resp = await self.app(item.request)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the app serializes its own errors; this is a bug
                    log.exception(
                        "unhandled error serving %s %s", item.request.method, item.request.path
                    )
                    resp = Response(500, [("Content-Type", "text/plain")], b"Internal error")
                if item.stream is not None and not item.stream.complete:
                    # answered before the whole body came: the rest is not read
                    item.stream.abandon()
                    self._stop_reading()
                    keep_alive = False
            if transport.is_closing():
                _close_file(resp)
                return
            if resp.file is not None and not head:
                await self._write_file(resp, keep_alive)
            else:
                self._write(resp, keep_alive, head)
            # only now: a callback answer written while a file is still going out
            # would land inside its bytes
            self._busy = False
            if not keep_alive or transport.is_closing():
                return
            # answered: its request, body and answer go now, not when the next one comes
            del item, resp

    def write_reply(self, resp: Response, keep_alive: bool, head: bool) -> None:
        """A callback answer (from `Exchange.reply`): written now, after which the serving
        task, if it holds a later request back for it, goes on."""
        self._replying = False
        assert self.transport is not None
        if not self.transport.is_closing():
            self._write(resp, keep_alive, head)
        waiter, self._replied = self._replied, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _write(self, resp: Response, keep_alive: bool, head: bool) -> None:
        assert self.transport is not None
        if resp.file is not None:  # a callback answer: no task to stream it from
            body = resp.file
            with body.file:
                body.file.seek(body.offset)
                data = b"" if head else body.file.read(body.length)
            resp = Response(resp.status, resp.headers, data, body.length if head else None)
        self._answered()
        self.transport.write(encode_response(resp, keep_alive, head))
        self._send_continue_if_due()
        if not keep_alive:
            self.transport.close()

    async def _write_file(self, resp: Response, keep_alive: bool) -> None:
        """The head, then the file chunk by chunk as fast as the client reads it: at
        most a chunk and the transport's buffer are held, whatever the file's size."""
        transport, body = self.transport, resp.file
        assert transport is not None and body is not None
        try:
            transport.write(encode_response(resp, keep_alive))
            left = body.length
            await asyncio.to_thread(body.file.seek, body.offset)
            while left > 0 and not transport.is_closing():
                chunk = await asyncio.to_thread(body.file.read, min(FILE_CHUNK, left))
                if not chunk:  # the file is shorter than announced: the client must know
                    transport.abort()
                    return
                left -= len(chunk)
                transport.write(chunk)
                if self._drained is not None:
                    await self._drained
        finally:
            body.file.close()
        self._answered()
        self._send_continue_if_due()
        if not keep_alive:
            transport.close()

    def _answered(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._since = time.monotonic()

    def _send_continue_if_due(self) -> None:
        """A `100 Continue` the request being read is owed once the answers before it
        are out."""
        exchange = self._exchange
        if exchange is None:
            return
        floor = exchange.continue_floor
        if floor is not None and self._pending <= floor and self.transport is not None:
            exchange.continue_floor = None
            self.transport.write(_CONTINUE)

    def _stop_reading(self) -> None:
        self._discard = True
        if self.transport is not None and not self._closing:
            self.transport.pause_reading()

    def _fail(self, resp: Response) -> None:
        """Answer `resp` after what is in flight, read nothing more and close."""
        if self._discard or self.transport is None:
            return
        if self._exchange is not None:  # refused: owed no 100 Continue any more
            self._exchange.continue_floor = None
        self._stop_reading()
        self._enqueue(resp)


def _head_size(url: bytes, headers: dict[str, str]) -> int:
    """About the size of a parsed request head: its URL and its headers as sent (repeats
    of one name are counted once by name, and bounded by the header count anyway)."""
    return len(url) + sum(len(k) + len(v) + 4 for k, v in headers.items())


def _close_file(resp: Response) -> None:
    if resp.file is not None:
        resp.file.file.close()


def _limited(
    app: App, listener: Listener, limits: HttpLimits | None, connections: Connections | None
) -> Callable[[], HttpProtocol]:
    if connections is None and limits is not None:
        connections = Connections(limits)
    return lambda: HttpProtocol(app, listener, limits, connections)


async def serve_tcp(
    app: App,
    host: str,
    port: int,
    listener: Listener,
    limits: HttpLimits | None = None,
    connections: Connections | None = None,
) -> asyncio.Server:
    """A public listener: `limits` (header sizes, timeouts, connection caps) apply, with
    `connections` when several listeners share one count."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        _limited(app, listener, limits.within_fds() if limits else None, connections),
        host,
        port,
        reuse_address=True,
        backlog=1024,
    )


async def serve_socket(
    app: App,
    sock: socket.socket,
    listener: Listener,
    limits: HttpLimits | None = None,
    ssl_context: ssl.SSLContext | None = None,
    connections: Connections | None = None,
) -> asyncio.Server:
    """A listener on a socket made elsewhere (inside a VPC's network namespace: a socket
    stays in the namespace it was made in), with TLS when `ssl_context` is given."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        _limited(app, listener, limits.within_fds() if limits else None, connections),
        sock=sock,
        ssl=ssl_context,
        backlog=1024,
    )


async def serve_unix(app: App, path: str, listener: Listener) -> asyncio.Server:
    """A private socket (a model worker's): its only client is the gateway."""
    loop = asyncio.get_running_loop()
    return await loop.create_unix_server(lambda: HttpProtocol(app, listener), path, backlog=1024)
