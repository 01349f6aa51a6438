"""Helpers for the network-namespace tests: a skip reason, real probes (TCP, UDP, ICMP echo)
made from inside a namespace, and a snapshot of the host's own network namespace."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from cove.host.netns.namespaces import Namespace, NetworkUnavailable, check_support

TIMEOUT = 0.6  # a dropped SYN is retransmitted after 1 s: longer than this means dropped


def _support() -> str | None:
    try:
        check_support()
    except NetworkUnavailable as error:
        return str(error)
    return None


UNSUPPORTED = _support()
requires_netns = pytest.mark.skipif(
    UNSUPPORTED is not None, reason=f"network namespaces unavailable: {UNSUPPORTED}"
)


def host_network() -> tuple[str, str]:
    """What must not change in the host's own namespace: its links and its ruleset."""

    def out(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout

    return out("ip", "-o", "link"), out("nft", "list", "ruleset")


@pytest.fixture(scope="module")
def host_unchanged() -> Iterator[None]:
    """Fails the module if it changed anything in the host's own network namespace."""
    if UNSUPPORTED:
        yield
        return
    before = host_network()
    yield
    assert host_network() == before


def tcp_connects(ns: Namespace, address: str, port: int, *, source: str = "0.0.0.0") -> bool:
    """True if a TCP connection from ns succeeds; False if it times out (dropped).

    A refusal or an ICMP error raises: the tests mean "dropped silently" by False."""
    client = ns.socket(socket.AF_INET, socket.SOCK_STREAM, (source, 0), listen=False)
    client.settimeout(TIMEOUT)
    try:
        client.connect((address, port))
    except TimeoutError:
        return False
    finally:
        client.close()
    return True


@contextmanager
def tcp_connection(ns: Namespace, address: str, port: int) -> Iterator[socket.socket]:
    client = ns.socket(socket.AF_INET, socket.SOCK_STREAM, ("0.0.0.0", 0), listen=False)
    client.settimeout(TIMEOUT)
    try:
        client.connect((address, port))
        yield client
    finally:
        client.close()


def echoes(connection: socket.socket, payload: bytes = b"ping") -> bool:
    """True if the peer echoes payload back over an open connection in time."""
    connection.sendall(payload)
    try:
        return connection.recv(len(payload)) == payload
    except TimeoutError:
        return False


class EchoServer:
    """TCP and UDP echo on one port inside a namespace, served by background threads."""

    def __init__(self, ns: Namespace, address: str, port: int) -> None:
        self.tcp = ns.socket(socket.AF_INET, socket.SOCK_STREAM, (address, port))
        self.udp = ns.socket(socket.AF_INET, socket.SOCK_DGRAM, (address, port))
        self.tcp.settimeout(0.1)
        self.udp.settimeout(0.1)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._accept, daemon=True),
            threading.Thread(target=self._datagrams, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except (TimeoutError, OSError):
                    return
                if not data:
                    return
                conn.sendall(data)

    def _datagrams(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.udp.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            self.udp.sendto(data, peer)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.tcp.close()
        self.udp.close()


def udp_echoes(ns: Namespace, address: str, port: int) -> bool:
    """True if a datagram from ns reaches an EchoServer and its echo comes back."""
    client = ns.socket(socket.AF_INET, socket.SOCK_DGRAM, ("0.0.0.0", 0))
    client.settimeout(TIMEOUT)
    try:
        payload = os.urandom(8)
        client.sendto(payload, (address, port))
        try:
            return client.recv(64) == payload
        except TimeoutError:
            return False
    finally:
        client.close()


def pings(ns: Namespace, address: str) -> bool:
    """One ICMP echo request from ns (a raw socket: no ping binary needed); True on a reply."""
    sock = ns.socket(socket.AF_INET, socket.SOCK_RAW, ("0.0.0.0", 0), proto=socket.IPPROTO_ICMP)
    # A fresh id per probe: conntrack tracks an echo by its id, so reusing one would make
    # the next request part of the last (still tracked) exchange.
    ident = int.from_bytes(os.urandom(2), "big")
    body = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"cove"
    packet = body[:2] + struct.pack("!H", _checksum(body)) + body[4:]
    try:
        sock.sendto(packet, (address, 0))
        deadline = time.monotonic() + TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                reply = sock.recv(1024)
            except TimeoutError:
                return False
            header = (reply[0] & 0x0F) * 4
            kind, _, _, got_ident, _ = struct.unpack("!BBHHH", reply[header : header + 8])
            if kind == 0 and got_ident == ident:
                return True
        return False
    finally:
        sock.close()


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF
