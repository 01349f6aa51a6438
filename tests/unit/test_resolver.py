"""The VPC resolver answering real DNS queries: dnslib's client and dig on loopback
sockets, and glibc (getent) and dig inside a network namespace whose resolv.conf points
at it.

AWS behaviour pinned here comes from the Route 53 Developer Guide, "DNS constraints and
behaviors" (UDP answers of at most 512 bytes, 4096 with EDNS0, else truncated for a TCP
retry; SOA in the authority section of NXDOMAIN answers) and "NS and SOA records that
Amazon Route 53 creates for a public hosted zone" (the SOA's values)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvloop
from dnslib import EDNS0, QTYPE, RCODE, DNSRecord

from cove.network.resolver import (
    NOT_OURS,
    RECORD_TTL,
    SOA_TTL,
    Addresses,
    Answer,
    LookupFailed,
    NoSuchName,
    Resolver,
    host_lookup,
)

APEX = "runtime.sagemaker.us-east-1.amazonaws.com"
VPCE = "vpce-0123456789abcdef0-abcdefgh.runtime.sagemaker.us-east-1.vpce.amazonaws.com"
VPCE_ZONE = "vpce.amazonaws.com"
ENIS = ("10.0.1.10", "10.0.2.10")
LOOPBACK_ORDER = ENIS[::-1]


@dataclass
class TableZone:
    """A zone from a table: the private DNS name (client's AZ first), a vpce name, and
    one name with many addresses; anything else under the zones is NXDOMAIN."""

    many: tuple[str, ...] = tuple(f"10.0.{i // 250}.{i % 250 + 1}" for i in range(100))
    seen: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, name: str, client_ip: str) -> Answer:
        self.seen.append((name, client_ip))
        if name == APEX:
            # a loopback client "lives in" the second AZ and gets its ENI first; the
            # order differs by client, and from sorted, so a resolver that reorders fails
            order = LOOPBACK_ORDER if client_ip.startswith("127.") else ENIS
            return Addresses(order, zone=APEX)
        if name == VPCE:
            return Addresses(ENIS, zone=VPCE_ZONE)
        if name == "many." + VPCE_ZONE:
            return Addresses(self.many, zone=VPCE_ZONE)
        for zone in (APEX, VPCE_ZONE):
            if name.endswith("." + zone):
                return NoSuchName(zone)
        return NOT_OURS


class LoopThread:
    """An event loop in a thread, so that blocking clients can query from the test."""

    def __init__(self, kind: str = "asyncio") -> None:
        # uvloop too: `cove server` runs on it, and its transports differ from asyncio's
        self.loop = uvloop.new_event_loop() if kind == "uvloop" else asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 10):  # noqa: ANN001, ANN201 - any coroutine
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@dataclass
class Served:
    resolver: Resolver
    zone: TableZone
    port: int
    loop: LoopThread

    def ask(self, name: str, qtype: str = "A", tcp: bool = False, edns: int | None = None):  # noqa: ANN201
        query = DNSRecord.question(name, qtype)
        if edns is not None:
            query.add_ar(EDNS0(udp_len=edns))
        return DNSRecord.parse(query.send("127.0.0.1", self.port, tcp=tcp, timeout=5))


def sockets(host: str = "127.0.0.1", port: int = 0) -> tuple[socket.socket, socket.socket]:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((host, port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((host, udp.getsockname()[1]))
    return udp, tcp


def serve(loop: LoopThread, resolver: Resolver, udp: socket.socket, tcp: socket.socket) -> None:
    async def start() -> None:
        await resolver.serve(udp, tcp)

    loop.run(start())


def shut(loop: LoopThread, resolver: Resolver) -> None:
    async def stop() -> None:
        resolver.close()
        await resolver.wait_closed()

    loop.run(stop())


@pytest.fixture(params=["asyncio", "uvloop"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    loop = LoopThread(request.param)
    zone = TableZone()

    resolver = Resolver(zone)
    udp, tcp = sockets()
    serve(loop, resolver, udp, tcp)
    try:
        yield Served(resolver, zone, udp.getsockname()[1], loop)
    finally:
        shut(loop, resolver)
        loop.stop()


def addresses(reply: DNSRecord) -> list[str]:
    return [str(rr.rdata) for rr in reply.rr]


def test_a_private_dns_name_answers_the_enis_in_the_zones_order(served: Served) -> None:
    reply = served.ask(APEX)
    assert reply.header.rcode == RCODE.NOERROR
    assert addresses(reply) == list(LOOPBACK_ORDER)
    assert {rr.ttl for rr in reply.rr} == {RECORD_TTL}
    assert reply.header.aa == 1 and reply.header.ra == 1
    # the zone was asked with the normalized name and the client's own address
    assert served.zone.seen[-1] == (APEX, "127.0.0.1")


def test_names_are_case_insensitive_and_the_question_is_echoed_as_asked(served: Served) -> None:
    mixed = "RunTime.SageMaker.US-East-1.AmazonAWS.com."
    reply = served.ask(mixed)
    assert addresses(reply) == list(LOOPBACK_ORDER)
    assert str(reply.q.qname) == mixed
    assert str(reply.rr[0].rname) == mixed


def test_aaaa_and_other_types_of_our_names_are_empty_noerror_with_the_soa(served: Served) -> None:
    for qtype in ("AAAA", "MX", "TXT"):
        reply = served.ask(VPCE, qtype)
        assert reply.header.rcode == RCODE.NOERROR, qtype
        assert reply.rr == [], qtype
        assert [str(rr.rname) for rr in reply.auth] == [VPCE_ZONE + "."]


def test_a_missing_name_under_our_zone_is_nxdomain_with_route53s_soa(served: Served) -> None:
    reply = served.ask("vpce-0000-nothing.runtime.sagemaker.us-east-1.vpce.amazonaws.com")
    assert reply.header.rcode == RCODE.NXDOMAIN
    assert reply.header.aa == 1
    (soa,) = reply.auth
    assert soa.rtype == QTYPE.SOA and soa.ttl == SOA_TTL
    assert str(soa.rdata.rname) == "awsdns-hostmaster.amazon.com."
    assert soa.rdata.times == (1, 7200, 900, 1209600, 86400)


def test_other_names_go_to_the_hosts_resolver(served: Served) -> None:
    reply = served.ask("localhost")  # /etc/hosts
    assert reply.header.rcode == RCODE.NOERROR
    assert reply.header.aa == 0  # not ours: recursive, not authoritative
    assert "127.0.0.1" in addresses(reply)
    assert served.ask("no-such-host.invalid").header.rcode == RCODE.NXDOMAIN


def test_an_ipv4_only_host_name_has_an_empty_aaaa_set_not_nxdomain() -> None:
    async def lookups() -> tuple[Answer, Answer]:
        return await host_lookup("localhost", socket.AF_INET), await host_lookup(
            "no-such-host.invalid", socket.AF_INET
        )

    found, missing = asyncio.run(lookups())
    assert isinstance(found, Addresses) and "127.0.0.1" in found.addresses
    assert isinstance(missing, NoSuchName)


def test_forwarded_aaaa_of_a_name_with_only_ipv4_is_noerror() -> None:
    async def forward(name: str, family: socket.AddressFamily) -> Addresses | NoSuchName:
        if name == "v4only.example" and family == socket.AF_INET:
            return Addresses(("192.0.2.7",))
        return NoSuchName()

    with resolver_on_loopback(forward) as port:
        reply = DNSRecord.parse(
            DNSRecord.question("v4only.example", "AAAA").send("127.0.0.1", port, timeout=5)
        )
        assert (reply.header.rcode, reply.rr) == (RCODE.NOERROR, [])
        reply = DNSRecord.parse(
            DNSRecord.question("gone.example", "AAAA").send("127.0.0.1", port, timeout=5)
        )
        assert reply.header.rcode == RCODE.NXDOMAIN


def test_a_failing_host_resolver_is_servfail() -> None:
    async def forward(name: str, family: socket.AddressFamily) -> Addresses | NoSuchName:
        raise LookupFailed("Temporary failure in name resolution")

    with resolver_on_loopback(forward) as port:
        reply = DNSRecord.parse(
            DNSRecord.question("example.com").send("127.0.0.1", port, timeout=5)
        )
        assert reply.header.rcode == RCODE.SERVFAIL


@pytest.fixture
def raw_udp(served: Served) -> Iterator[socket.socket]:
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(2)
    client.connect(("127.0.0.1", served.port))
    yield client
    client.close()


def test_a_malformed_query_gets_formerr_and_the_server_keeps_serving(
    served: Served, raw_udp: socket.socket
) -> None:
    # a header claiming one question, followed by a label running past the end
    raw_udp.send(struct.pack("!HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0) + b"\x3fabc")
    reply = DNSRecord.parse(raw_udp.recv(4096))
    assert reply.header.id == 0xBEEF and reply.header.qr == 1
    assert reply.header.rcode == RCODE.FORMERR
    # two questions in one query: FORMERR too
    query = DNSRecord.question(APEX)
    query.add_question(*DNSRecord.question(VPCE).questions)
    raw_udp.send(query.pack())
    assert DNSRecord.parse(raw_udp.recv(4096)).header.rcode == RCODE.FORMERR
    # too short for a header: nothing to answer, and still serving afterwards
    raw_udp.settimeout(0.5)
    raw_udp.send(b"\x01\x02\x03")
    with pytest.raises(TimeoutError):
        raw_udp.recv(4096)
    assert addresses(served.ask(APEX)) == list(LOOPBACK_ORDER)


def test_responses_are_never_answered_and_other_opcodes_are_notimp(
    served: Served, raw_udp: socket.socket
) -> None:
    response = DNSRecord.question(APEX).reply()
    raw_udp.settimeout(0.5)
    raw_udp.send(response.pack())
    with pytest.raises(TimeoutError):
        raw_udp.recv(4096)
    notify = DNSRecord.question(APEX)
    notify.header.opcode = 4  # NOTIFY
    raw_udp.send(notify.pack())
    assert DNSRecord.parse(raw_udp.recv(4096)).header.rcode == RCODE.NOTIMP


def test_a_large_answer_is_truncated_on_udp_and_whole_over_tcp(served: Served) -> None:
    name = "many." + VPCE_ZONE
    truncated = served.ask(name)
    assert truncated.header.tc == 1 and truncated.rr == []
    assert str(truncated.q.qname) == name + "."
    whole = served.ask(name, tcp=True)
    assert whole.header.tc == 0 and addresses(whole) == list(served.zone.many)


def test_edns0_lifts_the_udp_limit_to_what_the_client_advertises(served: Served) -> None:
    name = "many." + VPCE_ZONE  # about 1.7 KB of answers
    big = served.ask(name, edns=4096)
    assert big.header.tc == 0 and len(big.rr) == 100
    assert [rr.rtype for rr in big.ar] == [QTYPE.OPT]
    assert served.ask(name, edns=1232).header.tc == 1


def test_tcp_carries_several_queries_on_one_connection(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as conn:
        queries = ((APEX, list(LOOPBACK_ORDER)), (VPCE, list(ENIS)), ("localhost", None))
        for name, expected in queries:
            packet = DNSRecord.question(name).pack()
            conn.sendall(struct.pack("!H", len(packet)) + packet)
            (length,) = struct.unpack("!H", recv_exactly(conn, 2))
            reply = DNSRecord.parse(recv_exactly(conn, length))
            if expected is not None:
                assert addresses(reply) == expected
            else:
                assert "127.0.0.1" in addresses(reply)


def test_close_stops_serving_and_ends_open_tcp_connections(served: Served) -> None:
    conn = socket.create_connection(("127.0.0.1", served.port), timeout=5)
    time.sleep(0.1)  # let the server accept it
    shut(served.loop, served.resolver)
    assert conn.recv(1) == b""  # closed by the server
    conn.close()
    with pytest.raises(TimeoutError):
        DNSRecord.question(APEX).send("127.0.0.1", served.port, timeout=0.5)


def recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        assert chunk, "connection closed early"
        data += chunk
    return data


class resolver_on_loopback:  # noqa: N801 - used as a context manager
    """A resolver for the table zone with a given forward function."""

    def __init__(self, forward) -> None:  # noqa: ANN001
        self.forward = forward

    def __enter__(self) -> int:
        self.loop = LoopThread()

        self.resolver = Resolver(TableZone(), forward=self.forward)
        udp, tcp = sockets()
        serve(self.loop, self.resolver, udp, tcp)
        return udp.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        shut(self.loop, self.resolver)
        self.loop.stop()


needs_dig = pytest.mark.skipif(shutil.which("dig") is None, reason="dig (dnsutils) not installed")


@needs_dig
def test_dig_gets_our_answers_and_retries_truncated_ones_over_tcp(served: Served) -> None:
    def dig(*args: str) -> str:
        done = subprocess.run(
            ["dig", "@127.0.0.1", "-p", str(served.port), "+tries=1", "+time=5", *args],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert dig("+short", APEX).split() == list(LOOPBACK_ORDER)
    assert "status: NXDOMAIN" in dig("nothing." + APEX)
    full = dig("many." + VPCE_ZONE)
    assert "Truncated, retrying in TCP mode" in full
    assert "ANSWER: 100" in full


# A host inside a network namespace, as `cove exec` makes them: the resolver's sockets are
# made in that namespace (by a thread that entered it with setns), served by our loop,
# and the host's resolv.conf (a bind mount in its own mount namespace) points at them.

CLONE_NEWNET = 0x40000000
RESOLVER_IP = "10.0.0.2"  # base + 2 of a 10.0.0.0/16 VPC


def in_namespace(pid: int, make):  # noqa: ANN001, ANN201 - runs make() inside pid's netns
    libc = ctypes.CDLL(None, use_errno=True)
    result: list[object] = []

    def enter() -> None:
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                result.append(OSError(ctypes.get_errno(), "setns"))
                return
        finally:
            os.close(fd)
        result.append(make())  # this thread ends here; its sockets stay in the namespace

    thread = threading.Thread(target=enter)
    thread.start()
    thread.join()
    if isinstance(result[0], Exception):
        raise result[0]
    return result[0]


@pytest.fixture
def namespace(tmp_path: Path) -> Iterator[int]:
    if os.geteuid() != 0:
        pytest.skip("entering a network namespace with setns needs root here")
    holder = subprocess.Popen(["unshare", "-n", "sleep", "600"])
    try:
        deadline = time.monotonic() + 10
        while os.readlink(f"/proc/{holder.pid}/ns/net") == os.readlink("/proc/self/ns/net"):
            assert time.monotonic() < deadline, "unshare -n did not make a namespace"
            time.sleep(0.01)
        for command in (
            ["ip", "link", "set", "lo", "up"],
            ["ip", "addr", "add", f"{RESOLVER_IP}/32", "dev", "lo"],
        ):
            subprocess.run(["nsenter", "-t", str(holder.pid), "-n", *command], check=True)
        yield holder.pid
    finally:
        holder.kill()
        holder.wait(timeout=10)


def run_as_host(pid: int, resolv_conf: Path, script: str) -> subprocess.CompletedProcess[str]:
    """A shell in the namespace whose /etc/resolv.conf is `resolv_conf`, as for a host in
    the VPC; the bind mount lives in a private mount namespace, gone with the shell."""
    return subprocess.run(
        ["nsenter", "-t", str(pid), "-n", "unshare", "-m", "--propagation", "private",
         "sh", "-c", f"mount --bind {resolv_conf} /etc/resolv.conf && {script}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_host_whose_resolv_conf_points_at_the_resolver_gets_our_answers(
    namespace: int, tmp_path: Path
) -> None:
    loop = LoopThread()
    zone = TableZone()

    resolver = Resolver(zone)
    udp, tcp = in_namespace(namespace, lambda: sockets(RESOLVER_IP, 53))
    serve(loop, resolver, udp, tcp)
    try:
        resolv_conf = tmp_path / "resolv.conf"
        resolv_conf.write_text(f"nameserver {RESOLVER_IP}\noptions timeout:2 attempts:1\n")
        done = run_as_host(namespace, resolv_conf, f"getent ahostsv4 {APEX}")
        assert done.returncode == 0, done.stderr
        # getent lists each address per socket type; the order of first appearance is ours
        listed = list(dict.fromkeys(line.split()[0] for line in done.stdout.splitlines()))
        assert listed == list(ENIS)
        # the query came from inside the namespace, from the host's own address
        assert (APEX, RESOLVER_IP) in zone.seen
        missing = run_as_host(namespace, resolv_conf, f"getent hosts nothing.{APEX}")
        assert missing.returncode == 2  # getent: key not found
        if shutil.which("dig"):
            short = run_as_host(namespace, resolv_conf, f"dig +short {VPCE}")
            assert short.returncode == 0, short.stderr
            assert short.stdout.split() == list(ENIS)
    finally:
        shut(loop, resolver)
        loop.stop()
    # the host's own resolv.conf was never touched
    assert f"nameserver {RESOLVER_IP}" not in Path("/etc/resolv.conf").read_text()
