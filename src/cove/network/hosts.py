"""Hosts in a subnet (`cove exec`): what a host is, as its metadata service describes it.
The fabric gives each its namespace; this module keeps who it is."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cove.network.resources import NetworkInterface


def new_instance_id() -> str:
    return "i-" + secrets.token_hex(9)[:17]


@dataclass(frozen=True)
class Host:
    """One host: an instance id, its ENI, and the role whose credentials its instance
    metadata service hands out (none without `--role`)."""

    instance_id: str
    interface: NetworkInterface
    role_arn: str | None = None
    credentials_token: str | None = None  # the role's grant (identity's vending)
    group_names: tuple[str, ...] = ()  # of its security groups, as IMDS lists them

    @property
    def role_name(self) -> str | None:
        return self.role_arn.rsplit("/", 1)[-1] if self.role_arn else None
