"""What a subnet's route table lets its hosts reach beyond the VPC (VPC UG, "Route tables";
"Gateway endpoints for Amazon S3":
https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html):

- Cove's public edge (every service, as from outside), over a route to an attached
  internet gateway;
- S3's public addresses over such a route too, unless the table routes S3's prefix list
  to an S3 gateway endpoint: that route is the more specific one, so S3 traffic goes
  through the endpoint, under its policy;
- an S3 interface endpoint is inside the VPC (its ENIs are in its subnets, always
  routed): it serves clients that address it, by its names or by S3's under private DNS.
"""

from __future__ import annotations

import ipaddress
from enum import Enum

from cove.network.resources import EndpointType, VpcEndpoint, VpcSnapshot
from cove.network.vpc_dns import PUBLIC_EDGE, S3_EDGE


class S3Path(Enum):
    GATEWAY = "an S3 gateway endpoint"
    INTERNET = "an internet gateway"
    INTERFACE = "an S3 interface endpoint with private DNS"
    NONE = "none"


def reaches_internet(snapshot: VpcSnapshot, subnet_id: str, address: str = PUBLIC_EDGE) -> bool:
    """Whether the subnet's route table sends `address` to an attached internet gateway."""
    attached = {g.gateway_id for g in snapshot.internet_gateways if g.vpc_id == snapshot.vpc.vpc_id}
    target = ipaddress.ip_address(address)
    table = snapshot.route_table_of(subnet_id)
    return any(
        route.target in attached
        and not route.is_prefix_list
        and target in ipaddress.ip_network(route.destination)
        for route in table.routes
    )


def s3_gateway(snapshot: VpcSnapshot, subnet_id: str) -> VpcEndpoint | None:
    """The S3 gateway endpoint the subnet's route table routes S3's prefix list to."""
    targets = {r.target for r in snapshot.route_table_of(subnet_id).routes if r.is_prefix_list}
    for endpoint in snapshot.endpoints:
        if (
            endpoint.endpoint_id in targets
            and endpoint.endpoint_type is EndpointType.GATEWAY
            and endpoint.service_name.endswith(".s3")
        ):
            return endpoint
    return None


def s3_interface(snapshot: VpcSnapshot) -> VpcEndpoint | None:
    """An S3 interface endpoint whose private DNS answers S3's names in the VPC."""
    vpc = snapshot.vpc
    for endpoint in snapshot.endpoints:
        if (
            endpoint.endpoint_type is EndpointType.INTERFACE
            and endpoint.service_name.endswith(".s3")
            and endpoint.private_dns_enabled
            and vpc.dns_support
            and vpc.dns_hostnames
        ):
            return endpoint
    return None


def s3_path(snapshot: VpcSnapshot, subnet_id: str) -> S3Path:
    """How a client in the subnet that addresses S3 by its names reaches it."""
    if s3_interface(snapshot) is not None:
        return S3Path.INTERFACE  # its names resolve to the endpoint's ENIs first
    if s3_gateway(snapshot, subnet_id) is not None:
        return S3Path.GATEWAY
    if reaches_internet(snapshot, subnet_id, S3_EDGE):
        return S3Path.INTERNET
    return S3Path.NONE


def no_s3_route(snapshot: VpcSnapshot, subnet_id: str, region: str) -> str:
    """What to do about a subnet that reaches S3 by no path (a FailureReason's advice)."""
    table = snapshot.route_table_of(subnet_id).route_table_id
    return (
        f"no route to S3 from subnet {subnet_id} (route table {table}): add an S3 gateway "
        f"endpoint (com.amazonaws.{region}.s3) to that route table, an S3 interface endpoint "
        "with private DNS, or a route to an internet gateway"
    )
