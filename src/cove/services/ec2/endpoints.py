"""VPC endpoints (Interface and Gateway), the endpoint service catalog, and the network
interfaces (requester-managed ENIs of interface endpoints, and `cove exec` hosts')."""

from __future__ import annotations

import json
from typing import Any

from cove.errors import AwsError
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.iam.documents import PolicyKind, parse_policy
from cove.network.endpoints import EndpointChange, EndpointRequest
from cove.network.failures import Failure, NetworkError
from cove.network.resources import EndpointType
from cove.network.store import NetworkStore
from cove.services.ec2 import shapes
from cove.services.ec2.listing import apply_filters, page, requested_tags, select_ids

_ENDPOINT_FILTERS = {
    "vpc-endpoint-id": lambda e: [e.endpoint_id], "vpc-id": lambda e: [e.vpc_id],
    "service-name": lambda e: [e.service_name], "vpc-endpoint-state": lambda e: [e.state.value],
    "vpc-endpoint-type": lambda e: [e.endpoint_type.value], "ip-address-type": lambda e: ["ipv4"],
}  # fmt: skip
_SERVICE_FILTERS = {
    "service-name": lambda s: [s.service_name],
    "service-type": lambda s: [t.value for t in s.types], "owner": lambda s: ["amazon"],
    "supported-ip-address-types": lambda s: ["ipv4"],
}  # fmt: skip
_INTERFACE_FILTERS = {
    "network-interface-id": lambda i: [i.eni_id], "subnet-id": lambda i: [i.subnet_id],
    "vpc-id": lambda i: [i.vpc_id], "availability-zone": lambda i: [i.zone.name],
    "group-id": lambda i: list(i.group_ids), "description": lambda i: [i.description],
    "interface-type": lambda i: [i.interface_type.value],
    "requester-managed": lambda i: [i.requester_managed],
    "private-ip-address": lambda i: list(i.private_ips),
    "addresses.private-ip-address": lambda i: list(i.private_ips),
    "status": lambda i: ["in-use"], "mac-address": lambda i: [i.mac],
    "requester-id": lambda i: [i.owner] if i.requester_managed else [],
}  # fmt: skip


def checked_policy(document: str | None) -> str | None:
    """An endpoint policy is an IAM resource policy (AWS PrivateLink Guide, "Control
    access to VPC endpoints using endpoint policies"); EC2 refuses a broken one with
    InvalidPolicyDocument, "The Policy Document is not valid. Syntax error at position
    (1,75)" for JSON it cannot read (as terraform users report it)."""
    if document is None:
        return None
    try:
        json.loads(document)
    except json.JSONDecodeError as exc:
        raise AwsError(
            "InvalidPolicyDocument",
            f"The Policy Document is not valid. Syntax error at position "
            f"({exc.lineno},{exc.colno})",
        ) from None
    try:
        parse_policy(document, PolicyKind.RESOURCE)
    except AwsError as exc:
        raise AwsError(
            "InvalidPolicyDocument", f"The Policy Document is not valid. {exc.message}"
        ) from None
    return document


def handlers(store: NetworkStore) -> dict[str, Handler]:
    account, region = store.account_id, store.region

    def group_names() -> dict[str, str]:
        return {g.group_id: g.name for g in store.groups()}

    def create_vpc_endpoint(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        try:
            endpoint_type = EndpointType(p.get("VpcEndpointType") or "Gateway")
        except ValueError:
            raise AwsError(
                "InvalidParameter",
                f"Cove supports Interface and Gateway endpoints, not {p['VpcEndpointType']}",
            ) from None
        endpoint = store.create_endpoint(
            EndpointRequest(
                p["VpcId"], p["ServiceName"], endpoint_type, list(p.get("SubnetIds") or []),
                list(p.get("SecurityGroupIds") or []), list(p.get("RouteTableIds") or []),
                checked_policy(p.get("PolicyDocument")), p.get("PrivateDnsEnabled"),
                requested_tags(p, "vpc-endpoint"),
            )
        )  # fmt: skip
        return {"VpcEndpoint": shapes.endpoint(endpoint, account, group_names()),
                **({"ClientToken": p["ClientToken"]} if p.get("ClientToken") else {})}  # fmt: skip

    def describe_vpc_endpoints(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        endpoints = select_ids(store.endpoints(), p.get("VpcEndpointIds"),
                               lambda e: e.endpoint_id, Failure.ENDPOINT_NOT_FOUND)  # fmt: skip
        endpoints = apply_filters(endpoints, p.get("Filters"), _ENDPOINT_FILTERS, lambda e: e.tags)
        names = group_names()
        return page([shapes.endpoint(e, account, names) for e in endpoints], p, "VpcEndpoints")

    def modify_vpc_endpoint(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        def ids(name: str) -> list[str]:
            return list(p.get(name) or [])

        store.modify_endpoint(
            p["VpcEndpointId"],
            EndpointChange(
                ids("AddSubnetIds"), ids("RemoveSubnetIds"), ids("AddSecurityGroupIds"),
                ids("RemoveSecurityGroupIds"), ids("AddRouteTableIds"),
                ids("RemoveRouteTableIds"), checked_policy(p.get("PolicyDocument")),
                bool(p.get("ResetPolicy")), p.get("PrivateDnsEnabled"),
            ),
        )  # fmt: skip
        return {"Return": True}

    def delete_vpc_endpoints(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        unsuccessful = []
        for endpoint_id in p.get("VpcEndpointIds") or []:
            try:
                store.delete_endpoint(endpoint_id)
            except NetworkError as exc:
                unsuccessful.append({"Error": {"Code": exc.code, "Message": exc.message},
                                     "ResourceId": endpoint_id})  # fmt: skip
        return {"Unsuccessful": unsuccessful}

    def describe_vpc_endpoint_services(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        services = list(store.catalog)
        wanted = p.get("ServiceNames")
        if wanted:
            for name in wanted:
                if store.catalog.get(name) is None:
                    raise NetworkError(Failure.SERVICE_NOT_FOUND, name=name)
            services = [s for s in services if s.service_name in wanted]
        services = apply_filters(services, p.get("Filters"), {**_SERVICE_FILTERS,
                                 "service-region": lambda s: [region]})  # fmt: skip
        details = [shapes.service(s, store.zones) for s in services]
        out = page(details, p, "ServiceDetails")
        out["ServiceNames"] = [d["ServiceName"] for d in out["ServiceDetails"]]
        return out

    def describe_network_interfaces(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        interfaces = select_ids(store.interfaces(), p.get("NetworkInterfaceIds"),
                                lambda i: i.eni_id, Failure.INTERFACE_NOT_FOUND)  # fmt: skip
        names = group_names()
        spec = {**_INTERFACE_FILTERS, "owner-id": lambda i: [account],
                "group-name": lambda i: [names.get(g, "") for g in i.group_ids]}  # fmt: skip
        interfaces = apply_filters(interfaces, p.get("Filters"), spec, lambda i: i.tags)
        wire = [shapes.interface(i, account, names) for i in interfaces]
        return page(wire, p, "NetworkInterfaces")

    return {
        "CreateVpcEndpoint": create_vpc_endpoint, "DescribeVpcEndpoints": describe_vpc_endpoints,
        "ModifyVpcEndpoint": modify_vpc_endpoint, "DeleteVpcEndpoints": delete_vpc_endpoints,
        "DescribeVpcEndpointServices": describe_vpc_endpoint_services,
        "DescribeNetworkInterfaces": describe_network_interfaces,
    }  # fmt: skip
