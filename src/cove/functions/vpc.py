"""VpcConfig checked against the account's network: every subnet and security group must
exist, all in one VPC, and subnets and security groups come together (Lambda DG, "Giving Lambda
functions access to resources in an Amazon VPC"). Cove keeps the checked settings; it
does not yet run functions as hosts in those subnets."""

from __future__ import annotations

from cove.functions.failures import Failure, FunctionError
from cove.functions.model import VpcSettings
from cove.network.failures import NetworkError
from cove.network.store import NetworkStore


def checked_vpc(
    network: NetworkStore, subnet_ids: list[str], group_ids: list[str]
) -> VpcSettings | None:
    if not subnet_ids and not group_ids:
        return None  # an empty VpcConfig takes the function out of its VPC
    if bool(subnet_ids) != bool(group_ids):
        raise FunctionError(Failure.VPC_GROUPS_MISSING)
    vpcs: dict[str, str] = {}
    for subnet_id in subnet_ids:
        try:
            vpcs[subnet_id] = network.subnet(subnet_id).vpc_id
        except NetworkError:
            raise FunctionError(Failure.SUBNET_NOT_FOUND, id=subnet_id) from None
    for group_id in group_ids:
        try:
            vpcs[group_id] = network.group(group_id).vpc_id
        except NetworkError:
            raise FunctionError(Failure.GROUP_NOT_FOUND, id=group_id) from None
    found = set(vpcs.values())
    if len(found) > 1:
        raise FunctionError(Failure.VPC_MISMATCH, ids=", ".join(sorted(vpcs)))
    return VpcSettings(tuple(subnet_ids), tuple(group_ids), found.pop() if found else "")
