"""Route tables (the main one, CreateRouteTable, associations, routes) and internet
gateways."""

from __future__ import annotations

from typing import Any

from cove.errors import AwsError
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.network.failures import Failure
from cove.network.permissions import check_cidr
from cove.network.store import NetworkStore
from cove.services.ec2 import shapes
from cove.services.ec2.listing import apply_filters, page, requested_tags, select_ids

_TABLE_FILTERS = {
    "route-table-id": lambda t: [t.route_table_id], "vpc-id": lambda t: [t.vpc_id],
    "association.main": lambda t: [t.main] if t.main else [],
    "association.subnet-id": lambda t: list(t.subnet_ids),
    "association.route-table-association-id":
        lambda t: [a.association_id for a in t.associations] + [t.main_association_id],
    "association.route-table-id": lambda t: [t.route_table_id],
    "route.gateway-id": lambda t: [r.target for r in t.routes],
    "route.destination-cidr-block":
        lambda t: [r.destination for r in t.routes if not r.is_prefix_list],
    "route.destination-prefix-list-id":
        lambda t: [r.destination for r in t.routes if r.is_prefix_list],
    "route.origin": lambda t: [r.origin for r in t.routes],
    "route.state": lambda t: ["active" for _ in t.routes],
}  # fmt: skip
_GATEWAY_FILTERS = {
    "internet-gateway-id": lambda g: [g.gateway_id],
    "attachment.vpc-id": lambda g: [g.vpc_id],
    "attachment.state": lambda g: ["available"] if g.vpc_id else [],
}  # fmt: skip


def handlers(store: NetworkStore) -> dict[str, Handler]:
    account = store.account_id

    def create_route_table(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        table = store.create_route_table(p["VpcId"], requested_tags(p, "route-table"))
        return {"RouteTable": shapes.route_table(table, account)}

    def describe_route_tables(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        tables = select_ids(store.route_tables(), p.get("RouteTableIds"),
                            lambda t: t.route_table_id, Failure.ROUTE_TABLE_NOT_FOUND)  # fmt: skip
        tables = apply_filters(tables, p.get("Filters"), {**_TABLE_FILTERS,
                               "owner-id": lambda t: [account]}, lambda t: t.tags)  # fmt: skip
        return page([shapes.route_table(t, account) for t in tables], p, "RouteTables")

    def delete_route_table(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.delete_route_table(p["RouteTableId"])
        return {}

    def associate_route_table(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("SubnetId"):
            raise AwsError("MissingParameter", "The request must contain the parameter subnetId")
        association = store.associate(p["RouteTableId"], p["SubnetId"])
        return {"AssociationId": association.association_id,
                "AssociationState": {"State": "associated"}}  # fmt: skip

    def disassociate_route_table(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.disassociate(p["AssociationId"])
        return {}

    def destination(p: dict[str, Any]) -> str:
        if not p.get("DestinationCidrBlock"):
            raise AwsError(
                "MissingParameter",
                "The request must contain the parameter destinationCidrBlock",
            )
        return check_cidr(p["DestinationCidrBlock"])

    def create_route(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("GatewayId"):
            raise AwsError(
                "InvalidParameterValue",
                "Cove routes to internet gateways only (GatewayId igw-...)",
            )
        store.create_route(p["RouteTableId"], destination(p), p["GatewayId"])
        return {"Return": True}

    def delete_route(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.delete_route(p["RouteTableId"], destination(p))
        return {}

    def create_internet_gateway(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        gateway = store.create_gateway(requested_tags(p, "internet-gateway"))
        return {"InternetGateway": shapes.gateway(gateway, account)}

    def describe_internet_gateways(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        gateways = select_ids(store.gateways(), p.get("InternetGatewayIds"),
                              lambda g: g.gateway_id, Failure.GATEWAY_NOT_FOUND)  # fmt: skip
        gateways = apply_filters(gateways, p.get("Filters"), {**_GATEWAY_FILTERS,
                                 "owner-id": lambda g: [account]}, lambda g: g.tags)  # fmt: skip
        return page([shapes.gateway(g, account) for g in gateways], p, "InternetGateways")

    def attach_internet_gateway(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.attach_gateway(p["InternetGatewayId"], p["VpcId"])
        return {}

    def detach_internet_gateway(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.detach_gateway(p["InternetGatewayId"], p["VpcId"])
        return {}

    def delete_internet_gateway(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.delete_gateway(p["InternetGatewayId"])
        return {}

    return {
        "CreateRouteTable": create_route_table, "DescribeRouteTables": describe_route_tables,
        "DeleteRouteTable": delete_route_table, "AssociateRouteTable": associate_route_table,
        "DisassociateRouteTable": disassociate_route_table, "CreateRoute": create_route,
        "DeleteRoute": delete_route, "CreateInternetGateway": create_internet_gateway,
        "DescribeInternetGateways": describe_internet_gateways,
        "AttachInternetGateway": attach_internet_gateway,
        "DetachInternetGateway": detach_internet_gateway,
        "DeleteInternetGateway": delete_internet_gateway,
    }  # fmt: skip
