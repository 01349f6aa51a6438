"""The resources an EC2 operation is authorized on, as the Service Authorization Reference
lists them ("Actions, resources, and condition keys for Amazon EC2",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html):
each resource the request names (DeleteVpc its vpc, DeleteVpcEndpoints each endpoint,
CreateVpcEndpoint its vpc and each subnet, security group and route table) and, for a Create
call, the new one as `<type>/*`; "*" for the Describe calls, which support no
resource-level permissions (DescribeVpcAttribute does: its vpc). "If the action has one or
more required resources, the caller must have permission to use the action with those
resources" (same page), and "the parameters that you specify in the request determine the
required permissions" (EC2 API Reference, "Granting required permissions for Amazon EC2
resources", https://docs.aws.amazon.com/AWSEC2/latest/APIReference/ec2-api-permissions.html):
the frame authorizes the action on each in turn, and one denial refuses the whole request.

An existing resource carries its tags as aws:ResourceTag/<key> and ec2:ResourceTag/<key>.
A Create call whose TagSpecifications give tags is authorized as ec2:CreateTags on the new
resource too, with ec2:CreateAction naming the call (EC2 User Guide, "Grant permission to
tag Amazon EC2 resources during creation",
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html)."""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Target
from cove.http.messages import RequestContext
from cove.iam.policy import unrestricted
from cove.iam.request import resource_tag_keys
from cove.network.store import NetworkStore
from cove.services.ec2.condition_keys import request_tags
from cove.services.ec2.shapes import ec2_arn
from cove.services.ec2.tags import resource_type

VPC, SUBNET, GROUP = "vpc", "subnet", "security-group"
TABLE, GATEWAY, ENDPOINT = "route-table", "internet-gateway", "vpc-endpoint"

# The members naming the resources an operation acts on (an id or a list of ids), each
# with its ARN resource type, in the order they are authorized.
_NAMED: dict[str, tuple[tuple[str, str], ...]] = {
    "DeleteVpc": (("VpcId", VPC),),
    "ModifyVpcAttribute": (("VpcId", VPC),),
    "DescribeVpcAttribute": (("VpcId", VPC),),
    "CreateSubnet": (("VpcId", VPC),),
    "DeleteSubnet": (("SubnetId", SUBNET),),
    "CreateSecurityGroup": (("VpcId", VPC),),
    "DeleteSecurityGroup": (("GroupId", GROUP),),
    "AuthorizeSecurityGroupIngress": (("GroupId", GROUP),),
    "AuthorizeSecurityGroupEgress": (("GroupId", GROUP),),
    "RevokeSecurityGroupIngress": (("GroupId", GROUP),),
    "RevokeSecurityGroupEgress": (("GroupId", GROUP),),
    "CreateRouteTable": (("VpcId", VPC),),
    "DeleteRouteTable": (("RouteTableId", TABLE),),
    "AssociateRouteTable": (("RouteTableId", TABLE), ("SubnetId", SUBNET), ("GatewayId", GATEWAY)),
    "CreateRoute": (("RouteTableId", TABLE),),
    "DeleteRoute": (("RouteTableId", TABLE),),
    "AttachInternetGateway": (("InternetGatewayId", GATEWAY), ("VpcId", VPC)),
    "DetachInternetGateway": (("InternetGatewayId", GATEWAY), ("VpcId", VPC)),
    "DeleteInternetGateway": (("InternetGatewayId", GATEWAY),),
    "CreateVpcEndpoint": (
        ("VpcId", VPC), ("RouteTableIds", TABLE), ("SecurityGroupIds", GROUP),
        ("SubnetIds", SUBNET),
    ),
    "ModifyVpcEndpoint": (
        ("VpcEndpointId", ENDPOINT), ("AddRouteTableIds", TABLE), ("RemoveRouteTableIds", TABLE),
        ("AddSecurityGroupIds", GROUP), ("RemoveSecurityGroupIds", GROUP),
        ("AddSubnetIds", SUBNET), ("RemoveSubnetIds", SUBNET),
    ),
    "DeleteVpcEndpoints": (("VpcEndpointIds", ENDPOINT),),
}  # fmt: skip
# The resource type a Create call makes, authorized first as `<type>/*`.
_CREATES = {
    "CreateVpc": VPC, "CreateSubnet": SUBNET, "CreateSecurityGroup": GROUP,
    "CreateRouteTable": TABLE, "CreateInternetGateway": GATEWAY, "CreateVpcEndpoint": ENDPOINT,
}  # fmt: skip
_TAGGING = frozenset({"CreateTags", "DeleteTags"})


class Ec2Resources:
    """The frame's `resource_of` for the EC2 API over the account's network store."""

    def __init__(self, store: NetworkStore) -> None:
        self.store = store

    def __call__(
        self, ctx: RequestContext, operation: str, params: dict[str, Any]
    ) -> str | list[Target]:
        named = self._named(operation, params)
        created = _CREATES.get(operation)
        if created is None and not named:
            return "*"
        # tags only matter to a caller policies can refuse (not the root user's requests)
        ids = [] if unrestricted(ctx) else [rid for kind, rid in named if kind]
        tags = self.store.tags(ids) if ids else {}
        targets = [Target(self._arn(created, "*"))] if created else []
        for kind, rid in named:
            if not kind:  # an id of no kind Cove has: the store refuses it
                targets.append(Target("*"))
                continue
            pairs = tuple((t.key, t.value) for t in tags.get(rid, ()))
            targets.append(Target(self._arn(kind, rid), resource_tag_keys(pairs, "ec2")))
        if created and request_tags(operation, params):
            keys = (("ec2:CreateAction", operation),)
            targets.append(Target(self._arn(created, "*"), keys, action="ec2:CreateTags"))
        return targets

    def _arn(self, kind: str, resource_id: str) -> str:
        return ec2_arn(self.store.region, self.store.account_id, kind, resource_id)

    def _named(self, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
        """(ARN resource type, id) of each resource the request names, once each."""
        found: list[tuple[str, str]] = []
        if operation in _TAGGING:
            found = [(resource_type(rid), rid) for rid in params.get("Resources") or []]
        elif operation == "DisassociateRouteTable":
            association = self.store.association(params.get("AssociationId") or "")
            if association is not None:
                found = [(TABLE, association.route_table_id), (SUBNET, association.subnet_id)]
        for member, kind in _NAMED.get(operation, ()):
            value = params.get(member)
            for rid in [value] if isinstance(value, str) else value or []:
                found.append((kind, rid))
        return list(dict.fromkeys(found))
