"""HttpProtocol, the server side of every HTTP connection: fed bytes through a transport
that records what is written, or over real sockets where the kernel's buffers matter."""

from __future__ import annotations

import asyncio
import socket
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from waiting import until

from cove.http.body import BodyFailure
from cove.http.limits import HttpLimits
from cove.http.messages import BodyPlan, FileBody, Listener, Request, Response
from cove.http.server import FILE_CHUNK, HttpProtocol, Reply, serve_tcp

LISTENER = Listener(kind="test")


class Transport:
    """What asyncio's transports do that the protocol uses; closing tells the protocol
    on the next loop turn, as a real transport does."""

    def __init__(self, protocol: HttpProtocol) -> None:
        self.protocol = protocol
        self.data = bytearray()
        self.closed = False
        self.aborted = False
        self.reading = True

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.data += data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.aborted = True
        self.close()

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default


@dataclass
class Wire:
    status: int
    headers: dict[str, str]
    body: bytes


def parse(data: bytes) -> list[Wire]:
    """The responses in `data`, none of them to a HEAD request."""
    return parse_with(data, set())


def parse_with(data: bytes, head_positions: set[int]) -> list[Wire]:
    """Responses in order; those at `head_positions` (0-based) carry no body."""
    out: list[Wire] = []
    rest = bytes(data)
    while rest:
        head, sep, rest = rest.partition(b"\r\n\r\n")
        assert sep, f"incomplete head: {head!r}"
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if len(out) in head_positions or status == 100 else int(
            headers.get("content-length", "0")
        )
        assert len(rest) >= length, f"short body: {rest!r}"
        body, rest = rest[:length], rest[length:]
        out.append(Wire(status, headers, body))
    return out


def request(method: str = "GET", path: str = "/", body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: x"]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class App:
    """Echoes `<method> <path>` and the body; `/slow` answers after 50 ms."""

    seen: list[Request] = field(default_factory=list)

    async def __call__(self, req: Request) -> Response:
        self.seen.append(req)
        if req.path.startswith("/slow"):
            await asyncio.sleep(0.05)
        return Response(200, [("X-Via", "coroutine")], f"{req.method} {req.path}|".encode()
                        + req.body)


def connect(app: object, limits: HttpLimits | None = None) -> tuple[HttpProtocol, Transport]:
    proto = HttpProtocol(app, LISTENER, limits)  # type: ignore[arg-type]
    transport = Transport(proto)
    proto.connection_made(transport)  # type: ignore[arg-type]
    return proto, transport


async def settle(turns: float = 0.0) -> None:
    """Let the serving task run (and `turns` seconds pass)."""
    for _ in range(5):
        await asyncio.sleep(0)
    if turns:
        await asyncio.sleep(turns)
        for _ in range(5):
            await asyncio.sleep(0)



def complete(t: Transport, count: int) -> bool:
    """`count` whole responses (to requests other than HEAD) are written."""
    try:
        return len(parse(t.data)) >= count
    except AssertionError:  # one still being written
        return False


def run(scenario: Callable[[], object]) -> object:
    return asyncio.run(scenario())  # type: ignore[arg-type]


# -- order, framing, keep-alive ---------------------------------------------------------
class MixedApp(App):
    """`/now*` answered from the parser callback (`/now-later` 50 ms later), `/decline`
    refused by answer_now and served by the coroutine, the rest by the coroutine."""

    def __init__(self) -> None:
        super().__init__()
        self.by_callback: list[str] = []

    def answer_now(self, req: Request, reply: Reply) -> bool:
        if not req.path.startswith("/now"):
            return False
        self.by_callback.append(req.path)
        resp = Response(200, [("X-Via", "callback")], f"{req.method} {req.path}|".encode())
        if req.path == "/now-later":
            asyncio.get_running_loop().call_later(0.05, reply, resp)
        else:
            reply(resp)
        return True


def test_pipelined_requests_are_answered_in_order_across_callback_and_coroutine_answers():
    async def scenario() -> tuple[list[Wire], MixedApp]:
        app = MixedApp()
        proto, t = connect(app)
        # the late callback answer must hold back the fast coroutine answers behind it
        proto.data_received(request(path="/now-later") + request(path="/fast")
                            + request(path="/slow") + request(path="/now-1"))
        await until(lambda: complete(t, 4))
        await settle()
        # now idle again: a callback answer, then one declined to the coroutine
        proto.data_received(request(path="/now-2"))
        proto.data_received(request(path="/slow-2") + request(path="/decline"))
        await until(lambda: complete(t, 7))
        await settle()
        assert not t.closed
        return parse(t.data), app

    got, app = run(scenario)
    assert [w.body for w in got] == [
        b"GET /now-later|", b"GET /fast|", b"GET /slow|", b"GET /now-1|",
        b"GET /now-2|", b"GET /slow-2|", b"GET /decline|",
    ]
    # only requests that arrive with nothing in flight go the callback way
    assert app.by_callback == ["/now-later", "/now-2"]
    assert [w.headers["x-via"] for w in got] == [
        "callback", "coroutine", "coroutine", "coroutine", "callback", "coroutine", "coroutine",
    ]


def test_a_request_fed_byte_by_byte_is_parsed_whole():
    wire = (request("POST", "/p/a%20b?x=1&y", b"hello body", X_Thing="v1", Content_Type="a/b")
            + b"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"X-Rep: 1\r\nX-Rep: 2\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")

    async def scenario() -> tuple[list[Wire], App]:
        app = App()
        proto, t = connect(app)
        for i in range(len(wire)):
            proto.data_received(wire[i:i + 1])
            await asyncio.sleep(0)
        await settle()
        return parse(t.data), app

    got, app = run(scenario)
    first, second = app.seen
    assert (first.method, first.path, first.query) == ("POST", "/p/a%20b", "x=1&y")
    assert first.headers["x-thing"] == "v1" and first.headers["content-type"] == "a/b"
    assert first.body == b"hello body"
    assert second.body == b"hello world"
    assert second.headers["x-rep"] == "1,2"  # repeats joined, as RFC 9110 says
    assert [w.body for w in got] == [b"POST /p/a%20b|hello body", b"POST /chunked|hello world"]


def test_keep_alive_by_default_and_close_when_asked():
    async def scenario() -> None:
        proto, t = connect(App())
        proto.data_received(request(path="/a"))
        await settle()
        (one,) = parse(t.data)
        assert "connection" not in one.headers and not t.closed

        proto.data_received(request(path="/b", Connection="close") + request(path="/never"))
        await settle()
        got = parse(t.data)
        assert [w.body for w in got] == [b"GET /a|", b"GET /b|"]  # nothing after the close
        assert got[1].headers["connection"] == "close" and t.closed

        proto, t = connect(App())  # HTTP/1.0 closes unless told otherwise
        proto.data_received(b"GET /old HTTP/1.0\r\n\r\n")
        await settle()
        assert parse(t.data)[0].headers["connection"] == "close" and t.closed

    run(scenario)


def test_head_responses_announce_the_length_and_carry_no_body(tmp_path: Path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    opened = []

    class HeadApp(MixedApp):
        async def __call__(self, req: Request) -> Response:
            if req.path == "/file":
                f = open(path, "rb")  # noqa: SIM115 - the protocol closes it
                opened.append(f)
                return Response(200, [], file=FileBody(f, 2, 5))
            if req.path == "/declared":
                return Response(200, [], content_length=1234)
            return Response(200, [], b"a body")

    async def scenario() -> bytes:
        app = HeadApp()
        proto, t = connect(app)
        proto.data_received(request("HEAD", "/now") + request("HEAD", "/plain")
                            + request("HEAD", "/file") + request("HEAD", "/declared")
                            + request("GET", "/plain"))
        await settle()
        return bytes(t.data)

    data = run(scenario)
    got = parse_with(data, {0, 1, 2, 3})
    assert [w.headers["content-length"] for w in got] == ["10", "6", "5", "1234", "6"]
    assert [w.body for w in got] == [b"", b"", b"", b"", b"a body"]
    assert opened[0].closed


# -- limits ---------------------------------------------------------------------------------
LIMITS = HttpLimits(max_request_line=100, max_header_bytes=400, max_headers=5,
                    header_timeout=5, body_timeout=5, idle_timeout=10)


def refused(data: bytes) -> Wire:
    (only,) = parse(data)
    return only


@pytest.mark.parametrize("wire", [
    b"GET /" + b"a" * 200 + b" HTTP/1.1\r\n",  # request line
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 500 + b"\r\n\r\n",  # header bytes
    b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 100) for i in range(4))
    + b"\r\n",  # header bytes, no header too long
    b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(6)) + b"\r\n",  # count
    b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Rep: v\r\n" * 5 + b"\r\n",  # count, repeats of one
], ids=["request-line", "header-bytes", "header-bytes-spread", "header-count",
        "header-count-repeated"])
@pytest.mark.parametrize("piece", [50, 1 << 20], ids=["in-pieces", "in-one-read"])
def test_heads_over_the_limits_get_400_and_close_unserved(wire: bytes, piece: int):
    async def scenario() -> tuple[Transport, App]:
        app = App()
        proto, t = connect(app, LIMITS)
        for i in range(0, len(wire), piece):
            proto.data_received(wire[i:i + piece])
        proto.data_received(request(path="/after"))  # not read any more
        await settle()
        return t, app

    t, app = run(scenario)
    resp = refused(t.data)
    assert (resp.status, resp.body) == (400, b"Request Header Or Cookie Too Large")
    assert resp.headers["connection"] == "close" and t.closed and not app.seen


def test_heads_within_the_limits_are_served():
    async def scenario() -> list[Wire]:
        proto, t = connect(App(), LIMITS)
        head = b"GET /" + b"a" * 80 + b" HTTP/1.1\r\n" + b"".join(
            b"X-%d: v\r\n" % i for i in range(5)) + b"\r\n"
        for i in range(0, len(head), 10):
            proto.data_received(head[i:i + 10])
        await settle()
        return parse(t.data)

    assert [w.status for w in run(scenario)] == [200]


class AdmittingApp(App):
    """Bodies up to 10 bytes (refused from Content-Length when declared above), with its
    own refusal for bodies that break the plan."""

    def __init__(self) -> None:
        super().__init__()
        self.admitted: list[tuple[str, bytes]] = []  # path, what was written before
        self.transport: Transport | None = None

    def admit(self, req: Request) -> Response | BodyPlan:
        assert self.transport is not None
        self.admitted.append((req.path, bytes(self.transport.data)))
        if int(req.headers.get("content-length", "0")) > 10:
            return Response(413, [], b"declared too large")
        return BodyPlan(10, ValueError)

    def refuse_body(self, req: Request, failure: BodyFailure, size: int) -> Response:
        return Response(413 if failure is BodyFailure.TOO_LARGE else 400, [],
                        f"{failure.value} {req.path} {size}".encode())


def admitting() -> tuple[HttpProtocol, Transport, AdmittingApp]:
    app = AdmittingApp()
    proto = HttpProtocol(app, LISTENER, LIMITS)
    app.transport = t = Transport(proto)
    proto.connection_made(t)  # type: ignore[arg-type]
    return proto, t, app


def test_body_over_a_declared_limit_is_refused_from_the_headers_without_100_continue():
    async def scenario() -> tuple[Transport, AdmittingApp]:
        proto, t, app = admitting()
        proto.data_received(b"PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
                            b"Expect: 100-continue\r\n\r\n")
        await settle()
        return t, app

    t, app = run(scenario)
    assert refused(t.data).body == b"declared too large"  # no 100 Continue before it
    assert t.closed and not app.seen and [p for p, _ in app.admitted] == ["/big"]


def test_100_continue_is_sent_only_once_the_request_is_admitted():
    async def scenario() -> tuple[Transport, AdmittingApp]:
        proto, t, app = admitting()
        proto.data_received(b"PUT /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                            b"Expect: 100-continue\r\n\r\n")
        assert bytes(t.data) == b"HTTP/1.1 100 Continue\r\n\r\n"
        proto.data_received(b"body")
        await settle()
        return t, app

    t, app = run(scenario)
    assert app.admitted == [("/ok", b"")]  # admitted before anything was written
    cont, final = parse(t.data)
    assert (cont.status, final.status, final.body) == (100, 200, b"PUT /ok|body")
    assert not t.closed


def test_body_over_the_plan_without_a_declared_length_gets_the_apps_refusal():
    async def scenario() -> tuple[Transport, AdmittingApp]:
        proto, t, app = admitting()
        proto.data_received(b"PUT /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                            b"\r\n\r\n6\r\nabcdef\r\n")
        proto.data_received(b"6\r\nghijkl\r\n0\r\n\r\n")
        await settle()
        return t, app

    t, app = run(scenario)
    resp = refused(t.data)
    assert (resp.status, resp.body) == (413, b"too_large /chunks 12")
    assert t.closed and not app.seen


def test_without_admit_the_body_is_capped_at_max_body():
    async def scenario() -> tuple[Transport, App]:
        app = App()
        proto = HttpProtocol(app, LISTENER, max_body=5)
        t = Transport(proto)
        proto.connection_made(t)  # type: ignore[arg-type]
        proto.data_received(request("POST", "/", b"123456"))
        await settle()
        return t, app

    t, app = run(scenario)
    assert refused(t.data).status == 413 and t.closed and not app.seen


# -- timeouts (the sweep's clock is passed in) ---------------------------------------------
def test_headers_that_do_not_finish_in_time_get_408():
    async def scenario() -> Transport:
        proto, t = connect(App(), LIMITS)
        proto.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        proto.check_timeouts(start + 4, LIMITS)
        await settle()
        assert not t.data and not t.closed
        proto.check_timeouts(start + 6, LIMITS)
        await settle()
        return t

    t = run(scenario)
    resp = refused(t.data)
    assert (resp.status, resp.body) == (408, b"Request headers timed out") and t.closed


def test_a_body_that_stalls_times_out_and_progress_resets_the_clock():
    async def scenario() -> Transport:
        proto, t, app = admitting()
        proto.data_received(b"PUT /slow-body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
        now = time.monotonic()
        proto.check_timeouts(now + 1, LIMITS)  # progress since the last sweep
        proto.check_timeouts(now + 5, LIMITS)  # 4 s without: still within 5
        proto.data_received(b"cd")
        proto.check_timeouts(now + 9, LIMITS)  # progress again: the clock starts over
        proto.check_timeouts(now + 13, LIMITS)
        await settle()
        assert not t.data
        proto.check_timeouts(now + 15, LIMITS)
        await settle()
        return t

    t = run(scenario)
    resp = refused(t.data)
    assert (resp.status, resp.body) == (400, b"timeout /slow-body 4") and t.closed


def test_plain_body_timeout_without_refuse_body_is_408():
    async def scenario() -> Transport:
        proto, t = connect(App(), LIMITS)
        proto.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na")
        now = time.monotonic()
        proto.check_timeouts(now + 1, LIMITS)
        proto.check_timeouts(now + 7, LIMITS)
        await settle()
        return t

    resp = refused(run(scenario).data)
    assert (resp.status, resp.body) == (408, b"Request body timed out")


def test_idle_connections_close_but_not_while_a_request_is_in_flight():
    async def scenario() -> None:
        proto, t = connect(App(), LIMITS)
        proto.data_received(request(path="/slow"))
        await settle()
        proto.check_timeouts(time.monotonic() + 100, LIMITS)  # answer pending: not idle
        assert not t.closed
        await until(lambda: complete(t, 1))
        assert parse(t.data)[0].status == 200
        now = time.monotonic()
        proto.check_timeouts(now + 9, LIMITS)
        assert not t.closed
        proto.check_timeouts(now + 11, LIMITS)
        assert t.closed and parse(t.data)[-1].status == 200  # closed without a word

    run(scenario)


# -- malformed ------------------------------------------------------------------------------
@pytest.mark.parametrize("wire,message", [
    (b"NOT HTTP AT ALL\r\n\r\n", b"Malformed HTTP request"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", b"Malformed HTTP request"),
    (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", b"Malformed HTTP request"),
])
def test_malformed_requests_get_400_and_close_after_what_came_before(wire: bytes, message: bytes):
    async def scenario() -> tuple[Transport, App]:
        app = App()
        proto, t = connect(app)
        proto.data_received(request(path="/slow") + wire + request(path="/after"))
        await until(lambda: t.closed)
        await settle()
        return t, app

    t, app = run(scenario)
    ok, bad = parse(t.data)
    assert ok.body == b"GET /slow|"
    assert bad.status == 400 and bad.body.startswith(message)
    assert bad.headers["connection"] == "close" and t.closed
    assert [r.path for r in app.seen] == ["/slow"]


@pytest.mark.parametrize("wire", [
    b"GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    b"PUT /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
    b"Content-Length: 2\r\n\r\nab",
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
], ids=["get", "put", "connect"])
def test_upgrades_are_refused_with_one_400_and_never_served(wire: bytes):
    async def scenario() -> tuple[Transport, App]:
        app = App()
        proto, t = connect(app)
        proto.data_received(wire)
        await settle()
        return t, app

    t, app = run(scenario)
    resp = refused(t.data)  # one answer to one request
    assert (resp.status, resp.body) == (400, b"Upgrade is not supported")
    assert t.closed and not app.seen


# -- file bodies over a real socket -----------------------------------------------------------
def test_a_file_body_is_sent_whole_to_a_client_that_pauses_reading(tmp_path, monkeypatch):
    content = bytes(range(256)) * (8 * 4096 + 17)  # 8 MiB and a bit: many chunks
    path = tmp_path / "blob"
    path.write_bytes(content)
    opened = []
    pauses = []
    real_pause = HttpProtocol.pause_writing

    def pause(self: HttpProtocol) -> None:
        pauses.append(self)
        real_pause(self)

    monkeypatch.setattr(HttpProtocol, "pause_writing", pause)

    async def app(req: Request) -> Response:
        f = open(path, "rb")  # noqa: SIM115 - the protocol closes it
        opened.append(f)
        if req.path == "/part":
            return Response(206, [], file=FileBody(f, 100, 1000))
        return Response(200, [("Content-Type", "application/octet-stream")],
                        file=FileBody(f, 0, len(content)))

    def client(port: int) -> bytes:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(request(path="/whole") + request(path="/part", Connection="close"))
        time.sleep(0.5)  # not reading: the server must wait, not buffer the file
        data = bytearray()
        sock.settimeout(10)
        while chunk := sock.recv(1 << 20):
            data += chunk
        sock.close()
        return bytes(data)

    async def scenario() -> bytes:
        server = await serve_tcp(app, "127.0.0.1", 0, LISTENER)
        port = server.sockets[0].getsockname()[1]
        try:
            reading = asyncio.ensure_future(asyncio.to_thread(client, port))
            await until(lambda: bool(pauses), 3)  # the client is not reading yet
            await asyncio.sleep(0.1)
            held = pauses[0].transport.get_write_buffer_size()
            assert held < 4 * FILE_CHUNK, f"{held} bytes buffered for a client not reading"
            return await reading
        finally:
            server.close()

    whole, part = parse(run(scenario))  # the client read to EOF: the server closed
    assert whole.status == 200 and whole.body == content
    assert part.status == 206 and part.body == content[100:1100]
    assert part.headers["connection"] == "close"
    assert all(f.closed for f in opened) and len(opened) == 2


def test_a_file_shorter_than_announced_aborts_the_connection(tmp_path: Path):
    path = tmp_path / "short"
    path.write_bytes(b"abc")

    async def app(req: Request) -> Response:
        return Response(200, [], file=FileBody(open(path, "rb"), 0, 10))  # noqa: SIM115

    async def scenario() -> Transport:
        proto, t = connect(app)
        proto.data_received(request())
        await until(lambda: t.aborted)
        return t

    t = run(scenario)
    assert t.aborted and t.data.endswith(b"\r\n\r\nabc")


def test_a_callback_answer_waits_for_a_file_body_still_being_sent(tmp_path: Path):
    content = b"x" * (3 * FILE_CHUNK)
    path = tmp_path / "blob"
    path.write_bytes(content)

    class FileThenCallback(MixedApp):
        async def __call__(self, req: Request) -> Response:
            if req.path != "/file":
                return await super().__call__(req)
            return Response(200, [], file=FileBody(open(path, "rb"), 0, len(content)))  # noqa: SIM115

    async def scenario() -> bytes:
        proto, t = connect(FileThenCallback())
        proto.data_received(request(path="/file"))
        proto.pause_writing()  # the client is slow: the file stops after a chunk
        await until(lambda: len(t.data) > FILE_CHUNK)
        proto.data_received(request(path="/now"))  # arrives while the file is going out
        await settle(0.05)
        proto.resume_writing()
        await until(lambda: complete(t, 2))
        return bytes(t.data)

    data = run(scenario)
    # the answer must not land inside the file's bytes
    assert data.index(b"HTTP/1.1 200 OK", 1) == data.index(b"\r\n\r\n") + 4 + len(content)
    first, second = parse(data)
    assert first.body == content
    assert second.body == b"GET /now|"


def test_connections_over_the_cap_get_503():
    from cove.http.connections import Connections

    async def scenario() -> tuple[Transport, Transport]:
        limits = HttpLimits(max_connections_per_client=1)
        conns = Connections(limits)
        first = HttpProtocol(App(), LISTENER, limits, conns)
        t1 = Transport(first)
        first.connection_made(t1)  # type: ignore[arg-type]
        second = HttpProtocol(App(), LISTENER, limits, conns)
        t2 = Transport(second)
        second.connection_made(t2)  # type: ignore[arg-type]
        second.data_received(request())
        await settle()
        conns.close()
        return t1, t2

    t1, t2 = run(scenario)
    assert not t1.closed
    resp = refused(t2.data)
    assert (resp.status, resp.body) == (503, b"Too many connections") and t2.closed


def test_100_continue_waits_for_the_answers_owed_before_it():
    # Interim responses keep the order of their requests too (RFC 9110, 15.2: a server
    # answers pipelined requests in order); a client that sends the body before the 100
    # comes gets none (the server MAY omit it, RFC 9110, 10.1.1).
    async def scenario() -> Transport:
        proto, t = connect(App())
        proto.data_received(request("GET", "/slow") + b"PUT /ok HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        await settle()
        assert bytes(t.data) == b""  # the slow answer is not out yet, so neither is the 100
        await until(lambda: b"100 Continue" in bytes(t.data))
        assert bytes(t.data).index(b"GET /slow|") < bytes(t.data).index(b"100 Continue")
        proto.data_received(b"body")
        await until(lambda: complete(t, 3))
        return t

    t = run(scenario)
    slow, cont, final = parse(t.data)
    assert (slow.status, cont.status, final.status, final.body) == (200, 100, 200, b"PUT /ok|body")


def test_no_100_continue_once_the_body_came_anyway():
    async def scenario() -> Transport:
        proto, t = connect(App())
        proto.data_received(request("GET", "/slow") + b"PUT /ok HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 4\r\nExpect: 100-continue\r\n\r\nbody")
        await until(lambda: complete(t, 2))
        return t

    t = run(scenario)
    assert b"100 Continue" not in bytes(t.data)
    assert [w.body for w in parse(t.data)] == [b"GET /slow|", b"PUT /ok|body"]


def test_a_request_refused_while_owed_a_100_continue_never_gets_it():
    # A request waiting for its 100 behind a slow answer, whose body then times out, is
    # refused with 408 and the connection closes: a 100 after that would be a stray
    # interim answer to a request already answered (RFC 9110, 15.2).
    async def scenario() -> Transport:
        proto, t = connect(App(), LIMITS)
        proto.data_received(request("GET", "/slow") + b"PUT /ok HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        proto.check_timeouts(time.monotonic() + 7, LIMITS)  # before the slow answer is out
        await until(lambda: t.closed)
        await settle(0.1)
        return t

    t = run(scenario)
    assert b"100 Continue" not in bytes(t.data)
    assert [w.status for w in parse(t.data)] == [200, 408]


def test_an_oversized_head_pipelined_behind_a_small_request_in_one_read_is_refused():
    # Both requests come in one read: the second head is over the limit on its own.
    async def scenario() -> Transport:
        proto, t = connect(App(), LIMITS)
        big = b"GET /big HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 500 + b"\r\n\r\n"
        proto.data_received(request("GET", "/small") + big)
        await until(lambda: t.closed)
        return t

    t = run(scenario)
    first, second = parse(t.data)
    assert (first.status, first.body) == (200, b"GET /small|")
    assert second.status == 400


# -- per-request state (each request's own Exchange) -------------------------------------------
def test_a_pipelined_request_starts_with_none_of_the_state_of_the_one_before():
    async def scenario() -> tuple[Transport, App]:
        app = App()
        proto, t = connect(app)
        # the first is owed a 100 at once and gets it
        proto.data_received(b"PUT /first HTTP/1.1\r\nHost: x\r\nX-First: 1\r\n"
                            b"Content-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert bytes(t.data) == b"HTTP/1.1 100 Continue\r\n\r\n"
        # one owed a 100 behind a slow answer sends its body anyway; then a HEAD, and a
        # body in two pieces
        proto.data_received(b"abcd" + request("GET", "/slow") + b"PUT /owed HTTP/1.1\r\n"
                            b"Host: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        proto.data_received(b"ok" + request("HEAD", "/head")
                            + b"PUT /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nx")
        proto.data_received(b"yz" + request("GET", "/third"))
        await until(lambda: bytes(t.data).endswith(b"GET /third|"))
        await settle()
        return t, app

    t, app = run(scenario)
    first, slow, owed, head, second, third = app.seen
    assert first.headers["x-first"] == "1" and first.body == b"abcd"
    for later in (slow, owed, head, second, third):
        assert "x-first" not in later.headers and later.headers is not first.headers
    assert [r.headers.get("expect") for r in (slow, head, second, third)] == [None] * 4
    assert [r.body for r in (slow, owed, head, second, third)] == [b"", b"ok", b"", b"xyz", b""]
    # one 100, to the request that got it at once; none owed later goes to another
    assert bytes(t.data).count(b"100 Continue") == 1
    got = parse_with(bytes(t.data), {4})  # the HEAD's framing stays with the HEAD
    assert [w.status for w in got] == [100, 200, 200, 200, 200, 200, 200]
    assert [w.body for w in got[1:]] == [b"PUT /first|abcd", b"GET /slow|", b"PUT /owed|ok",
                                         b"", b"PUT /second|xyz", b"GET /third|"]
    assert not t.closed


class StreamingApp(App):
    """Streams the bodies of `/stream*` (read whole when it answers), buffers the rest."""

    def admit(self, req: Request) -> BodyPlan:
        return BodyPlan(100, ValueError, stream=req.path.startswith("/stream"))

    async def __call__(self, req: Request) -> Response:
        if req.stream is not None:
            await until(lambda: req.stream.complete)  # type: ignore[union-attr]
            req.body = b"".join(req.stream)
        return await super().__call__(req)


def test_a_body_pipelined_behind_a_streamed_one_goes_to_its_own_request():
    async def scenario() -> tuple[Transport, StreamingApp]:
        app = StreamingApp()
        proto, t = connect(app)
        proto.data_received(request("PUT", "/stream", b"streamed")
                            + request("PUT", "/plain", b"buffered"))
        proto.data_received(request("PUT", "/stream-2", b"again"))
        await until(lambda: complete(t, 3))
        return t, app

    t, app = run(scenario)
    streamed, plain, again = app.seen
    assert streamed.stream is not None and plain.stream is None and again.stream is not None
    assert [w.body for w in parse(t.data)] == [
        b"PUT /stream|streamed", b"PUT /plain|buffered", b"PUT /stream-2|again"]
    assert not t.closed


class ForgetfulApp:
    """Echoes bodies and keeps only weak references to its requests: `/now*` answered by
    callback (`/now-later` 50 ms later, dropping its reply then), `/stream*` streamed."""

    def __init__(self) -> None:
        self.requests: list[weakref.ref[Request]] = []

    def admit(self, req: Request) -> BodyPlan:
        self.requests.append(weakref.ref(req))
        return BodyPlan(100, ValueError, stream=req.path.startswith("/stream"))

    async def __call__(self, req: Request) -> Response:
        if req.stream is not None:
            await until(lambda: req.stream.complete)  # type: ignore[union-attr]
            req.body = b"".join(req.stream)
        return Response(200, [], req.body)

    def answer_now(self, req: Request, reply: Reply) -> bool:
        if not req.path.startswith("/now"):
            return False
        resp = Response(200, [], req.body)
        if req.path == "/now-later":
            asyncio.get_running_loop().call_later(0.05, reply, resp)
        else:
            reply(resp)
        return True


@pytest.mark.parametrize("path", ["/coroutine", "/stream", "/now", "/now-later"])
def test_a_request_is_released_once_answered_while_the_connection_stays_open(path: str):
    async def scenario() -> None:
        app = ForgetfulApp()
        proto, t = connect(app)
        # the body comes in pieces: buffered, they are joined into a new bytes object
        wire = request("PUT", path, b"some body bytes")
        proto.data_received(wire[:-5])
        proto.data_received(wire[-5:])
        await until(lambda: complete(t, 1))
        await settle()
        assert parse(t.data)[0].body == b"some body bytes"
        (ref,) = app.requests
        # nothing of it is held once answered (not until the next request comes): it,
        # its headers and body, and the state it was read in (which refers to it)
        assert ref() is None
        assert not t.closed

    run(scenario)


def test_a_stale_reply_cannot_answer_a_later_request():
    async def scenario() -> bytes:
        replies: list[Reply] = []

        class KeepsReplies(MixedApp):
            def answer_now(self, req: Request, reply: Reply) -> bool:
                replies.append(reply)
                return super().answer_now(req, reply)

        proto, t = connect(KeepsReplies())
        proto.data_received(request(path="/now-1"))
        proto.data_received(request(path="/now-later"))  # its answer is due in 50 ms
        replies[0](Response(500, [], b"stale"))  # the first's again: a bug in the app
        await until(lambda: complete(t, 2))
        await settle()
        return bytes(t.data)

    got = parse(run(scenario))
    assert [(w.status, w.body) for w in got] == [(200, b"GET /now-1|"), (200, b"GET /now-later|")]
