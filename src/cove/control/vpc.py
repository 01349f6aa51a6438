"""A VpcConfig against the account's network: what CreateModel and CreateTrainingJob
check of it, and where an endpoint's instances can go.

The service model already bounds the lists (1 to 16 subnets, 1 to 5 security groups,
botocore's `Subnets` and `VpcSecurityGroupIds` shapes); here every subnet and group must
exist and all of them belong to one VPC. Hosting needs the subnets to span at least two
Availability Zones "even if you have only one hosting instance" (SageMaker Developer
Guide, "Give SageMaker AI hosted endpoints access to resources in your Amazon VPC"), and
SageMaker enforces that when it hosts the endpoint, not on CreateModel: the endpoint goes
Failed with the reason the Clarify page quotes ("Give SageMaker Clarify jobs access to
resources in your Amazon VPC")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from cove.errors import validation_error
from cove.network.failures import NetworkError
from cove.network.resources import SecurityGroup, Subnet

T = TypeVar("T")
MIN_ZONES = 2  # Availability Zones an endpoint's subnets must span


class NetworkLookup(Protocol):
    """What SageMaker reads of the account's network: a subnet or a security group by
    id, NetworkError when there is none (the network store is one)."""

    def subnet(self, subnet_id: str) -> Subnet: ...

    def group(self, group_id: str) -> SecurityGroup: ...


def check_vpc_config(network: NetworkLookup, vpc_config: dict[str, Any]) -> None:
    """Raise the ValidationException SageMaker answers a VpcConfig with when one of its
    subnets or groups does not exist or they are not all in one VPC."""
    owners: dict[str, str] = {}  # resource id -> its VPC
    for subnet_id in vpc_config["Subnets"]:
        owners[subnet_id] = _find(network.subnet, subnet_id, "subnet ID").vpc_id
    for group_id in vpc_config["SecurityGroupIds"]:
        owners[group_id] = _find(network.group, group_id, "security group").vpc_id
    vpcs = sorted(set(owners.values()))
    if len(vpcs) > 1:
        where = "; ".join(
            f"{vpc}: {', '.join(r for r, v in owners.items() if v == vpc)}" for vpc in vpcs
        )
        raise validation_error(
            f"The subnets and security groups in VpcConfig must belong to the same VPC ({where})."
        )


def _find(lookup: Callable[[str], T], resource_id: str, noun: str) -> T:
    try:
        return lookup(resource_id)
    except NetworkError:
        raise validation_error(f"The {noun} '{resource_id}' does not exist") from None


def zone_shortage(network: NetworkLookup, subnets: Iterable[str], instance_type: str) -> str | None:
    """The FailureReason of an endpoint whose subnets span fewer than two Availability
    Zones (every instance type is offered in every zone of Cove's region); None when
    they span enough. A subnet deleted since CreateModel offers no zone."""
    zones = set()
    for subnet_id in subnets:
        try:
            zones.add(network.subnet(subnet_id).zone.name)
        except NetworkError:
            continue
    if len(zones) >= MIN_ZONES:
        return None
    return (
        f"Unable to locate at least {MIN_ZONES} availability zone(s) with the requested "
        f"instance type {instance_type} that overlap with SageMaker subnets."
    )
