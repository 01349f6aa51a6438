"""DescribeAvailabilityZones, VPCs and their attributes, subnets."""

from __future__ import annotations

from typing import Any

from cove.errors import AwsError
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.network.failures import Failure
from cove.network.store import NetworkStore
from cove.services.ec2 import shapes
from cove.services.ec2.listing import apply_filters, page, requested_tags, select_ids

_ZONE_FILTERS = {
    "zone-name": lambda z: [z.name], "zone-id": lambda z: [z.zone_id],
    "state": lambda z: ["available"], "zone-type": lambda z: ["availability-zone"],
}  # fmt: skip
_VPC_FILTERS = {
    "vpc-id": lambda v: [v.vpc_id], "cidr": lambda v: [v.cidr],
    "cidr-block-association.cidr-block": lambda v: [v.cidr],
    "cidr-block-association.association-id": lambda v: [v.cidr_association_id],
    "state": lambda v: ["available"], "is-default": lambda v: [False],
}  # fmt: skip
_SUBNET_FILTERS = {
    "subnet-id": lambda s: [s.subnet_id], "vpc-id": lambda s: [s.vpc_id],
    "cidr-block": lambda s: [s.cidr], "cidr": lambda s: [s.cidr], "cidrBlock": lambda s: [s.cidr],
    "availability-zone": lambda s: [s.zone.name], "availabilityZone": lambda s: [s.zone.name],
    "availability-zone-id": lambda s: [s.zone.zone_id],
    "available-ip-address-count": lambda s: [s.available_ips], "state": lambda s: ["available"],
    "default-for-az": lambda s: [False],
}  # fmt: skip
_ATTRIBUTES = {"enableDnsSupport": "EnableDnsSupport", "enableDnsHostnames": "EnableDnsHostnames"}


def handlers(store: NetworkStore) -> dict[str, Handler]:
    account, region = store.account_id, store.region

    def describe_availability_zones(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        zones = list(store.zones)
        if p.get("ZoneNames"):
            zones = [z for z in zones if z.name in p["ZoneNames"]]
        if p.get("ZoneIds"):
            zones = [z for z in zones if z.zone_id in p["ZoneIds"]]
        zones = apply_filters(zones, p.get("Filters"), {**_ZONE_FILTERS,
                              "region-name": lambda z: [region]})  # fmt: skip
        return {"AvailabilityZones": [shapes.zone(z, region) for z in zones]}

    def create_vpc(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("CidrBlock"):
            raise AwsError("MissingParameter", "The request must contain the parameter cidrBlock")
        vpc = store.create_vpc(p["CidrBlock"], requested_tags(p, "vpc"))
        return {"Vpc": {**shapes.vpc(vpc, account), "State": "pending"}}

    def describe_vpcs(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        vpcs = select_ids(store.vpcs(), p.get("VpcIds"), lambda v: v.vpc_id,
                          Failure.VPC_NOT_FOUND)  # fmt: skip
        vpcs = apply_filters(vpcs, p.get("Filters"), {**_VPC_FILTERS,
                             "owner-id": lambda v: [account]}, lambda v: v.tags)  # fmt: skip
        return page([shapes.vpc(v, account) for v in vpcs], p, "Vpcs")

    def delete_vpc(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.delete_vpc(p["VpcId"])
        return {}

    def modify_vpc_attribute(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        support, hostnames = p.get("EnableDnsSupport"), p.get("EnableDnsHostnames")
        if (support is None) == (hostnames is None):  # exactly one per call, as in EC2
            raise AwsError(
                "InvalidParameterCombination",
                "Only one attribute can be modified at a time"
                if support is not None
                else "The request must contain exactly one attribute to modify",
            )
        store.set_vpc_attributes(
            p["VpcId"],
            None if support is None else support["Value"],
            None if hostnames is None else hostnames["Value"],
        )
        return {}

    def describe_vpc_attribute(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        vpc = store.vpc(p["VpcId"])
        member = _ATTRIBUTES.get(p["Attribute"])
        if member is None:
            raise AwsError(
                "InvalidParameterValue",
                f"Value ({p['Attribute']}) for parameter attribute is invalid. Unknown attribute.",
            )
        value = vpc.dns_support if member == "EnableDnsSupport" else vpc.dns_hostnames
        return {"VpcId": vpc.vpc_id, member: {"Value": value}}

    def create_subnet(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("CidrBlock"):
            raise AwsError("MissingParameter", "The request must contain the parameter cidrBlock")
        subnet = store.create_subnet(
            p["VpcId"], p["CidrBlock"], p.get("AvailabilityZone"), p.get("AvailabilityZoneId"),
            requested_tags(p, "subnet"),
        )  # fmt: skip
        return {"Subnet": shapes.subnet(subnet, account, region)}

    def describe_subnets(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        subnets = select_ids(store.subnets(), p.get("SubnetIds"), lambda s: s.subnet_id,
                             Failure.SUBNET_NOT_FOUND)  # fmt: skip
        subnets = apply_filters(subnets, p.get("Filters"), {**_SUBNET_FILTERS,
                                "owner-id": lambda s: [account]}, lambda s: s.tags)  # fmt: skip
        return page([shapes.subnet(s, account, region) for s in subnets], p, "Subnets")

    def delete_subnet(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.delete_subnet(p["SubnetId"])
        return {}

    return {
        "DescribeAvailabilityZones": describe_availability_zones,
        "CreateVpc": create_vpc, "DescribeVpcs": describe_vpcs, "DeleteVpc": delete_vpc,
        "ModifyVpcAttribute": modify_vpc_attribute,
        "DescribeVpcAttribute": describe_vpc_attribute,
        "CreateSubnet": create_subnet, "DescribeSubnets": describe_subnets,
        "DeleteSubnet": delete_subnet,
    }  # fmt: skip
