"""A router's stateful packet filter, rendered from typed ports, groups and rules.

For a new connection from a port, its groups' egress rules must allow the destination;
when the destination is a port too, that port's groups' ingress rules must allow the
source (a connection from outside, over an uplink, needs only the ingress check, one to
outside only the egress check). Replies of tracked connections always pass. Anything
else is dropped without an answer (clients time out). A port only sends from its own
addresses. Exempt destinations (the resolver) pass unfiltered. A redirect rewrites a new
connection's destination before any of this (the groups see where it goes).

The whole table is replaced in one nftables transaction, so a change governs the next
connection at once while tracked connections keep flowing, as AWS's security groups do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from ipaddress import IPv4Address, IPv4Network

from cove.host.netns.namespaces import Namespace

TABLE = "cove"


class Protocol(Enum):
    ALL = "all"
    TCP = "tcp"
    UDP = "udp"
    ICMP = "icmp"


# Protocol numbers that name one of the above (-1 is AWS's "all").
_NUMBERED = {-1: Protocol.ALL, 1: Protocol.ICMP, 6: Protocol.TCP, 17: Protocol.UDP}


@dataclass(frozen=True)
class PortRange:
    first: int
    last: int

    def __post_init__(self) -> None:
        if not 0 <= self.first <= self.last <= 65535:
            raise ValueError(f"bad port range {self.first}-{self.last}")


@dataclass(frozen=True)
class IcmpMatch:
    """ICMP type and code; None matches any."""

    type: int | None = None
    code: int | None = None


@dataclass(frozen=True)
class GroupRef:
    """Any address of a port in that group."""

    group_id: str


Peer = IPv4Network | GroupRef


@dataclass(frozen=True)
class Rule:
    """Allows traffic to (egress) or from (ingress) peer.

    protocol is a Protocol or an IP protocol number; ports apply to TCP and UDP (None:
    all), icmp to ICMP (None: all). Another protocol number matches all its traffic."""

    peer: Peer
    protocol: Protocol | int = Protocol.ALL
    ports: PortRange | None = None
    icmp: IcmpMatch | None = None

    def __post_init__(self) -> None:
        if isinstance(self.protocol, int):
            if not -1 <= self.protocol <= 255:
                raise ValueError(f"bad IP protocol number {self.protocol}")
            if self.protocol in _NUMBERED:
                object.__setattr__(self, "protocol", _NUMBERED[self.protocol])
        if self.ports is not None and self.protocol not in (Protocol.TCP, Protocol.UDP):
            raise ValueError("a port range needs protocol tcp or udp")
        if self.icmp is not None and self.protocol is not Protocol.ICMP:
            raise ValueError("an ICMP type/code needs protocol icmp")


@dataclass(frozen=True)
class Group:
    id: str
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Port:
    """A host link as the router sees it: its router-side interface and the host's IPs."""

    ifname: str
    addresses: tuple[IPv4Address, ...]
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Redirect:
    """New TCP connections from a port to destination:port go to `to` instead (DNAT,
    before the filter sees them): one address served by different listeners per port."""

    ifname: str
    destination: IPv4Address
    port: int
    to: IPv4Address


@dataclass(frozen=True)
class Ruleset:
    ports: tuple[Port, ...] = ()
    groups: tuple[Group, ...] = ()
    exempt: tuple[IPv4Network, ...] = ()
    # Interfaces whose outgoing connections take the router's address (an uplink shared
    # by VPCs whose CIDRs may overlap).
    masquerade: tuple[str, ...] = ()
    # (port ifname, destination) pairs the port has no route to (its subnet's route
    # table does not send them anywhere): dropped whatever the groups allow.
    unrouted: tuple[tuple[str, IPv4Network], ...] = ()
    redirects: tuple[Redirect, ...] = ()


def apply(router: Namespace, ruleset: Ruleset) -> None:
    """Replace Cove's table in router with ruleset, atomically."""
    router.nft(render(ruleset))


def remove(router: Namespace) -> None:
    """Drop Cove's table (everything passes again); nothing if there is none."""
    router.nft(f"add table ip {TABLE}\ndelete table ip {TABLE}\n")


def render(ruleset: Ruleset) -> str:
    """The nft script that replaces Cove's table with ruleset."""
    return _Renderer(ruleset).script()


class _Renderer:
    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self.groups = {group.id: group for group in ruleset.groups}
        for port in ruleset.ports:
            _check_ifname(port.ifname)
            for group_id in port.groups:
                if group_id not in self.groups:
                    raise ValueError(f"port {port.ifname} is in undefined group {group_id}")
        for ifname in (*ruleset.masquerade, *(r.ifname for r in ruleset.redirects)):
            _check_ifname(ifname)
        referenced = {
            rule.peer.group_id
            for group in ruleset.groups
            for rule in (*group.ingress, *group.egress)
            if isinstance(rule.peer, GroupRef)
        }
        names = _UniqueNames()
        self.set_names = {gid: names.take("g_", gid) for gid in sorted(referenced)}
        self.out_chains = {p.ifname: names.take("out_", p.ifname) for p in ruleset.ports}
        self.in_chains = {p.ifname: names.take("in_", p.ifname) for p in ruleset.ports}

    def script(self) -> str:
        lines = [f"add table ip {TABLE}", f"delete table ip {TABLE}", f"table ip {TABLE} {{"]
        lines += self._sets()
        lines += self._base_chains()
        for port in self.ruleset.ports:
            lines += self._out_chain(port)
            lines += self._in_chain(port)
        lines += _chain("to_dest", [*self._dispatch_by_oif(), "accept"])
        lines += _chain("from_outside", self._dispatch_by_oif())
        if self.ruleset.redirects:
            lines += _chain(
                "prerouting",
                [f'iifname "{r.ifname}" ip daddr {r.destination} tcp dport {r.port} '
                 f"dnat to {r.to}" for r in self.ruleset.redirects],
                hook="type nat hook prerouting priority dstnat; policy accept;",
            )  # fmt: skip
        if self.ruleset.masquerade:
            lines += _chain(
                "postrouting",
                [f"oifname {_names_set(self.ruleset.masquerade)} masquerade"],
                hook="type nat hook postrouting priority srcnat; policy accept;",
            )
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _sets(self) -> list[str]:
        lines: list[str] = []
        for group_id, name in self.set_names.items():
            members = sorted(
                {a for p in self.ruleset.ports if group_id in p.groups for a in p.addresses}
            )
            lines += [f"  set {name} {{", "    type ipv4_addr"]
            if members:
                lines.append(f"    elements = {{ {', '.join(map(str, members))} }}")
            lines.append("  }")
        if self.ruleset.exempt:
            lines += [
                "  set exempt {",
                "    type ipv4_addr",
                "    flags interval",
                f"    elements = {{ {', '.join(map(str, sorted(self.ruleset.exempt)))} }}",
                "  }",
            ]
        return lines

    def _base_chains(self) -> list[str]:
        tracked = ["ct state established,related accept", "ct state != new drop"]
        by_iif = self._dispatch_by_iif()
        forward = [*tracked, *by_iif, "goto from_outside"]
        # Router-local services: loopback, ports that pass their egress check.
        local = ['iifname "lo" accept', *tracked, *by_iif]
        hook = "type filter hook {} priority filter; policy drop;"
        return [
            *_chain("forward", forward, hook=hook.format("forward")),
            *_chain("input", local, hook=hook.format("input")),
        ]

    def _dispatch_by_iif(self) -> list[str]:
        if not self.ruleset.ports:
            return []
        pairs = ", ".join(f'"{ifname}" : goto {chain}' for ifname, chain in self.out_chains.items())
        return [f"iifname vmap {{ {pairs} }}"]

    def _dispatch_by_oif(self) -> list[str]:
        if not self.ruleset.ports:
            return []
        pairs = ", ".join(f'"{ifname}" : goto {chain}' for ifname, chain in self.in_chains.items())
        return [f"oifname vmap {{ {pairs} }}"]

    def _out_chain(self, port: Port) -> list[str]:
        own = ", ".join(str(a) for a in sorted(set(port.addresses)))
        body = [f"ip saddr != {{ {own} }} drop"] if own else ["drop"]
        unrouted = sorted(str(d) for ifname, d in self.ruleset.unrouted if ifname == port.ifname)
        if unrouted:
            body.append(f"ip daddr {{ {', '.join(unrouted)} }} drop")
        if self.ruleset.exempt:
            body.append("ip daddr @exempt accept")
        for rule in self._rules(port, egress=True):
            body.append(f"{self._match(rule, 'daddr')} goto to_dest".lstrip())
        return _chain(self.out_chains[port.ifname], body)

    def _in_chain(self, port: Port) -> list[str]:
        body = [
            f"{self._match(rule, 'saddr')} accept".lstrip()
            for rule in self._rules(port, egress=False)
        ]
        return _chain(self.in_chains[port.ifname], body)

    def _rules(self, port: Port, *, egress: bool) -> Iterable[Rule]:
        seen: set[Rule] = set()
        for group_id in port.groups:
            group = self.groups[group_id]
            for rule in group.egress if egress else group.ingress:
                if rule not in seen:
                    seen.add(rule)
                    yield rule

    def _match(self, rule: Rule, direction: str) -> str:
        parts: list[str] = []
        if isinstance(rule.peer, GroupRef):
            parts.append(f"ip {direction} @{self.set_names[rule.peer.group_id]}")
        elif rule.peer.prefixlen:
            parts.append(f"ip {direction} {rule.peer}")
        parts += _protocol_match(rule)
        return " ".join(parts)


def _protocol_match(rule: Rule) -> list[str]:
    protocol = rule.protocol
    if protocol is Protocol.ALL:
        return []
    if protocol in (Protocol.TCP, Protocol.UDP):
        assert isinstance(protocol, Protocol)
        if rule.ports is None:
            return [f"meta l4proto {protocol.value}"]
        first, last = rule.ports.first, rule.ports.last
        return [f"{protocol.value} dport {first if first == last else f'{first}-{last}'}"]
    if protocol is Protocol.ICMP:
        icmp = rule.icmp or IcmpMatch()
        parts = ["meta l4proto icmp"]
        if icmp.type is not None:
            parts.append(f"icmp type {icmp.type}")
        if icmp.code is not None:
            parts.append(f"icmp code {icmp.code}")
        return parts
    return [f"meta l4proto {protocol}"]


def _chain(name: str, body: Sequence[str], *, hook: str | None = None) -> list[str]:
    lines = [f"  chain {name} {{"]
    if hook:
        lines.append(f"    {hook}")
    lines += [f"    {line}" for line in body]
    lines.append("  }")
    return lines


def _names_set(ifnames: Sequence[str]) -> str:
    return "{ " + ", ".join(f'"{name}"' for name in ifnames) + " }"


_IFNAME = re.compile(r"[A-Za-z0-9_.:-]{1,15}")


def _check_ifname(name: str) -> None:
    if not _IFNAME.fullmatch(name):
        raise ValueError(f"{name!r} is not an interface name this firewall accepts")


class _UniqueNames:
    """nft identifiers derived from free-form ids, distinct even when ids sanitize alike."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def take(self, prefix: str, raw: str) -> str:
        base = prefix + re.sub(r"[^A-Za-z0-9_]", "_", raw)
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name
