"""AWS-shaped resource ids: a prefix, a dash and 17 lower-case hex digits (the long ids EC2
has issued since 2018: "vpc-0897467802289706f")."""

from __future__ import annotations

import secrets
from enum import StrEnum


class Prefix(StrEnum):
    VPC = "vpc"
    SUBNET = "subnet"
    GROUP = "sg"
    RULE = "sgr"
    ROUTE_TABLE = "rtb"
    ASSOCIATION = "rtbassoc"
    INTERNET_GATEWAY = "igw"
    ENDPOINT = "vpce"
    INTERFACE = "eni"
    ATTACHMENT = "eni-attach"
    CIDR_ASSOCIATION = "vpc-cidr-assoc"


def new_id(prefix: Prefix) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def dns_suffix() -> str:
    """The random part of an endpoint's DNS label, `vpce-<id>-<suffix>` (8 characters)."""
    return secrets.token_hex(4)


def mac_address() -> str:
    """A locally administered unicast MAC (02:...), as EC2 gives ENIs 0x:.. addresses."""
    return "02:" + ":".join(secrets.token_hex(1) for _ in range(5))
