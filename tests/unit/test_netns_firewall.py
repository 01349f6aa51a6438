"""The router's stateful filter: security-group semantics on real traffic.

AWS facts pinned here: security groups are stateful, and changing a rule does not break
tracked connections, only new ones follow it; security groups do not filter traffic to
the VPC's +2 resolver ("Amazon EC2 security group connection tracking", EC2 User Guide,
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html).
Protocol -1, or a number other than tcp/udp/icmp, allows all ports; for ICMP FromPort is
the type and ToPort the code, -1 meaning all (IpPermission, EC2 API Reference,
https://docs.aws.amazon.com/goto/WebAPI/ec2-2016-11-15/IpPermission).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network

import pytest
from netns_lab import (  # noqa: F401 (host_unchanged is a fixture)
    EchoServer,
    echoes,
    host_unchanged,
    pings,
    requires_netns,
    tcp_connection,
    tcp_connects,
    udp_echoes,
)

from cove.host.netns import firewall, links
from cove.host.netns.firewall import (
    Group,
    GroupRef,
    IcmpMatch,
    Port,
    PortRange,
    Protocol,
    Redirect,
    Rule,
    Ruleset,
)
from cove.host.netns.namespaces import Namespace

A = IPv4Address
N = IPv4Network
ANYWHERE = N("0.0.0.0/0")
EVERYTHING_OUT = (Rule(ANYWHERE),)

# --- rendering, no namespaces needed -------------------------------------------------


def test_protocol_numbers_that_name_a_protocol_are_that_protocol() -> None:
    assert Rule(ANYWHERE, 6, PortRange(80, 80)).protocol is Protocol.TCP
    assert Rule(ANYWHERE, -1).protocol is Protocol.ALL
    assert Rule(ANYWHERE, 1).protocol is Protocol.ICMP
    assert Rule(ANYWHERE, 47).protocol == 47  # GRE: all of it, no ports


def test_ports_and_icmp_only_where_they_mean_something() -> None:
    with pytest.raises(ValueError, match="tcp or udp"):
        Rule(ANYWHERE, Protocol.ALL, PortRange(80, 80))
    with pytest.raises(ValueError, match="icmp"):
        Rule(ANYWHERE, Protocol.TCP, icmp=IcmpMatch(8))
    with pytest.raises(ValueError, match="port range"):
        PortRange(90, 80)


def test_a_port_in_an_undefined_group_is_refused() -> None:
    with pytest.raises(ValueError, match="undefined group sg-x"):
        firewall.render(Ruleset(ports=(Port("va", (A("10.0.1.10"),), ("sg-x",)),)))


def test_groups_whose_ids_sanitize_alike_get_distinct_sets() -> None:
    rules = (Rule(GroupRef("sg-a")), Rule(GroupRef("sg_a")))
    script = firewall.render(Ruleset(groups=(Group("sg-a", ingress=rules), Group("sg_a"))))
    assert "set g_sg_a {" in script and "set g_sg_a_2 {" in script


# --- real traffic ----------------------------------------------------------------------


@dataclass
class Lab:
    """A router, hosts a and b in 10.0.1.0/24, c in 10.0.2.0/24, echo servers on b and c
    (TCP and UDP 80 and 8080), and a resolver at 10.0.0.2:53 in the router."""

    router: Namespace
    a: Namespace
    b: Namespace
    c: Namespace
    ports: dict[str, Port]

    def apply(self, groups: tuple[Group, ...], **memberships: tuple[str, ...]) -> None:
        ports = tuple(replace(self.ports[name], groups=memberships.get(name, ())) for name in "abc")
        firewall.apply(self.router, Ruleset(ports, groups, exempt=(N("10.0.0.2/32"),)))


IPS = {"a": "10.0.1.10", "b": "10.0.1.11", "c": "10.0.2.10"}


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    names = ["router", "a", "b", "c"]
    made = {name: Namespace.create(name) for name in names}
    servers: list[EchoServer] = []
    resolver: socket.socket | None = None
    try:
        router = made["router"]
        router.sysctl("net.ipv4.ip_forward", 1)
        for name in "abc":
            net = N(f"{IPS[name]}/24", strict=False)
            links.attach_host(
                router,
                made[name],
                router_if=f"v{name}",
                addresses=[A(IPS[name])],
                prefix=24,
                gateway=net.network_address + 1,
            )
        for name in "bc":
            servers += [EchoServer(made[name], "0.0.0.0", p) for p in (80, 8080)]
        links.add_local_address(router, A("10.0.0.2"))
        links.add_local_address(router, A("10.0.0.3"))
        resolver = router.socket(socket.AF_INET, socket.SOCK_STREAM, ("0.0.0.0", 53))
        ports = {n: Port(f"v{n}", (A(IPS[n]),), ()) for n in "abc"}
        yield Lab(router, made["a"], made["b"], made["c"], ports)
    finally:
        for server in servers:
            server.close()
        if resolver:
            resolver.close()
        for ns in made.values():
            ns.close()


@pytest.mark.usefixtures("host_unchanged")
@requires_netns
class TestOnRealTraffic:
    def test_without_rules_everything_is_dropped_silently(self, lab: Lab) -> None:
        lab.apply(())
        assert not tcp_connects(lab.a, IPS["b"], 80)  # a timeout, not a refusal
        assert not udp_echoes(lab.a, IPS["b"], 80)
        assert not pings(lab.a, IPS["c"])

    def test_ingress_from_a_group_admits_its_members_only(self, lab: Lab) -> None:
        web = Group("sg-web", ingress=(Rule(GroupRef("sg-app"), Protocol.TCP, PortRange(80, 80)),))
        app = Group("sg-app", egress=EVERYTHING_OUT)
        other = Group("sg-other", egress=EVERYTHING_OUT)
        lab.apply((web, app, other), a=("sg-app",), b=("sg-web",), c=("sg-other",))
        assert tcp_connects(lab.a, IPS["b"], 80)
        assert not tcp_connects(lab.a, IPS["b"], 8080)  # not that port
        assert not tcp_connects(lab.c, IPS["b"], 80)  # not in sg-app
        # Membership changes with the next apply: c joins sg-app.
        lab.apply((web, app, other), a=("sg-app",), b=("sg-web",), c=("sg-other", "sg-app"))
        assert tcp_connects(lab.c, IPS["b"], 80)

    def test_cidr_ingress_across_subnets_with_a_port_range(self, lab: Lab) -> None:
        c = Group("sg-c", ingress=(Rule(N("10.0.1.0/24"), Protocol.TCP, PortRange(80, 8080)),))
        out = Group("sg-out", egress=EVERYTHING_OUT)
        lab.apply((c, out), a=("sg-out",), b=("sg-out",), c=("sg-c",))
        assert tcp_connects(lab.a, IPS["c"], 80)
        assert tcp_connects(lab.b, IPS["c"], 8080)
        assert not tcp_connects(lab.a, IPS["b"], 80)  # b admits nothing

    def test_the_sources_egress_rules_must_allow_it_too(self, lab: Lab) -> None:
        open_b = Group("sg-b", ingress=(Rule(ANYWHERE),))
        narrow = Group(
            "sg-a", egress=(Rule(N("10.0.1.11/32"), Protocol.TCP, PortRange(8080, 8080)),)
        )
        lab.apply((open_b, narrow), a=("sg-a",), b=("sg-b",))
        assert tcp_connects(lab.a, IPS["b"], 8080)
        assert not tcp_connects(lab.a, IPS["b"], 80)
        assert not udp_echoes(lab.a, IPS["b"], 8080)  # tcp only
        # Egress to a group: b's addresses.
        to_group = Group("sg-a", egress=(Rule(GroupRef("sg-b")),))
        lab.apply((open_b, to_group), a=("sg-a",), b=("sg-b",), c=("sg-b",))
        assert tcp_connects(lab.a, IPS["c"], 80)

    def test_replies_pass_though_the_server_may_send_nothing(self, lab: Lab) -> None:
        # b and c have no egress rule at all: their answers are tracked replies.
        ingress = (Rule(ANYWHERE, Protocol.TCP), Rule(ANYWHERE, Protocol.UDP, PortRange(80, 80)))
        lab.apply(
            (Group("sg-srv", ingress=ingress), Group("sg-a", egress=EVERYTHING_OUT)),
            a=("sg-a",),
            b=("sg-srv",),
            c=("sg-srv",),
        )
        with tcp_connection(lab.a, IPS["b"], 80) as connection:
            assert echoes(connection)
        assert udp_echoes(lab.a, IPS["c"], 80)
        assert not udp_echoes(lab.a, IPS["c"], 8080)
        # ... but b may not open a connection of its own back to a.
        server = lab.a.socket(socket.AF_INET, socket.SOCK_STREAM, ("0.0.0.0", 9000))
        try:
            assert not tcp_connects(lab.b, IPS["a"], 9000)
        finally:
            server.close()

    def test_icmp_by_type(self, lab: Lab) -> None:
        out = Group("sg-a", egress=EVERYTHING_OUT)
        echo_request = Group("sg-c", ingress=(Rule(ANYWHERE, Protocol.ICMP, icmp=IcmpMatch(8)),))
        lab.apply((out, echo_request), a=("sg-a",), c=("sg-c",))
        assert pings(lab.a, IPS["c"])
        replies_only = Group("sg-c", ingress=(Rule(ANYWHERE, Protocol.ICMP, icmp=IcmpMatch(0)),))
        lab.apply((out, replies_only), a=("sg-a",), c=("sg-c",))
        assert not pings(lab.a, IPS["c"])
        any_icmp = Group("sg-c", ingress=(Rule(ANYWHERE, 1),))
        lab.apply((out, any_icmp), a=("sg-a",), c=("sg-c",))
        assert pings(lab.a, IPS["c"])
        assert not tcp_connects(lab.a, IPS["c"], 80)

    def test_a_rule_change_governs_the_next_connection_not_the_open_one(self, lab: Lab) -> None:
        out = Group("sg-a", egress=EVERYTHING_OUT)
        allow = Group("sg-b", ingress=(Rule(GroupRef("sg-a"), Protocol.TCP, PortRange(80, 80)),))
        lab.apply((out, allow), a=("sg-a",), b=("sg-b",))
        with tcp_connection(lab.a, IPS["b"], 80) as open_one:
            assert echoes(open_one)
            lab.apply((out, Group("sg-b")), a=("sg-a",), b=("sg-b",))
            assert not tcp_connects(lab.a, IPS["b"], 80)
            assert echoes(open_one, b"still tracked")
        lab.apply((out, allow), a=("sg-a",), b=("sg-b",))
        assert tcp_connects(lab.a, IPS["b"], 80)

    def test_a_port_sends_only_from_its_own_addresses(self, lab: Lab) -> None:
        everything = Group("sg-all", ingress=(Rule(ANYWHERE),), egress=EVERYTHING_OUT)
        lab.a.ip("address add 10.0.1.99/24 dev eth0")
        links.route(lab.router, N("10.0.1.99/32"), dev="va")
        try:
            lab.ports["a"] = replace(lab.ports["a"], addresses=(A(IPS["a"]), A("10.0.1.99")))
            lab.apply((everything,), a=("sg-all",), b=("sg-all",))
            assert tcp_connects(lab.a, IPS["b"], 80, source="10.0.1.99")
            lab.ports["a"] = replace(lab.ports["a"], addresses=(A(IPS["a"]),))
            lab.apply((everything,), a=("sg-all",), b=("sg-all",))
            assert not tcp_connects(lab.a, IPS["b"], 80, source="10.0.1.99")
            assert tcp_connects(lab.a, IPS["b"], 80)
        finally:
            lab.ports["a"] = replace(lab.ports["a"], addresses=(A(IPS["a"]),))
            links.unroute(lab.router, N("10.0.1.99/32"))
            lab.a.ip("address del 10.0.1.99/24 dev eth0")

    def test_the_resolver_is_exempt_other_router_addresses_are_not(self, lab: Lab) -> None:
        lab.apply((Group("sg-none"),), a=("sg-none",))
        assert tcp_connects(lab.a, "10.0.0.2", 53)
        assert not tcp_connects(lab.a, "10.0.0.3", 53)
        lab.apply((Group("sg-a", egress=EVERYTHING_OUT),), a=("sg-a",))
        assert tcp_connects(lab.a, "10.0.0.3", 53)

    def test_an_unrouted_destination_is_dropped_whatever_the_groups_allow(self, lab: Lab) -> None:
        # a subnet whose route table has no route to a destination cannot reach it, even
        # with egress open (VPC UG, "Route tables": traffic follows the subnet's routes)
        groups = (Group("sg-a", egress=EVERYTHING_OUT),)
        ports = tuple(replace(lab.ports[n], groups=("sg-a",) if n == "a" else ()) for n in "abc")
        unrouted = (("va", N("10.0.0.3/32")),)
        firewall.apply(lab.router, Ruleset(ports, groups, unrouted=unrouted))
        assert not tcp_connects(lab.a, "10.0.0.3", 53)
        firewall.apply(lab.router, Ruleset(ports, groups))
        assert tcp_connects(lab.a, "10.0.0.3", 53)

    def test_a_redirect_sends_one_ports_connections_to_another_listener(self, lab: Lab) -> None:
        # how an S3 gateway endpoint takes the S3 traffic of the subnets of its route
        # tables: their connections to S3's address go to its listener; others' do not,
        # and only they reach that listener at all
        links.add_local_address(lab.router, A("10.0.0.4"))
        server = EchoServer(lab.router, "10.0.0.4", 443)
        try:
            groups = (Group("sg-out", egress=EVERYTHING_OUT),)
            ports = tuple(replace(lab.ports[n], groups=("sg-out",)) for n in "abc")
            firewall.apply(lab.router, Ruleset(
                ports, groups, unrouted=(("va", N("10.0.0.3/32")), ("vb", N("10.0.0.3/32")),
                                         ("vb", N("10.0.0.4/32"))),
                redirects=(Redirect("va", A("10.0.0.3"), 443, A("10.0.0.4")),),
            ))  # fmt: skip
            with tcp_connection(lab.a, "10.0.0.3", 443) as redirected:
                assert echoes(redirected)
            assert tcp_connects(lab.a, "10.0.0.4", 443)
            assert not tcp_connects(lab.b, "10.0.0.3", 443)
            assert not tcp_connects(lab.b, "10.0.0.4", 443)
        finally:
            server.close()
            links.remove_local_address(lab.router, A("10.0.0.4"))

    def test_removing_the_table_opens_the_router(self, lab: Lab) -> None:
        lab.apply(())
        assert not tcp_connects(lab.a, IPS["b"], 80)
        firewall.remove(lab.router)
        firewall.remove(lab.router)
        assert tcp_connects(lab.a, IPS["b"], 80)
        assert lab.router.run(["nft", "list", "ruleset"]).strip() == ""


@requires_netns
@pytest.mark.usefixtures("host_unchanged")
def test_an_uplink_needs_only_egress_and_masquerades() -> None:
    with (
        Namespace.create("router") as router,
        Namespace.create("host") as host,
        Namespace.create("public") as public,
    ):
        router.sysctl("net.ipv4.ip_forward", 1)
        links.attach_host(
            router,
            host,
            router_if="vh",
            addresses=[A("10.0.1.10")],
            prefix=24,
            gateway=A("10.0.1.1"),
        )
        uplink = links.attach_uplink(
            router,
            public,
            router_if="up0",
            other_if="vpc0",
            router_address=A("169.254.0.1"),
            other_address=A("169.254.0.2"),
        )
        links.route(router, ANYWHERE, via=uplink.other_address, dev="up0")
        links.add_local_address(public, A("198.51.100.10"))
        # No route back to 10.0.0.0/16 in public: only the masqueraded source can answer.
        server = EchoServer(public, "198.51.100.10", 443)
        try:
            port = Port("vh", (A("10.0.1.10"),), ("sg-h",))
            closed = Ruleset((port,), (Group("sg-h"),), masquerade=("up0",))
            firewall.apply(router, closed)
            assert not tcp_connects(host, "198.51.100.10", 443)
            opened = replace(closed, groups=(Group("sg-h", egress=EVERYTHING_OUT),))
            firewall.apply(router, opened)
            with tcp_connection(host, "198.51.100.10", 443) as connection:
                assert echoes(connection)
            # Nothing from outside may open a connection into the VPC without ingress rules.
            inside = host.socket(socket.AF_INET, socket.SOCK_STREAM, ("0.0.0.0", 22))
            links.route(public, N("10.0.1.0/24"), via=uplink.router_address, dev="vpc0")
            try:
                assert not tcp_connects(public, "10.0.1.10", 22)
                admitted = replace(
                    opened,
                    groups=(Group("sg-h", ingress=(Rule(N("169.254.0.2/32")),), egress=()),),
                )
                firewall.apply(router, admitted)
                assert tcp_connects(public, "10.0.1.10", 22)
            finally:
                inside.close()
        finally:
            server.close()
