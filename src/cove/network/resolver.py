"""The VPC's DNS server (AWS's AmazonProvidedDNS, at the VPC's base address plus two).

It answers the names a `Zone` owns (private DNS names, `vpce` names, Cove's own) and
passes every other name to the host's resolver, as Route 53 Resolver resolves public
names for a VPC. It serves UDP and TCP on sockets it is handed (made inside the VPC's
network namespace by the fabric) from the caller's event loop.

Behaviour follows the Route 53 Developer Guide, "DNS constraints and behaviors": UDP
answers are at most 512 bytes, or up to 4096 when the client advertises EDNS0, else
truncated (TC) so that the client asks again over TCP; a name not found in a zone we own
gets NXDOMAIN with the zone's SOA in the authority section.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import ipaddress
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, cast

from dnslib import (
    AAAA,
    EDNS0,
    OPCODE,
    QTYPE,
    RCODE,
    RR,
    SOA,
    A,
    DNSError,
    DNSHeader,
    DNSLabel,
    DNSQuestion,
    DNSRecord,
)

log = logging.getLogger(__name__)

# TTL of the records of our zones: 60 s, what AWS's interface endpoint records (private
# DNS and vpce names) show when queried; no AWS page found states it, so it is pinned here
# as an observed value.
RECORD_TTL = 60
# The host's resolver gives no TTL; a short one keeps a host from holding an address long
# after the host's view changed.
FORWARDED_TTL = 30
# Route 53's SOA for a hosted zone ("NS and SOA records that Amazon Route 53 creates for a
# public hosted zone"): refresh 7200, retry 900, expire 1209600, minimum 86400, the SOA
# record's own TTL 900, so negative answers are cached for 900 s. The guide's example
# names a public zone's server; SOA_MNAME is the one private hosted zones show.
SOA_TTL = 900
SOA_MNAME = "ns-1536.awsdns-00.co.uk."
SOA_RNAME = "awsdns-hostmaster.amazon.com."
SOA_TIMES = (1, 7200, 900, 1209600, 86400)

CLASSIC_UDP_LIMIT = 512  # RFC 1035 4.2.1, without EDNS0
MAX_UDP_LIMIT = 4096  # Route 53's ceiling for EDNS0 clients
TCP_IDLE_TIMEOUT = 10.0  # seconds a TCP client may stay silent between queries
MAX_FORWARDS = 64  # host lookups in flight at once; the rest wait


@dataclass(frozen=True)
class Addresses:
    """The name is ours and has these addresses, in the order given (the zone decides,
    e.g. the client's own AZ first). IPv4 ones answer A queries, IPv6 ones AAAA; a type
    with none gets an empty NOERROR. `zone` is the apex of the zone the name belongs to,
    for the SOA of empty answers."""

    addresses: tuple[str, ...]
    zone: str | None = None


@dataclass(frozen=True)
class NoSuchName:
    """The name is under a zone we own but does not exist: NXDOMAIN."""

    zone: str | None = None


@dataclass(frozen=True)
class NotOurs:
    """The name is not in any zone we own: forward it to the host's resolver."""


NOT_OURS = NotOurs()

Answer = Addresses | NoSuchName | NotOurs


class Zone(Protocol):
    def answer(self, name: str, client_ip: str) -> Answer:
        """What the VPC's DNS says about `name` (lower case, no trailing dot) to the host
        at `client_ip`. Called on the event loop: it must not block."""
        ...


class LookupFailed(Exception):
    """The host's resolver could not answer (timeout, no server): SERVFAIL."""


# name, family (AF_INET, AF_INET6 or AF_UNSPEC) -> the addresses, or NoSuchName
Forward = Callable[[str, socket.AddressFamily], Awaitable[Addresses | NoSuchName]]


# Forwarded lookups get threads of their own: a host sending junk names cannot take the
# default executor the server's other blocking work (VPC builds) runs on.
_LOOKUPS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns-fwd")


async def host_lookup(name: str, family: socket.AddressFamily) -> Addresses | NoSuchName:
    """The host's resolver through getaddrinfo: /etc/hosts and the host's DNS apply."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.run_in_executor(
            _LOOKUPS, functools.partial(socket.getaddrinfo, name, None, family, socket.SOCK_STREAM)
        )
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return NoSuchName()
        if exc.errno == getattr(socket, "EAI_ADDRFAMILY", None):
            return Addresses(())  # the name exists, without addresses of this family
        raise LookupFailed(str(exc)) from exc
    # getaddrinfo repeats an address per protocol; keep the first of each, in order
    return Addresses(tuple(dict.fromkeys(str(info[4][0]) for info in infos)))


_FAMILIES = {QTYPE.A: socket.AF_INET, QTYPE.AAAA: socket.AF_INET6}


class Resolver:
    """One VPC's DNS server: a zone's answers, the host's resolver for the rest."""

    def __init__(self, zone: Zone, forward: Forward = host_lookup) -> None:
        self._zone = zone
        self._forward = forward
        self._forwards = asyncio.Semaphore(MAX_FORWARDS)
        self._transports: list[asyncio.DatagramTransport] = []
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def serve(self, udp_sock: socket.socket, tcp_sock: socket.socket | None) -> None:
        """Start answering on a bound UDP socket and (listening or not) TCP socket, and
        return; the running loop serves them until `close()`. May be called again for
        more sockets (another address of the same VPC)."""
        loop = asyncio.get_running_loop()
        udp_sock.setblocking(False)
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), sock=udp_sock
        )
        self._transports.append(transport)
        if tcp_sock is not None:
            tcp_sock.setblocking(False)
            self._servers.append(await asyncio.start_server(self._serve_tcp, sock=tcp_sock))

    def close(self) -> None:
        """Stop serving: close every socket and drop the queries in flight."""
        for transport in self._transports:
            transport.close()
        for server in self._servers:
            server.close()
        for task in self._tasks:
            task.cancel()
        self._transports.clear()

    async def wait_closed(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            await server.wait_closed()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # the protocol

    async def resolve(self, packet: bytes, client_ip: str, udp: bool) -> bytes | None:
        """The reply to one DNS message (None: nothing to send back)."""
        try:
            query = DNSRecord.parse(packet)
        except (DNSError, struct.error, IndexError, ValueError, UnicodeError):
            return _format_error(packet)
        if query.header.qr:
            return None  # a response, not a query: never answer those (no loops)
        if query.header.opcode != OPCODE.QUERY:
            return _error(query, RCODE.NOTIMP)
        if len(query.questions) != 1:
            return _error(query, RCODE.FORMERR)
        question = query.q
        reply = query.reply(ra=1, aa=0)
        edns = _edns_of(query)
        try:
            await self._fill(reply, question, client_ip)
        except Exception as exc:  # a failed lookup, or a zone's bug: SERVFAIL, never silence
            if not isinstance(exc, LookupFailed):
                log.exception("answering %s for %s failed", question.qname, client_ip)
            reply = query.reply(ra=1, aa=0)
            reply.header.rcode = RCODE.SERVFAIL
        if edns is not None:
            reply.add_ar(EDNS0(udp_len=MAX_UDP_LIMIT))
        limit = 65535 if not udp else _udp_limit(edns)
        return _fitted(reply, limit)

    async def _fill(self, reply: DNSRecord, question: DNSQuestion, client_ip: str) -> None:
        name = _normalized(question.qname)
        if not name:
            return  # the root: nothing to say, NOERROR
        answer = self._zone.answer(name, client_ip)
        if isinstance(answer, NotOurs):
            await self._fill_forwarded(reply, question, name)
            return
        reply.header.aa = 1  # a private hosted zone's answer is authoritative
        if isinstance(answer, NoSuchName):
            reply.header.rcode = RCODE.NXDOMAIN
            _add_soa(reply, answer.zone)
            return
        records = _records(question, answer.addresses, RECORD_TTL)
        for record in records:
            reply.add_answer(record)
        if not records:
            _add_soa(reply, answer.zone)

    async def _fill_forwarded(self, reply: DNSRecord, question: DNSQuestion, name: str) -> None:
        # getaddrinfo knows addresses only: another type of a name that exists gets an
        # empty NOERROR, of one that does not NXDOMAIN.
        family = _FAMILIES.get(question.qtype, socket.AF_UNSPEC)
        found = await self._lookup(name, family)
        # glibc says "no such name" for a name with IPv4 addresses only (localhost without
        # ::1 in /etc/hosts): the name exists, its AAAA set is empty.
        if (
            isinstance(found, NoSuchName)
            and family == socket.AF_INET6
            and isinstance(await self._lookup(name, socket.AF_INET), Addresses)
        ):
            found = Addresses(())
        if isinstance(found, NoSuchName):
            reply.header.rcode = RCODE.NXDOMAIN
            return
        for record in _records(question, found.addresses, FORWARDED_TTL):
            reply.add_answer(record)

    async def _lookup(self, name: str, family: socket.AddressFamily) -> Addresses | NoSuchName:
        async with self._forwards:
            return await self._forward(name, family)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:  # close() ends open connections too
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        client_ip = str(writer.get_extra_info("peername")[0])
        try:
            while True:  # RFC 7766: a client may send several queries on one connection
                head = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_TIMEOUT)
                (length,) = struct.unpack("!H", head)
                packet = await asyncio.wait_for(reader.readexactly(length), TCP_IDLE_TIMEOUT)
                reply = await self.resolve(packet, client_ip, udp=False)
                if reply is not None:
                    writer.write(struct.pack("!H", len(reply)) + reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # selector and uvloop transports alike (the former is no DatagramTransport subclass)
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._resolver._spawn(self._answer(data, addr))

    async def _answer(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = await self._resolver.resolve(data, str(addr[0]), udp=True)
        if reply is not None and self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # an ICMP error for a client that went away: nothing to do


def _normalized(qname: DNSLabel) -> str:
    # DNS names compare case-insensitively (RFC 4343); bytes beyond ASCII never match a
    # zone of ours, and latin-1 keeps them distinct rather than failing.
    return ".".join(label.decode("latin-1") for label in qname.label).lower()


def _records(question: DNSQuestion, addresses: tuple[str, ...], ttl: int) -> list[RR]:
    # The answer repeats the question's name as asked, case included (0x20 randomization).
    if question.qtype == QTYPE.A:
        kind, version = A, 4
    elif question.qtype == QTYPE.AAAA:
        kind, version = AAAA, 6
    else:
        return []
    return [
        RR(question.qname, question.qtype, ttl=ttl, rdata=kind(address))
        for address in addresses
        if ipaddress.ip_address(address).version == version
    ]


def _add_soa(reply: DNSRecord, zone: str | None) -> None:
    if zone:
        soa = SOA(SOA_MNAME, SOA_RNAME, SOA_TIMES)
        reply.add_auth(RR(zone.rstrip(".") + ".", QTYPE.SOA, ttl=SOA_TTL, rdata=soa))


def _edns_of(query: DNSRecord) -> RR | None:
    return next((rr for rr in query.ar if rr.rtype == QTYPE.OPT), None)


def _udp_limit(edns: RR | None) -> int:
    if edns is None:
        return CLASSIC_UDP_LIMIT
    # an OPT record's class is the client's UDP payload size (RFC 6891 6.1.2)
    return max(CLASSIC_UDP_LIMIT, min(int(edns.rclass), MAX_UDP_LIMIT))


def _fitted(reply: DNSRecord, limit: int) -> bytes:
    packed = reply.pack()
    if len(packed) <= limit:
        return packed
    # Too large: the header and question alone, with TC set, so the client asks again
    # over TCP (RFC 2181 9 allows dropping the whole section).
    short = DNSRecord(DNSHeader(id=reply.header.id, bitmap=reply.header.bitmap, tc=1))
    short.add_question(reply.q)
    short.ar = [rr for rr in reply.ar if rr.rtype == QTYPE.OPT]
    return short.pack()


def _error(query: DNSRecord, rcode: int) -> bytes:
    reply = DNSRecord(DNSHeader(id=query.header.id, qr=1, ra=1, rd=query.header.rd, rcode=rcode))
    reply.header.opcode = query.header.opcode
    reply.questions = list(query.questions)
    return reply.pack()


def _format_error(packet: bytes) -> bytes | None:
    """FORMERR for a message we cannot parse, echoing its id and opcode; None when it
    is too short to have a header at all, or is itself a response."""
    if len(packet) < 12:
        return None
    ident, flags = struct.unpack("!HH", packet[:4])
    if flags & 0x8000:
        return None
    opcode_and_rd = flags & 0x7900  # opcode (bits 11-14) and RD
    return struct.pack(
        "!HHHHHH", ident, 0x8000 | opcode_and_rd | 0x0080 | RCODE.FORMERR, 0, 0, 0, 0
    )
