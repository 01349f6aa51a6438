"""A VPC's security groups and route tables as the router's packet filter (VPC UG,
"Security group rules", "Route tables"): each ENI is a port in its groups; a rule's
source or destination is a CIDR or a referenced group; the resolver is exempt (security
groups do not filter traffic to the Amazon DNS server); Cove's public edge is reachable
only from subnets whose route table sends it to an attached internet gateway, S3's also
through the S3 gateway endpoint of the subnet's route table (network/paths.py)."""

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
    Redirect,
    Rule,
    Ruleset,
)
from cove.network import resources as net
from cove.network.paths import reaches_internet, s3_gateway
from cove.network.vpc_dns import PUBLIC_EDGE, S3_EDGE

HTTPS = 443

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


def _unrouted(
    snapshot: net.VpcSnapshot, eni: net.NetworkInterface, gateways: Mapping[str, str]
) -> list[str]:
    """The router's addresses the ENI's subnet has no route to: the public edge and S3's
    without an internet-gateway route (S3's is routed by a gateway endpoint too, whose
    own listener no other subnet reaches)."""
    gateway = s3_gateway(snapshot, eni.subnet_id)
    mine = gateways.get(gateway.endpoint_id) if gateway is not None else None
    unrouted = [a for a in (PUBLIC_EDGE, S3_EDGE)
                if not reaches_internet(snapshot, eni.subnet_id, a)]  # fmt: skip
    if gateway is not None:
        # its 443 goes to the gateway's listener (a redirect); while that is not built,
        # nowhere: not to S3's public endpoint, past the endpoint's policy
        unrouted = [a for a in unrouted if a != S3_EDGE] + ([] if mine else [S3_EDGE])
    return unrouted + [a for a in gateways.values() if a != mine]


def ruleset_of(
    snapshot: net.VpcSnapshot, ports: Mapping[str, str], gateways: Mapping[str, str] | None = None
) -> Ruleset:
    """The router's ruleset for the VPC; `ports` maps each built ENI to its router-side
    interface, `gateways` each S3 gateway endpoint to its listener's address. Connections
    to S3 (443) from a subnet whose route table has a gateway endpoint go to its listener."""
    groups = tuple(
        Group(g.group_id, tuple(_rule(r) for r in g.ingress), tuple(_rule(r) for r in g.egress))
        for g in snapshot.groups
    )
    gateways = gateways or {}
    built = [eni for eni in snapshot.interfaces if eni.eni_id in ports]
    redirects = []
    for eni in built:
        gateway = s3_gateway(snapshot, eni.subnet_id)
        if gateway is not None and gateway.endpoint_id in gateways:
            redirects.append(Redirect(
                ports[eni.eni_id], ipaddress.IPv4Address(S3_EDGE), HTTPS,
                ipaddress.IPv4Address(gateways[gateway.endpoint_id]),
            ))  # fmt: skip
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
            (ports[eni.eni_id], ipaddress.ip_network(f"{address}/32"))
            for eni in built
            for address in _unrouted(snapshot, eni, gateways)
        ),
        redirects=tuple(redirects),
    )
