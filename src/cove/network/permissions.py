"""One security group permission as a rule source: protocol, ports and one peer (a CIDR
or a group). EC2 splits an IpPermission naming several ranges and groups into one rule
each, names protocols by their lower-case name (6 -> tcp) and keeps no ports for `-1`."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cove.network.failures import invalid

_BY_NUMBER = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}


@dataclass(frozen=True)
class Permission:
    protocol: str
    from_port: int | None
    to_port: int | None
    cidr: str | None = None
    peer_group_id: str | None = None
    description: str | None = None

    @property
    def key(self) -> tuple[object, ...]:
        """What makes two rules the same (the description does not)."""
        return (self.protocol, self.from_port, self.to_port, self.cidr, self.peer_group_id)

    def text(self) -> str:
        """How EC2 names the rule in InvalidPermission.Duplicate: `peer: 0.0.0.0/0, TCP,
        from port: 22, to port: 22, ALLOW`, or `peer: sg-..., ALL, ALLOW` for -1."""
        peer = self.cidr or self.peer_group_id
        if self.protocol == "-1":
            return f"peer: {peer}, ALL, ALLOW"
        if self.protocol == "icmp":
            return f"peer: {peer}, ICMP, type: {self.from_port}, code: {self.to_port}, ALLOW"
        return (
            f"peer: {peer}, {self.protocol.upper()}, from port: {self.from_port}, "
            f"to port: {self.to_port}, ALLOW"
        )


def normalize(
    protocol: str, from_port: int | None, to_port: int | None
) -> tuple[str, int | None, int | None]:
    name = _BY_NUMBER.get(protocol.lower(), protocol.lower())
    if name == "-1":
        return name, None, None
    if name in ("tcp", "udp"):
        if from_port is None or to_port is None:
            raise invalid(
                f"Invalid value 'Must specify both from and to ports with TCP/UDP.' for "
                f"IP protocol. Unknown protocol: {protocol}"
            )
        if not (0 <= from_port <= to_port <= 65535):
            raise invalid(f"Invalid port range ({from_port}, {to_port}) for {name}.")
        return name, from_port, to_port
    if name == "icmp":
        return name, -1 if from_port is None else from_port, -1 if to_port is None else to_port
    if not name.isdigit() or not 0 <= int(name) <= 255:
        raise invalid(f"Invalid value '{protocol}' for IP protocol. Unknown protocol.")
    return name, from_port, to_port


def check_cidr(cidr: str) -> str:
    try:
        return str(ipaddress.IPv4Network(cidr, strict=False))
    except ValueError:
        raise invalid(f"CIDR block {cidr} is malformed") from None
