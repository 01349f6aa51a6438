"""The fabric building a VPC whose S3 gateway endpoint's listener fails (as the router's
address or socket, or serving it, might): the rest of the VPC is built all the same (its
security groups applied, later changes too), the failed listener's socket is closed and
its address taken back, the subnets of the endpoint's route table reach no S3 meanwhile
(not the public S3 either, past the endpoint's policy), and the listener is built on a
retry. Real namespaces; the listeners hold the sockets the fabric makes and serve nothing."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import pytest
from netns_lab import (  # noqa: F401 (host_unchanged is a fixture)
    host_unchanged,
    requires_netns,
    tcp_connects,
)
from waiting import until

from cove.network.endpoints import EndpointRequest
from cove.network.fabric import HTTPS, Fabric
from cove.network.permissions import Permission
from cove.network.resources import NetworkInterface, VpcEndpoint
from cove.network.store import NetworkStore
from cove.network.vpc_dns import S3_EDGE
from cove.pki.authority import CertificateAuthority
from cove.storage.db import open_engine

pytestmark = [requires_netns, pytest.mark.usefixtures("host_unchanged")]

S3 = "com.amazonaws.us-east-1.s3"
LISTENER = "198.18.1.1"  # the first gateway endpoint's


class Held:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def close(self) -> None:
        self.sock.close()


class Listeners:
    """Holds each socket; a gateway endpoint's fails while `failing`."""

    def __init__(self) -> None:
        self.failing = True
        self.failed: list[socket.socket] = []

    async def serve_endpoint(self, sock: socket.socket, tls: ssl.SSLContext,
                             endpoint: VpcEndpoint, eni: NetworkInterface) -> Held:  # fmt: skip
        return Held(sock)

    async def serve_metadata(self, sock: socket.socket, eni: NetworkInterface) -> Held:
        return Held(sock)

    async def serve_credentials(self, sock: socket.socket, eni: NetworkInterface) -> Held:
        return Held(sock)

    async def serve_public(self, sock: socket.socket, tls: ssl.SSLContext, vpc_id: str) -> Held:
        return Held(sock)

    async def serve_s3(self, sock: socket.socket, tls: ssl.SSLContext, vpc_id: str,
                       gateway: VpcEndpoint | None) -> Held:  # fmt: skip
        if gateway is not None and self.failing:
            self.failed.append(sock)
            raise OSError("the gateway endpoint's listener failed")
        return Held(sock)


def test_a_gateway_listener_that_fails_holds_nothing_back_and_is_built_later(
    tmp_path: Path,
) -> None:
    store = NetworkStore(open_engine(f"sqlite:///{tmp_path / 'db'}"), "us-east-1", "0" * 12)
    vpc_id = store.create_vpc("10.0.0.0/16").vpc_id
    subnet = store.create_subnet(vpc_id, "10.0.1.0/24").subnet_id
    eni = store.create_host_interface(subnet)
    group = eni.group_ids[0]
    table = store.snapshot(vpc_id).route_tables[0].route_table_id
    listeners = Listeners()
    fabric = Fabric(store, listeners, CertificateAuthority.load_or_create(tmp_path / "ca"),
                    "us-east-1")  # type: ignore[arg-type]  # fmt: skip

    async def go() -> None:
        await fabric.start()
        router = fabric._vpcs[vpc_id].router

        def ruleset() -> str:
            return router.run(["nft", "list", "table", "ip", "cove"])

        def addresses() -> str:
            return router.run(["ip", "-4", "-o", "address", "show", "dev", "lo"])

        try:
            store.create_endpoint(EndpointRequest(vpc_id, S3, route_table_ids=[table]))
            await until(lambda: len(listeners.failed) >= 2, timeout=10)  # tried, then again
            assert listeners.failed[0].fileno() == -1  # closed: its port is free again
            await until(lambda: LISTENER not in addresses())  # taken back (till the next try)
            # a security group change after the failure is applied all the same
            store.authorize(group, False, [Permission("tcp", 8123, 8123, cidr="10.9.0.0/16")])
            await until(lambda: "8123" in ruleset(), timeout=10)
            assert "dnat" not in ruleset()
            # S3 from the subnet: not to the public endpoint while the gateway's is missing
            host = fabric.namespace_of(eni.eni_id)
            assert host is not None
            assert not await asyncio.to_thread(tcp_connects, host, S3_EDGE, HTTPS)
            listeners.failing = False
            await until(lambda: fabric._vpcs[vpc_id].gateways, timeout=10)
            await until(lambda: f"dnat to {LISTENER}" in ruleset(), timeout=10)
            assert await asyncio.to_thread(tcp_connects, host, S3_EDGE, HTTPS)  # its listener
        finally:
            await fabric.stop()

    asyncio.run(go())


class FailingEdge(Listeners):
    """The public edge fails to serve its first time (a VPC whose build fails at start)."""

    def __init__(self) -> None:
        super().__init__()
        self.edge_failures = 1

    async def serve_public(self, sock: socket.socket, tls: ssl.SSLContext, vpc_id: str) -> Held:
        if self.edge_failures:
            self.edge_failures -= 1
            sock.close()
            raise OSError("the edge's listener failed")
        return Held(sock)


def test_a_vpc_that_cannot_be_built_at_start_does_not_keep_the_server_down(
    tmp_path: Path,
) -> None:
    store = NetworkStore(open_engine(f"sqlite:///{tmp_path / 'db'}"), "us-east-1", "0" * 12)
    vpc_id = store.create_vpc("10.0.0.0/16").vpc_id
    listeners = FailingEdge()
    fabric = Fabric(store, listeners, CertificateAuthority.load_or_create(tmp_path / "ca"),
                    "us-east-1")  # type: ignore[arg-type]  # fmt: skip

    async def go() -> None:
        await fabric.start()  # returns, the VPC not built yet
        try:
            assert vpc_id not in fabric._vpcs and listeners.edge_failures == 0
            await until(lambda: vpc_id in fabric._vpcs, timeout=10)  # built on a retry
        finally:
            await fabric.stop()

    asyncio.run(go())
