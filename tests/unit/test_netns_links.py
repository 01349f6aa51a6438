"""Routed point-to-point host links, local service addresses, uplinks and policy routing,
checked with real connections between namespaces (no firewall here: see test_netns_firewall)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network

import pytest
from netns_lab import (  # noqa: F401 (host_unchanged is a fixture)
    EchoServer,
    host_unchanged,
    pings,
    requires_netns,
    tcp_connects,
)

from cove.host.netns import links
from cove.host.netns.namespaces import Namespace, UserNamespace

pytestmark = [requires_netns, pytest.mark.usefixtures("host_unchanged")]

A = IPv4Address
N = IPv4Network
GATEWAY_1 = A("10.0.1.1")


@pytest.fixture(params=["root", "rootless"])
def owner(request: pytest.FixtureRequest) -> Iterator[UserNamespace | None]:
    """Every link test twice: namespaces made directly, and inside a user namespace (as a
    server without root makes them; here made by root, the same commands)."""
    if request.param == "root":
        yield None
        return
    made = UserNamespace.create()
    yield made
    made.close()


@pytest.fixture
def router(owner: UserNamespace | None) -> Iterator[Namespace]:
    with Namespace.create("router", owner) as ns:
        ns.sysctl("net.ipv4.ip_forward", 1)
        yield ns


@pytest.fixture
def hosts(owner: UserNamespace | None) -> Iterator[list[Namespace]]:
    made = [Namespace.create(f"host{i}", owner) for i in range(3)]
    yield made
    for ns in made:
        ns.close()


def _attach(router: Namespace, host: Namespace, ifname: str, *addresses: str) -> None:
    links.attach_host(
        router,
        host,
        router_if=ifname,
        addresses=[A(a) for a in addresses],
        prefix=24,
        gateway=N(f"{addresses[0]}/24", strict=False).network_address + 1,
    )


def test_a_host_link_is_routed_point_to_point(router: Namespace, hosts: list[Namespace]) -> None:
    a, b, _ = hosts
    _attach(router, a, "va", "10.0.1.10")
    _attach(router, b, "vb", "10.0.1.11")
    (eth0,) = json.loads(a.run(["ip", "-j", "-4", "address", "show", "dev", "eth0"]))
    assert [(i["local"], i["prefixlen"]) for i in eth0["addr_info"]] == [("10.0.1.10", 24)]
    assert "default via 10.0.1.1 dev eth0" in a.run(["ip", "route"])
    assert router.run(["ip", "-4", "-o", "address", "show", "dev", "va"]).count("10.0.1.1/32")
    assert router.read_sysctl("net.ipv4.conf.va.proxy_arp") == "1"
    echo = EchoServer(b, "0.0.0.0", 80)
    try:
        assert tcp_connects(a, "10.0.1.11", 80)
        assert pings(a, "10.0.1.11")
        # The neighbour's address was answered by the router (proxy ARP), not by b.
        router_mac = json.loads(router.run(["ip", "-j", "link", "show", "va"]))[0]["address"]
        neighbours = json.loads(a.run(["ip", "-j", "neigh", "show", "10.0.1.11"]))
        assert neighbours[0]["lladdr"] == router_mac
    finally:
        echo.close()


def test_attaching_again_converges_on_the_new_addresses(
    router: Namespace, hosts: list[Namespace]
) -> None:
    a, b, _ = hosts
    _attach(router, a, "va", "10.0.1.10")
    _attach(router, b, "vb", "10.0.1.11", "10.0.1.12")
    echo = EchoServer(b, "0.0.0.0", 80)
    try:
        assert tcp_connects(a, "10.0.1.12", 80)
        _attach(router, b, "vb", "10.0.1.11", "10.0.1.13")  # .12 leaves, .13 comes
        routes = router.run(["ip", "route", "show", "dev", "vb"])
        assert "10.0.1.12" not in routes and "10.0.1.13" in routes
        assert "10.0.1.12" not in b.run(["ip", "-o", "address"])
        assert tcp_connects(a, "10.0.1.13", 80)
        with pytest.raises(OSError):  # no route for it any more: the router says so
            tcp_connects(a, "10.0.1.12", 80)
    finally:
        echo.close()


def test_a_mac_address_can_be_chosen(router: Namespace, hosts: list[Namespace]) -> None:
    links.attach_host(
        router,
        hosts[0],
        router_if="va",
        addresses=[A("10.0.1.10")],
        prefix=24,
        gateway=GATEWAY_1,
        mac="02:00:0a:00:01:0a",
    )
    shown = json.loads(hosts[0].run(["ip", "-j", "link", "show", "eth0"]))
    assert shown[0]["address"] == "02:00:0a:00:01:0a"


def test_detach_removes_both_ends_and_is_idempotent(
    router: Namespace, hosts: list[Namespace]
) -> None:
    _attach(router, hosts[0], "va", "10.0.1.10")
    links.detach_host(router, "va")
    links.detach_host(router, "va")
    assert "va" not in router.run(["ip", "-o", "link"])
    assert "eth0" not in hosts[0].run(["ip", "-o", "link"])
    assert "10.0.1.10" not in router.run(["ip", "route"])


def test_a_local_address_serves_the_router_itself(
    router: Namespace, hosts: list[Namespace]
) -> None:
    _attach(router, hosts[0], "va", "10.0.1.10")
    links.add_local_address(router, A("10.0.0.2"))
    links.add_local_address(router, A("10.0.0.2"))  # idempotent
    resolver = router.socket(socket.AF_INET, socket.SOCK_STREAM, ("10.0.0.2", 53))
    try:
        assert tcp_connects(hosts[0], "10.0.0.2", 53)
    finally:
        resolver.close()
    links.remove_local_address(router, A("10.0.0.2"))
    assert "10.0.0.2" not in router.run(["ip", "-o", "address"])


def test_a_host_local_address_never_leaves_the_host(hosts: list[Namespace]) -> None:
    links.add_local_address(hosts[0], A("169.254.169.254"))
    imds = hosts[0].socket(socket.AF_INET, socket.SOCK_STREAM, ("169.254.169.254", 80))
    try:
        assert tcp_connects(hosts[0], "169.254.169.254", 80)
    finally:
        imds.close()


def test_route_tables_chosen_by_source_send_one_subnet_up_the_uplink(
    router: Namespace, hosts: list[Namespace]
) -> None:
    a, b, public = hosts
    _attach(router, a, "va", "10.0.1.10")
    _attach(router, b, "vb", "10.0.2.10")
    uplink = links.attach_uplink(
        router,
        public,
        router_if="up0",
        other_if="vpc0",
        router_address=A("169.254.0.1"),
        other_address=A("169.254.0.2"),
    )
    links.add_local_address(public, A("198.51.100.10"))
    links.route(public, N("10.0.0.0/16"), via=uplink.router_address, dev="vpc0")
    # The VPC's local route, then one table per route table, chosen by source subnet.
    links.route(router, N("10.0.0.0/16"), blackhole=True)
    links.add_rule(router, priority=100, table=links.MAIN)
    links.route(router, N("0.0.0.0/0"), table=101, via=uplink.other_address, dev="up0")
    links.add_rule(router, priority=1000, table=101, source=N("10.0.1.0/24"))
    links.add_rule(router, priority=1000, table=101, source=N("10.0.1.0/24"))
    assert router.run(["ip", "rule"]).count("from 10.0.1.0/24 lookup 101") == 1
    echo = EchoServer(public, "198.51.100.10", 443)
    try:
        assert tcp_connects(a, "198.51.100.10", 443)
        with pytest.raises(OSError):  # subnet 2's table has no such route
            tcp_connects(b, "198.51.100.10", 443)
        # An unassigned VPC address is blackholed (silently), not sent up the uplink.
        assert not tcp_connects(a, "10.0.3.3", 443)
        links.delete_rule(router, priority=1000, table=101, source=N("10.0.1.0/24"))
        with pytest.raises(OSError):
            tcp_connects(a, "198.51.100.10", 443)
        links.add_rule(router, priority=1000, table=101, iif="vb")
        assert tcp_connects(b, "198.51.100.10", 443)
        links.unroute(router, N("0.0.0.0/0"), table=101)
        links.unroute(router, N("0.0.0.0/0"), table=101)
        with pytest.raises(OSError):
            tcp_connects(b, "198.51.100.10", 443)
    finally:
        echo.close()
    links.detach_uplink(router, uplink)
    assert "vpc0" not in public.run(["ip", "-o", "link"])


def test_interface_names_are_checked(router: Namespace, hosts: list[Namespace]) -> None:
    with pytest.raises(ValueError, match="interface name"):
        _attach(router, hosts[0], "a-name-far-too-long", "10.0.1.10")
    with pytest.raises(ValueError, match="blackhole"):
        links.route(router, N("10.0.0.0/16"))


def test_hosts_attach_concurrently_from_worker_threads(
    router: Namespace, owner: UserNamespace | None
) -> None:
    # The fabric calls these through asyncio.to_thread: many at once, on pool threads.
    async def build() -> list[Namespace]:
        async def one(i: int) -> Namespace:
            host = await asyncio.to_thread(Namespace.create, f"h{i}", owner)
            await asyncio.to_thread(_attach, router, host, f"vh{i}", f"10.0.1.{10 + i}")
            return host

        return await asyncio.gather(*(one(i) for i in range(8)))

    made = asyncio.run(build())
    try:
        echo = EchoServer(made[0], "0.0.0.0", 80)
        try:
            assert all(tcp_connects(host, "10.0.1.10", 80) for host in made[1:])
        finally:
            echo.close()
    finally:
        for host in made:
            host.close()
    assert "vh" not in router.run(["ip", "-o", "link"])
