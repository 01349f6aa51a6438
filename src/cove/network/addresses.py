"""IP addresses inside a subnet. AWS reserves five of every subnet's addresses: the
network address, the VPC router (+1), the DNS server (+2), one for future use (+3) and
the broadcast address (Amazon VPC User Guide, "Subnet CIDR blocks"). The lowest free
address is handed out first."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

RESERVED = 5


def capacity(cidr: str) -> int:
    """How many addresses of the subnet can be assigned at all."""
    return ipaddress.ip_network(cidr).num_addresses - RESERVED


def available(cidr: str, used: int) -> int:
    """AvailableIpAddressCount: the size less the five reserved, less those in use."""
    return capacity(cidr) - used


def lowest_free(cidr: str, used: Iterable[str]) -> str | None:
    network = ipaddress.ip_network(cidr)
    taken = {ipaddress.ip_address(ip) for ip in used}
    first, last = network.network_address + 4, network.broadcast_address - 1
    address = first
    while address <= last:
        if address not in taken:
            return str(address)
        address += 1
    return None


def is_assignable(cidr: str, ip: str) -> bool:
    """An address a client may ask for: inside the subnet and not one of the reserved."""
    network = ipaddress.ip_network(cidr)
    address = ipaddress.ip_address(ip)
    return network.network_address + 4 <= address <= network.broadcast_address - 1
