"""EC2 requests authorized on the resources they name, with unmodified boto3 against a real
`cove server` (API calls only: no network is needed to be refused).

AWS's behaviour pinned here, with where it comes from:
- each action is authorized on the resource types the Service Authorization Reference lists
  for it, "If the action has one or more required resources, the caller must have
  permission to use the action with those resources" (Service Authorization Reference,
  "Actions, resources, and condition keys for Amazon EC2",
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html):
  DeleteVpc on its vpc, CreateSubnet on subnet/* and its vpc, CreateVpcEndpoint on the
  endpoint, its vpc and each subnet, DeleteVpcEndpoints on each endpoint, the security group
  rule calls on their group, AssociateRouteTable on the table and the subnet; the Describe
  calls on "*" (no resource-level permissions); "the parameters that you specify in the
  request determine the required permissions" (EC2 API Reference, "Granting required
  permissions for Amazon EC2 resources",
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/ec2-api-permissions.html);
- tags: aws:ResourceTag/<key> and ec2:ResourceTag/<key> of the resource, aws:RequestTag/<key>
  and aws:TagKeys of TagSpecifications and of CreateTags (same reference page); tags given on
  creation are also authorized as ec2:CreateTags with ec2:CreateAction (EC2 User Guide,
  "Grant permission to tag Amazon EC2 resources during creation",
  https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html);
- a denial is UnauthorizedOperation, HTTP 403, "You are not authorized to perform this
  operation. User: ... is not authorized to perform: ec2:RunInstances on resource: ... because
  no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure
  message: ..." (https://repost.aws/knowledge-center/ec2-not-auth-launch); Cove has no encoded
  message to give, so the text ends with IAM's. A Describe call's names no resource: "...
  is not authorized to perform: ec2:DescribeVpcs because no identity-based policy allows the
  ec2:DescribeVpcs action" (as EC2 sent it,
  https://github.com/hashicorp/terraform-provider-aws/issues/34234);
- an unknown access key: AuthFailure "AWS was not able to validate the provided access
  credentials" (EC2 API Reference, "Common client error codes",
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html; the text as
  EC2 sends it, https://github.com/aws/aws-sdk-java-v2/issues/2981), HTTP 401
  (https://github.com/hashicorp/packer/issues/10302).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from tests.conftest import CoveServer
from tests.e2e.test_ec2_network import error_of
from tests.e2e.test_iam_enforcement import ACCOUNT, as_key, new_user, policy

PREFIX = "You are not authorized to perform this operation. "
STS = "com.amazonaws.us-east-1.sts"
ALL = {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}


def arn(kind: str, resource_id: str) -> str:
    return f"arn:aws:ec2:us-east-1:{ACCOUNT}:{kind}/{resource_id}"


def deny(action: str, resource: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement = {"Effect": "Deny", "Action": action, "Resource": resource}
    return {**statement, "Condition": condition} if condition else statement


def user_with(server: CoveServer, name: str, *statements: dict[str, Any]) -> Any:
    """An EC2 client of a new user whose one inline policy has `statements`."""
    key = new_user(server, name)
    set_policy(server, name, *statements)
    return as_key(server, "ec2", key)


def set_policy(server: CoveServer, name: str, *statements: dict[str, Any]) -> None:
    server.client("iam").put_user_policy(
        UserName=name, PolicyName="ec2", PolicyDocument=policy(*statements)
    )


def refused(name: str, action: str, resource: str, why: str) -> str:
    """EC2's denial text; `why` is "implicit" or "explicit"."""
    target = "" if resource == "*" else f" on resource: {resource}"
    reason = (
        " with an explicit deny in an identity-based policy"
        if why == "explicit"
        else f" because no identity-based policy allows the {action} action"
    )
    user = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    return f"{PREFIX}User: {user} is not authorized to perform: {action}{target}{reason}"


def denied(call: Any, **kwargs: Any) -> str:
    err = error_of(call, **kwargs)
    assert (err["Code"], err["Status"]) == ("UnauthorizedOperation", 403), err
    return err["Message"]


def test_a_deny_on_one_vpc_stops_its_deletion(server: CoveServer) -> None:
    """The audit's case: Allow ec2:* on * with Deny ec2:DeleteVpc on one VPC's ARN."""
    ec2 = server.client("ec2")
    kept = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    other = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    name = "ec2-authz-audit"
    mine = user_with(server, name, ALL, deny("ec2:DeleteVpc", arn("vpc", kept)))
    expected = refused(name, "ec2:DeleteVpc", arn("vpc", kept), "explicit")
    assert denied(mine.delete_vpc, VpcId=kept) == expected
    assert denied(mine.delete_vpc, VpcId=kept, DryRun=True) == expected
    assert [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[kept])["Vpcs"]] == [kept]
    mine.delete_vpc(VpcId=other)  # the deny names one VPC only
    # a Describe call is on no resource: a deny naming the VPC does not reach it
    set_policy(server, name, ALL, deny("ec2:DescribeVpcs", arn("vpc", kept)))
    assert [v["VpcId"] for v in mine.describe_vpcs(VpcIds=[kept])["Vpcs"]] == [kept]
    set_policy(server, name, ALL, deny("ec2:DescribeVpcAttribute", arn("vpc", kept)))
    assert denied(mine.describe_vpc_attribute, VpcId=kept, Attribute="enableDnsSupport") == (
        refused(name, "ec2:DescribeVpcAttribute", arn("vpc", kept), "explicit")
    )
    ec2.delete_vpc(VpcId=kept)


def test_every_resource_a_request_names_must_be_allowed(server: CoveServer) -> None:
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    first, second = (
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{n}.0/24",
                          AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
        for n, z in ((1, "a"), (2, "b"))
    )  # fmt: skip
    name = "ec2-authz-each"
    # allowed on the new subnet but not on the VPC it goes in
    mine = user_with(server, name, {"Effect": "Allow", "Action": "ec2:CreateSubnet",
                                    "Resource": arn("subnet", "*")})  # fmt: skip
    assert denied(mine.create_subnet, VpcId=vpc, CidrBlock="10.42.3.0/24") == refused(
        name, "ec2:CreateSubnet", arn("vpc", vpc), "implicit"
    )
    set_policy(server, name, {"Effect": "Allow", "Action": "ec2:CreateSubnet",
                              "Resource": [arn("subnet", "*"), arn("vpc", vpc)]})  # fmt: skip
    third = mine.create_subnet(VpcId=vpc, CidrBlock="10.42.3.0/24")["Subnet"]["SubnetId"]

    # an endpoint in two subnets, one of them denied: nothing is made
    set_policy(server, name, ALL, deny("ec2:CreateVpcEndpoint", arn("subnet", second)))
    assert denied(mine.create_vpc_endpoint, VpcId=vpc, ServiceName=STS, PrivateDnsEnabled=False,
                  VpcEndpointType="Interface", SubnetIds=[first, second]) == refused(
        name, "ec2:CreateVpcEndpoint", arn("subnet", second), "explicit")  # fmt: skip
    listed = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert listed["VpcEndpoints"] == []
    made = mine.create_vpc_endpoint(VpcId=vpc, ServiceName=STS, VpcEndpointType="Interface",
                                    SubnetIds=[first], PrivateDnsEnabled=False)  # fmt: skip
    interface = made["VpcEndpoint"]["VpcEndpointId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    made = mine.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3",
                                    RouteTableIds=[table])  # fmt: skip
    gateway = made["VpcEndpoint"]["VpcEndpointId"]

    # DeleteVpcEndpoints is authorized on each endpoint; one denied refuses the call
    set_policy(server, name, ALL, deny("ec2:DeleteVpcEndpoints", arn("vpc-endpoint", interface)))
    assert denied(mine.delete_vpc_endpoints, VpcEndpointIds=[gateway, interface]) == refused(
        name, "ec2:DeleteVpcEndpoints", arn("vpc-endpoint", interface), "explicit"
    )
    listed = ec2.describe_vpc_endpoints(VpcEndpointIds=[gateway, interface])["VpcEndpoints"]
    assert len(listed) == 2
    assert mine.delete_vpc_endpoints(VpcEndpointIds=[gateway])["Unsuccessful"] == []

    # a subnet named in ModifyVpcEndpoint, AssociateRouteTable's subnet, a group's rules
    set_policy(server, name, ALL, deny("ec2:*", arn("subnet", third)))
    assert denied(mine.modify_vpc_endpoint, VpcEndpointId=interface, AddSubnetIds=[third]) == (
        refused(name, "ec2:ModifyVpcEndpoint", arn("subnet", third), "explicit")
    )
    assert denied(mine.associate_route_table, RouteTableId=table, SubnetId=third) == refused(
        name, "ec2:AssociateRouteTable", arn("subnet", third), "explicit"
    )
    association = mine.associate_route_table(RouteTableId=table, SubnetId=second)["AssociationId"]
    group = ec2.create_security_group(VpcId=vpc, GroupName="web", Description="w")["GroupId"]
    set_policy(server, name, ALL, deny("ec2:*", arn("security-group", group)),
               deny("ec2:DisassociateRouteTable", arn("route-table", table)))  # fmt: skip
    assert denied(mine.authorize_security_group_ingress, GroupId=group, IpProtocol="tcp",
                  FromPort=443, ToPort=443, CidrIp="10.42.0.0/16") == refused(
        name, "ec2:AuthorizeSecurityGroupIngress", arn("security-group", group), "explicit",
    )  # fmt: skip
    assert denied(mine.disassociate_route_table, AssociationId=association) == refused(
        name, "ec2:DisassociateRouteTable", arn("route-table", table), "explicit"
    )  # the association's table, though the request names only the association
    ec2.disassociate_route_table(AssociationId=association)  # the root user is not refused
    ec2.delete_vpc_endpoints(VpcEndpointIds=[interface])


def test_resource_and_request_tags_reach_the_conditions(server: CoveServer) -> None:
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]

    def subnet(n: int, **tags: str) -> str:
        pairs = [{"Key": k, "Value": v} for k, v in tags.items()]
        spec = [{"ResourceType": "subnet", "Tags": pairs}] if tags else []
        made = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.43.{n}.0/24", TagSpecifications=spec)
        return made["Subnet"]["SubnetId"]

    prod, dev = subnet(1, env="prod"), subnet(2, env="dev")
    group = ec2.create_security_group(
        VpcId=vpc, GroupName="db", Description="db",
        TagSpecifications=[{"ResourceType": "security-group",
                            "Tags": [{"Key": "env", "Value": "prod"}]}],
    )["GroupId"]  # fmt: skip
    name = "ec2-authz-tags"
    mine = user_with(
        server, name, ALL,
        deny("ec2:DeleteSubnet", "*", {"StringEquals": {"ec2:ResourceTag/env": "prod"}}),
        deny("ec2:DeleteSecurityGroup", "*", {"StringEquals": {"aws:ResourceTag/env": "prod"}}),
        deny("ec2:CreateVpc", "*", {"Null": {"aws:RequestTag/team": "true"}}),
        deny("ec2:CreateTags", "*", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}}),
    )  # fmt: skip
    assert denied(mine.delete_subnet, SubnetId=prod) == refused(
        name, "ec2:DeleteSubnet", arn("subnet", prod), "explicit"
    )
    mine.delete_subnet(SubnetId=dev)
    assert denied(mine.delete_security_group, GroupId=group) == refused(
        name, "ec2:DeleteSecurityGroup", arn("security-group", group), "explicit"
    )
    ec2.delete_tags(Resources=[prod], Tags=[{"Key": "env"}])
    mine.delete_subnet(SubnetId=prod)  # its tags are read again with each request

    assert denied(mine.create_vpc, CidrBlock="10.44.0.0/16") == refused(
        name, "ec2:CreateVpc", arn("vpc", "*"), "explicit"
    )
    team = [{"ResourceType": "vpc", "Tags": [{"Key": "team", "Value": "net"}]}]
    tagged = mine.create_vpc(CidrBlock="10.44.0.0/16", TagSpecifications=team)["Vpc"]["VpcId"]
    assert denied(mine.create_tags, Resources=[tagged], Tags=[{"Key": "owner", "Value": "me"}]) == (
        refused(name, "ec2:CreateTags", arn("vpc", tagged), "explicit")
    )
    mine.create_tags(Resources=[tagged], Tags=[{"Key": "cost", "Value": "1"}])
    ec2.delete_security_group(GroupId=group)
    ec2.delete_vpc(VpcId=tagged)
    ec2.delete_vpc(VpcId=vpc)


def test_tags_given_on_creation_need_ec2_create_tags(server: CoveServer) -> None:
    name = "ec2-authz-tag-on-create"
    create = {"Effect": "Allow", "Action": ["ec2:CreateVpc", "ec2:DeleteVpc"], "Resource": "*"}
    mine = user_with(server, name, create)
    bare = mine.create_vpc(CidrBlock="10.45.0.0/16")["Vpc"]["VpcId"]
    named = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "x"}]}]
    assert denied(mine.create_vpc, CidrBlock="10.46.0.0/16", TagSpecifications=named) == (
        refused(name, "ec2:CreateTags", arn("vpc", "*"), "implicit")
    )
    on_create = {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
                 "Condition": {"StringEquals": {"ec2:CreateAction": "CreateVpc"}}}  # fmt: skip
    set_policy(server, name, create, on_create)
    made = mine.create_vpc(CidrBlock="10.46.0.0/16", TagSpecifications=named)["Vpc"]
    assert made["Tags"] == [{"Key": "Name", "Value": "x"}]
    # the same permission does not tag an existing resource
    assert denied(mine.create_tags, Resources=[bare], Tags=[{"Key": "Name", "Value": "y"}]) == (
        refused(name, "ec2:CreateTags", arn("vpc", bare), "implicit")
    )
    mine.delete_vpc(VpcId=bare)
    mine.delete_vpc(VpcId=made["VpcId"])


def test_describe_calls_name_no_resource_in_the_denial(server: CoveServer) -> None:
    name = "ec2-authz-describe"
    mine = as_key(server, "ec2", new_user(server, name))
    assert denied(mine.describe_vpcs) == refused(name, "ec2:DescribeVpcs", "*", "implicit")
    set_policy(server, name, deny("ec2:Describe*", "*"))
    assert denied(mine.describe_subnets) == refused(
        name, "ec2:DescribeSubnets", "*", "explicit"
    )


def test_an_unknown_access_key_is_an_auth_failure(server: CoveServer) -> None:
    stranger = boto3.client(
        "ec2", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x" * 40,
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip
    assert error_of(stranger.describe_vpcs) == {
        "Code": "AuthFailure", "Status": 401,
        "Message": "AWS was not able to validate the provided access credentials",
    }  # fmt: skip


def test_each_operation_is_refused_on_each_resource_it_names(server: CoveServer) -> None:
    """Every mutating operation Cove implements, refused by a deny on one resource it names
    (the resource types the reference lists for it); the root user's requests still pass."""
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.47.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.47.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(VpcId=vpc, GroupName="g", Description="g")["GroupId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    attached = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=attached, VpcId=vpc)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=attached)
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3",
                                       RouteTableIds=[table])["VpcEndpoint"]["VpcEndpointId"]
    rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/8"}
    ec2.authorize_security_group_egress(GroupId=group, **rule)
    cases: list[tuple[str, str, str, dict[str, Any]]] = [
        ("vpc", vpc, "ModifyVpcAttribute", {"VpcId": vpc, "EnableDnsHostnames": {"Value": True}}),
        ("vpc", vpc, "CreateSubnet", {"VpcId": vpc, "CidrBlock": "10.47.9.0/24"}),
        ("vpc", vpc, "CreateSecurityGroup", {"VpcId": vpc, "GroupName": "x", "Description": "x"}),
        ("vpc", vpc, "CreateRouteTable", {"VpcId": vpc}),
        ("vpc", vpc, "AttachInternetGateway", {"InternetGatewayId": gateway, "VpcId": vpc}),
        ("vpc", vpc, "DetachInternetGateway", {"InternetGatewayId": attached, "VpcId": vpc}),
        ("vpc", vpc, "CreateVpcEndpoint",
         {"VpcId": vpc, "ServiceName": "com.amazonaws.us-east-1.dynamodb"}),
        ("subnet", subnet, "DeleteSubnet", {"SubnetId": subnet}),
        ("security-group", group, "DeleteSecurityGroup", {"GroupId": group}),
        ("security-group", group, "AuthorizeSecurityGroupEgress", {"GroupId": group, **rule}),
        ("security-group", group, "RevokeSecurityGroupEgress", {"GroupId": group, **rule}),
        ("security-group", group, "RevokeSecurityGroupIngress", {"GroupId": group, **rule}),
        ("route-table", table, "DeleteRouteTable", {"RouteTableId": table}),
        ("route-table", table, "CreateRoute",
         {"RouteTableId": table, "DestinationCidrBlock": "1.0.0.0/8", "GatewayId": attached}),
        ("route-table", table, "DeleteRoute",
         {"RouteTableId": table, "DestinationCidrBlock": "0.0.0.0/0"}),
        ("route-table", table, "AssociateRouteTable", {"RouteTableId": table, "SubnetId": subnet}),
        ("route-table", table, "CreateVpcEndpoint", {"VpcId": vpc, "RouteTableIds": [table],
         "ServiceName": "com.amazonaws.us-east-1.dynamodb"}),
        ("internet-gateway", gateway, "AttachInternetGateway",
         {"InternetGatewayId": gateway, "VpcId": vpc}),
        ("internet-gateway", gateway, "DeleteInternetGateway", {"InternetGatewayId": gateway}),
        ("vpc-endpoint", endpoint, "ModifyVpcEndpoint",
         {"VpcEndpointId": endpoint, "ResetPolicy": True}),
        ("vpc-endpoint", endpoint, "DeleteTags", {"Resources": [endpoint]}),
    ]  # fmt: skip
    name = "ec2-authz-every"
    mine = user_with(server, name, ALL)
    snake = {c[2]: "".join("_" + ch.lower() if ch.isupper() else ch for ch in c[2])[1:]
             for c in cases}  # fmt: skip
    for kind, resource_id, operation, params in cases:
        set_policy(server, name, ALL, deny("ec2:*", arn(kind, resource_id)))
        call = getattr(mine, snake[operation])
        assert denied(call, **params) == refused(
            name, f"ec2:{operation}", arn(kind, resource_id), "explicit"
        ), operation
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])
    ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    ec2.detach_internet_gateway(InternetGatewayId=attached, VpcId=vpc)
    for gateway_id in (gateway, attached):
        ec2.delete_internet_gateway(InternetGatewayId=gateway_id)
    ec2.delete_route_table(RouteTableId=table)
    ec2.delete_security_group(GroupId=group)
    ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)
