"""A VPC's security groups and route tables as the router's packet filter (VPC UG,
"Security group rules", "Route tables"): each ENI is a port in its groups; a rule's
source or destination is a CIDR or a referenced group; the resolver is exempt (security
groups do not filter traffic to the Amazon DNS server); Cove's public edge is reachable
only from subnets whose route table sends it to an attached internet gateway."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from cove.host.netns.firewall import (
    Group,
    GroupRef,
    IcmpMatch,
    Port,
    PortRange,
    Protocol,
    Rule,
    Ruleset,
)
from cove.network import resources as net
from cove.network.vpc_dns import PUBLIC_EDGE

_PROTOCOLS = {"-1": Protocol.ALL, "all": Protocol.ALL, "tcp": Protocol.TCP, "6": Protocol.TCP,
              "udp": Protocol.UDP, "17": Protocol.UDP, "icmp": Protocol.ICMP,
              "1": Protocol.ICMP}  # fmt: skip


def _rule(rule: net.Rule) -> Rule:
    protocol: Protocol | int = _PROTOCOLS.get(rule.protocol.lower(), Protocol.ALL)
    if rule.protocol.lower() not in _PROTOCOLS:
        protocol = int(rule.protocol)
    peer = (
        GroupRef(rule.peer_group_id)
        if rule.peer_group_id
        else ipaddress.ip_network(rule.cidr or "0.0.0.0/0")
    )
    ports = icmp = None
    if protocol in (Protocol.TCP, Protocol.UDP) and rule.from_port is not None:
        first = max(rule.from_port, 0)
        last = rule.to_port if rule.to_port is not None and rule.to_port >= 0 else 65535
        ports = PortRange(first, last)
    elif protocol is Protocol.ICMP:
        # EC2: FromPort is the ICMP type, ToPort the code; -1 means all
        kind = rule.from_port if rule.from_port is not None and rule.from_port >= 0 else None
        code = rule.to_port if rule.to_port is not None and rule.to_port >= 0 else None
        icmp = IcmpMatch(kind, code) if kind is not None or code is not None else None
    return Rule(peer, protocol, ports, icmp)


def reaches_internet(snapshot: net.VpcSnapshot, subnet_id: str) -> bool:
    """Whether the subnet's route table sends Cove's public edge to an attached gateway."""
    attached = {g.gateway_id for g in snapshot.internet_gateways if g.vpc_id == snapshot.vpc.vpc_id}
    edge = ipaddress.ip_address(PUBLIC_EDGE)
    table = snapshot.route_table_of(subnet_id)
    return any(
        route.target in attached and edge in ipaddress.ip_network(route.destination)
        for route in table.routes
    )


def ruleset_of(snapshot: net.VpcSnapshot, ports: Mapping[str, str]) -> Ruleset:
    """The router's ruleset for the VPC; `ports` maps each built ENI to its router-side
    interface."""
    groups = tuple(
        Group(g.group_id, tuple(_rule(r) for r in g.ingress), tuple(_rule(r) for r in g.egress))
        for g in snapshot.groups
    )
    built = [eni for eni in snapshot.interfaces if eni.eni_id in ports]
    edge = ipaddress.ip_network(f"{PUBLIC_EDGE}/32")
    return Ruleset(
        ports=tuple(
            Port(
                ports[eni.eni_id],
                tuple(ipaddress.IPv4Address(ip) for ip in eni.private_ips),
                eni.group_ids,
            )
            for eni in built
        ),  # fmt: skip
        groups=groups,
        exempt=(ipaddress.ip_network(f"{snapshot.vpc.resolver_ip}/32"),),
        unrouted=tuple(
            (ports[eni.eni_id], edge)
            for eni in built
            if not reaches_internet(snapshot, eni.subnet_id)
        ),
    )
