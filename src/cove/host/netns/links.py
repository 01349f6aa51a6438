"""Links between namespaces: routed point-to-point host links, uplinks, policy routing.

A router namespace reaches each host namespace over its own veth pair. The host's end
(`eth0`) holds the host's IPs with the subnet's prefix and a default route via the
gateway; the router's end holds the gateway as /32, answers ARP for everything it routes
elsewhere (proxy_arp), and the router has a /32 route per host IP on it. So every packet,
even between two hosts of one subnet, is forwarded by the router, where one stateful
nftables table filters it.

Route tables: the router's main table holds the /32 host routes; a VPC route table can be
a numbered table chosen by `add_rule` (by incoming interface or source prefix). A recipe:
`route(router, vpc_cidr, blackhole=True)` in main (the local route: unassigned addresses
go nowhere), `add_rule(router, priority=100, table=MAIN)` so the local routes win, then
per subnet `add_rule(router, priority=1000, table=N, source=subnet)` with table N holding
e.g. `0.0.0.0/0 via` an uplink.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from cove.host.netns.namespaces import CommandFailed, Namespace

MAIN = 254  # Linux's main routing table

_IFNAME_MAX = 15


@dataclass(frozen=True)
class Uplink:
    """A veth pair routing between a router and another namespace, addressed /32 to /32."""

    router_if: str
    other_if: str
    router_address: IPv4Address
    other_address: IPv4Address


def attach_host(
    router: Namespace,
    host: Namespace,
    *,
    router_if: str,
    host_if: str = "eth0",
    addresses: Sequence[IPv4Address],
    prefix: int,
    gateway: IPv4Address,
    mac: str | None = None,
) -> None:
    """Link host to router (routed point-to-point); converges if called again.

    A second call with other addresses adds the new ones and removes the ones not listed
    (an ENI's secondary IPs changing)."""
    _check_ifname(router_if)
    _check_ifname(host_if)
    if not addresses:
        raise ValueError("a host needs at least one address")
    if not _has_link(router, router_if):
        # The peer is made directly in the host's namespace: no temporary name anywhere.
        peer = f"name {host_if}" + (f" address {mac}" if mac else "")
        router.ip(f"link add name {router_if} type veth peer {peer} netns {host.pid}")
    elif mac:
        host.ip(f"link set dev {host_if} address {mac}")
    wanted = {IPv4Address(a) for a in addresses}
    stale = _addresses(host, host_if) - wanted
    host.ip(
        *(f"address del {a}/{prefix} dev {host_if}" for a in sorted(stale)),
        *(f"address replace {a}/{prefix} dev {host_if}" for a in sorted(wanted)),
        f"link set dev {host_if} up",
        f"route replace default via {gateway} dev {host_if}",
    )
    # The router end: no IPv6 (nothing here speaks it, and it must not leak past the
    # IPv4-only firewall), ARP answered for what the router routes.
    router.sysctl(f"net.ipv6.conf.{router_if}.disable_ipv6", 1)
    router.sysctl(f"net.ipv4.conf.{router_if}.proxy_arp", 1)
    # Proxied ARP replies are otherwise delayed by up to 0.8 s (proxy_delay), which a
    # host's first connection to a neighbour would pay.
    router.sysctl(f"net.ipv4.neigh.{router_if}.proxy_delay", 0)
    stale_routes = _host_routes(router, router_if) - wanted
    router.ip(
        f"address replace {gateway}/32 dev {router_if}",
        f"link set dev {router_if} up",
        *(f"route del {a}/32 dev {router_if}" for a in sorted(stale_routes)),
        *(f"route replace {a}/32 dev {router_if}" for a in sorted(wanted)),
    )


def detach_host(router: Namespace, router_if: str) -> None:
    """Remove a host link (both ends, and the routes on it); nothing if it is gone."""
    if _has_link(router, router_if):
        router.ip(f"link del dev {router_if}")


def add_local_address(ns: Namespace, address: IPv4Address, ifname: str = "lo") -> None:
    """A service address of this namespace itself (a resolver, IMDS), as /32."""
    ns.ip(f"address replace {address}/32 dev {ifname}", f"link set dev {ifname} up")


def remove_local_address(ns: Namespace, address: IPv4Address, ifname: str = "lo") -> None:
    if IPv4Address(address) in _addresses(ns, ifname):
        ns.ip(f"address del {address}/32 dev {ifname}")


def attach_uplink(
    router: Namespace,
    other: Namespace,
    *,
    router_if: str,
    other_if: str,
    router_address: IPv4Address,
    other_address: IPv4Address,
) -> Uplink:
    """A veth pair from router to other, each end a /32 with a route to the other's."""
    _check_ifname(router_if)
    _check_ifname(other_if)
    if not _has_link(router, router_if):
        router.ip(f"link add name {router_if} type veth peer name {other_if} netns {other.pid}")
    for ns, ifname, mine, peer in (
        (router, router_if, router_address, other_address),
        (other, other_if, other_address, router_address),
    ):
        ns.sysctl(f"net.ipv6.conf.{ifname}.disable_ipv6", 1)
        ns.ip(
            f"address replace {mine}/32 dev {ifname}",
            f"link set dev {ifname} up",
            f"route replace {peer}/32 dev {ifname}",
        )
    return Uplink(router_if, other_if, IPv4Address(router_address), IPv4Address(other_address))


def detach_uplink(router: Namespace, uplink: Uplink) -> None:
    detach_host(router, uplink.router_if)


def route(
    ns: Namespace,
    destination: IPv4Network,
    *,
    table: int = MAIN,
    dev: str | None = None,
    via: IPv4Address | None = None,
    blackhole: bool = False,
) -> None:
    """Set (replace) the route to destination in table: out dev, via a next hop, or nowhere."""
    if blackhole == bool(dev or via):
        raise ValueError("a route is either a blackhole or goes out a device / via a hop")
    target = "blackhole " if blackhole else ""
    hop = (f" via {via}" if via else "") + (f" dev {dev}" if dev else "")
    ns.ip(f"route replace {target}{destination}{hop} table {table}")


def unroute(ns: Namespace, destination: IPv4Network, *, table: int = MAIN) -> None:
    """Delete the route to destination in table; nothing if there is none."""
    try:
        ns.ip(f"route del {destination} table {table}")
    except CommandFailed as error:
        if "No such process" not in error.stderr:  # iproute2's ESRCH: no such route
            raise


def flush_table(ns: Namespace, table: int) -> None:
    if table == MAIN:
        raise ValueError("flushing the main table would drop the host routes")
    ns.ip(f"route flush table {table}")


def add_rule(
    ns: Namespace,
    *,
    priority: int,
    table: int,
    iif: str | None = None,
    source: IPv4Network | None = None,
) -> None:
    """A policy-routing rule: packets (from iif, from source) look up table; idempotent."""
    selector = _rule_selector(priority, iif, source)
    if not _has_rule(ns, priority, table, iif, source):
        ns.ip(f"rule add {selector} lookup {table}")


def delete_rule(
    ns: Namespace,
    *,
    priority: int,
    table: int,
    iif: str | None = None,
    source: IPv4Network | None = None,
) -> None:
    if _has_rule(ns, priority, table, iif, source):
        ns.ip(f"rule del {_rule_selector(priority, iif, source)} lookup {table}")


def _rule_selector(priority: int, iif: str | None, source: IPv4Network | None) -> str:
    return (
        f"priority {priority}"
        + (f" iif {iif}" if iif else "")
        + (f" from {source}" if source else " from all")
    )


def _has_rule(
    ns: Namespace, priority: int, table: int, iif: str | None, source: IPv4Network | None
) -> bool:
    wanted_source = str(IPv4Network(source)) if source else "all"
    for rule in json.loads(ns.run(["ip", "-j", "-4", "rule", "show"]) or "[]"):
        src = rule.get("src", "all")
        if src != "all" and "srclen" in rule:
            src = f"{src}/{rule['srclen']}"
        elif src != "all":
            src = f"{src}/32"
        if (
            rule.get("priority") == priority
            and _table_number(rule.get("table")) == table
            and rule.get("iif") == iif
            and src == wanted_source
        ):
            return True
    return False


def _table_number(name: object) -> int | None:
    named = {"main": MAIN, "local": 255, "default": 253}
    if isinstance(name, str):
        return named.get(name, int(name) if name.isdigit() else None)
    return None


def _check_ifname(name: str) -> None:
    if not name or len(name) > _IFNAME_MAX or "/" in name or name.strip() != name:
        raise ValueError(f"{name!r} is not a Linux interface name (1 to 15 characters)")


def _has_link(ns: Namespace, ifname: str) -> bool:
    return any(link["ifname"] == ifname for link in json.loads(ns.run(["ip", "-j", "link"])))


def _addresses(ns: Namespace, ifname: str) -> set[IPv4Address]:
    if not _has_link(ns, ifname):
        return set()
    shown = json.loads(ns.run(["ip", "-j", "-4", "address", "show", "dev", ifname]))
    return {IPv4Address(a["local"]) for link in shown for a in link.get("addr_info", [])}


def _host_routes(ns: Namespace, ifname: str) -> set[IPv4Address]:
    """The /32 routes of the main table out ifname."""
    shown = json.loads(ns.run(["ip", "-j", "-4", "route", "show", "dev", ifname]))
    return {IPv4Address(r["dst"]) for r in shown if "/" not in r["dst"] and r["dst"] != "default"}
