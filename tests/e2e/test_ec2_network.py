"""The EC2 network API against a real `cove server`, with unmodified boto3 and the AWS CLI.

AWS behaviour pinned here, with where it comes from:
- defaults of a new VPC: enableDnsSupport true, enableDnsHostnames false; subnets /16 to
  /28 with five reserved addresses; the default group allows inbound from itself and all
  outbound (Amazon VPC User Guide, "DNS attributes for your VPC", "Subnet CIDR blocks",
  "Default security groups for your VPCs"); us-east-1's zone ids use1-az1..az6 (AWS
  Regions and Availability Zones, "AZ IDs").
- error texts, as AWS sends them (quoted in public reports of real responses):
  InvalidVpcID.NotFound "The vpc ID 'vpc-...' does not exist"
  (https://github.com/hashicorp/terraform-aws-consul/issues/29);
  InvalidSubnet.Conflict "The CIDR '10.0.1.0/24' conflicts with another subnet"
  (https://github.com/hashicorp/terraform/issues/33470);
  InvalidSubnet.Range "The CIDR '10.10.1.0/24' is invalid."
  (https://github.com/pulumi/pulumi-awsx/issues/111);
  InvalidVpc.Range "The CIDR '10.0.0.0/8' is invalid." (https://github.com/grycap/im/issues/1011);
  InvalidPermission.Duplicate 'the specified rule "peer: 0.0.0.0/0, TCP, from port: 2376,
  to port: 2376, ALLOW" already exists' (https://github.com/rancher/rancher/issues/3459);
  InvalidGroup.Duplicate "The security group 'x' already exists for VPC 'vpc-...'"
  (https://github.com/hashicorp/terraform/issues/15428);
  DependencyViolation "resource sg-... has a dependent object"
  (https://github.com/hashicorp/terraform-provider-aws/issues/1671);
  RouteAlreadyExists "The route identified by 0.0.0.0/0 already exists."
  (https://github.com/terraform-aws-modules/terraform-aws-vpc/issues/108);
  Resource.AlreadyAssociated "resource igw-... is already attached to network vpc-..."
  (https://github.com/berlioz-the/berlioz/issues/1);
  DuplicateSubnetsInSameZone "Found another VPC endpoint subnet in the availability zone
  of subnet-.... VPC endpoint subnets should be in different availability zones supported
  by the VPC endpoint service." (https://github.com/terraform-aws-modules/terraform-aws-vpc/issues/583);
  InvalidServiceName "The Vpc Endpoint Service 'com.amazonaws...' does not exist"
  (https://github.com/aws-samples/aws-vpc-builder-cdk/pull/30); Subnet IDs on a Gateway
  endpoint: InvalidParameter "Subnet IDs are only supported for Interface and
  GatewayLoadBalancer type VPC Endpoints." (https://github.com/nanlabs/terraform-aws-starter/issues/18);
  an unknown filter: InvalidParameterValue "The filter 'name' is invalid" (as reported from
  DescribeAvailabilityZones);
  the private DNS text (../shared/AWS-FACTS.md, PrivateLink guide);
  DryRunOperation "Request would have succeeded, but DryRun flag is set." (EC2 API
  reference, every action's DryRun parameter, "Error codes").
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import CoveServer

RUNTIME = "com.amazonaws.us-east-1.sagemaker.runtime"


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return {"Code": info.value.response["Error"]["Code"],
            "Message": info.value.response["Error"]["Message"],
            "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}  # fmt: skip


def vpc_with_subnets(ec2: Any, cidr: str = "10.0.0.0/16") -> tuple[str, list[str]]:
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.split(".")[0] + "." + cidr.split(".")[1]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{base}.{n}.0/24",
                          AvailabilityZone=f"us-east-1{zone}")["Subnet"]["SubnetId"]
        for n, zone in ((1, "a"), (2, "b"))
    ]  # fmt: skip
    return vpc_id, subnets


def test_zones_vpcs_subnets_and_their_errors(server: CoveServer) -> None:
    ec2 = server.client("ec2")
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [z["ZoneName"] for z in zones][:2] == ["us-east-1a", "us-east-1b"]
    assert sorted(z["ZoneId"] for z in zones) == [f"use1-az{n}" for n in range(1, 7)]
    vpc = ec2.create_vpc(
        CidrBlock="10.1.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "one"}]}],
    )["Vpc"]
    vpc_id = vpc["VpcId"]
    assert vpc_id.startswith("vpc-") and len(vpc_id) == 21
    assert vpc["Tags"] == [{"Key": "Name", "Value": "one"}]
    attr = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")
    assert attr["EnableDnsSupport"] == {"Value": True}
    attr = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    assert attr["EnableDnsHostnames"] == {"Value": False}
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    attr = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    assert attr["EnableDnsHostnames"] == {"Value": True}
    tagged = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["one"]}])["Vpcs"]
    assert [v["VpcId"] for v in tagged] == [vpc_id]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.1.1.0/24",
                               AvailabilityZoneId="use1-az1")["Subnet"]  # fmt: skip
    assert subnet["AvailabilityZone"] == "us-east-1b"
    assert subnet["AvailableIpAddressCount"] == 256 - 5
    assert error_of(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.1.1.128/25") == {
        "Code": "InvalidSubnet.Conflict", "Status": 400,
        "Message": "The CIDR '10.1.1.128/25' conflicts with another subnet",
    }  # fmt: skip
    assert error_of(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.2.0.0/24") == {
        "Code": "InvalidSubnet.Range", "Status": 400,
        "Message": "The CIDR '10.2.0.0/24' is invalid.",
    }  # fmt: skip
    assert error_of(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.1.2.0/29")["Code"] == (
        "InvalidSubnet.Range"
    )  # smaller than /28
    assert error_of(ec2.create_vpc, CidrBlock="10.0.0.0/8") == {
        "Code": "InvalidVpc.Range", "Status": 400, "Message": "The CIDR '10.0.0.0/8' is invalid.",
    }  # fmt: skip
    assert error_of(ec2.describe_vpcs, VpcIds=["vpc-0123456789abcdef0"]) == {
        "Code": "InvalidVpcID.NotFound", "Status": 400,
        "Message": "The vpc ID 'vpc-0123456789abcdef0' does not exist",
    }  # fmt: skip
    assert error_of(ec2.delete_vpc, VpcId=vpc_id) == {
        "Code": "DependencyViolation", "Status": 400,
        "Message": f"The vpc '{vpc_id}' has dependencies and cannot be deleted.",
    }  # fmt: skip
    assert error_of(ec2.delete_subnet, SubnetId=subnet["SubnetId"], DryRun=True) == {
        "Code": "DryRunOperation", "Status": 412,
        "Message": "Request would have succeeded, but DryRun flag is set.",
    }  # fmt: skip
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc_id)
    assert error_of(ec2.describe_vpcs, VpcIds=[vpc_id])["Code"] == "InvalidVpcID.NotFound"


def test_security_groups_and_rules(server: CoveServer) -> None:
    ec2 = server.client("ec2")
    vpc_id, _ = vpc_with_subnets(ec2, "10.3.0.0/16")
    default = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name",
                                                          "Values": ["default"]}]
    )["SecurityGroups"][0]  # fmt: skip
    assert default["IpPermissions"][0]["IpProtocol"] == "-1"
    assert default["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == default["GroupId"]
    assert default["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    web = ec2.create_security_group(VpcId=vpc_id, GroupName="web", Description="web")["GroupId"]
    assert error_of(ec2.create_security_group, VpcId=vpc_id, GroupName="web",
                    Description="again") == {
        "Code": "InvalidGroup.Duplicate", "Status": 400,
        "Message": f"The security group 'web' already exists for VPC '{vpc_id}'",
    }  # fmt: skip
    added = ec2.authorize_security_group_ingress(
        GroupId=web, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.3.0.0/16"}],
            "UserIdGroupPairs": [{"GroupId": default["GroupId"]}],
        }],
    )["SecurityGroupRules"]  # fmt: skip
    assert len(added) == 2 and all(r["SecurityGroupRuleId"].startswith("sgr-") for r in added)
    # the old flat form
    ec2.authorize_security_group_ingress(GroupId=web, IpProtocol="tcp", FromPort=2376,
                                         ToPort=2376, CidrIp="0.0.0.0/0")  # fmt: skip
    assert error_of(ec2.authorize_security_group_ingress, GroupId=web, IpProtocol="tcp",
                    FromPort=2376, ToPort=2376, CidrIp="0.0.0.0/0") == {
        "Code": "InvalidPermission.Duplicate", "Status": 400,
        "Message": 'the specified rule "peer: 0.0.0.0/0, TCP, from port: 2376, to port: 2376, '
                   'ALLOW" already exists',
    }  # fmt: skip
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [web]}])[
        "SecurityGroupRules"
    ]
    assert len(rules) == 4  # egress all, 443 from CIDR and group, 2376
    # the default group is never deletable, referenced or not; the text is the one the
    # Amazon VPC User Guide quotes ("Default security groups for your VPCs":
    # `Client.CannotDelete: the specified group: "sg-51530134" name: "default" cannot be
    # deleted by a user`)
    default_id = default["GroupId"]
    assert error_of(ec2.delete_security_group, GroupId=default_id) == {
        "Code": "CannotDelete", "Status": 400,
        "Message": f'the specified group: "{default_id}" name: "default" cannot be deleted '
                   "by a user",
    }  # fmt: skip
    ec2.revoke_security_group_ingress(
        GroupId=web, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                     "UserIdGroupPairs": [{"GroupId": default["GroupId"]}]}],
    )  # fmt: skip
    assert error_of(ec2.revoke_security_group_ingress, GroupId=web, IpProtocol="udp",
                    FromPort=1, ToPort=2, CidrIp="1.2.3.4/32") == {
        "Code": "InvalidPermission.NotFound", "Status": 400,
        "Message": "The specified rule does not exist in this security group.",
    }  # fmt: skip
    other = ec2.create_security_group(VpcId=vpc_id, GroupName="db", Description="db")["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=other, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": web}]}]
    )
    assert error_of(ec2.delete_security_group, GroupId=web) == {
        "Code": "DependencyViolation", "Status": 400,
        "Message": f"resource {web} has a dependent object",
    }  # fmt: skip
    ec2.delete_security_group(GroupId=other)
    ec2.delete_security_group(GroupId=web)
    assert error_of(ec2.describe_security_groups, GroupIds=[web]) == {
        "Code": "InvalidGroup.NotFound", "Status": 400,
        "Message": f"The security group '{web}' does not exist",
    }  # fmt: skip


def test_route_tables_and_internet_gateways(server: CoveServer) -> None:
    ec2 = server.client("ec2")
    vpc_id, subnets = vpc_with_subnets(ec2, "10.4.0.0/16")
    main = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                 {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"][0]  # fmt: skip
    assert main["Routes"] == [{"DestinationCidrBlock": "10.4.0.0/16", "GatewayId": "local",
                               "Origin": "CreateRouteTable", "State": "active"}]  # fmt: skip
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    association = ec2.associate_route_table(RouteTableId=table, SubnetId=subnets[0])
    assert association["AssociationId"].startswith("rtbassoc-")
    assert error_of(ec2.associate_route_table, RouteTableId=main["RouteTableId"],
                    SubnetId=subnets[0])["Code"] == "Resource.AlreadyAssociated"  # fmt: skip
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    assert error_of(ec2.attach_internet_gateway, InternetGatewayId=igw, VpcId=vpc_id) == {
        "Code": "Resource.AlreadyAssociated", "Status": 400,
        "Message": f"resource {igw} is already attached to network {vpc_id}",
    }  # fmt: skip
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    assert error_of(ec2.create_route, RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                    GatewayId=igw) == {
        "Code": "RouteAlreadyExists", "Status": 400,
        "Message": "The route identified by 0.0.0.0/0 already exists.",
    }  # fmt: skip
    found = ec2.describe_route_tables(Filters=[{"Name": "route.gateway-id", "Values": [igw]}])[
        "RouteTables"
    ]
    assert [t["RouteTableId"] for t in found] == [table]
    assert error_of(ec2.delete_internet_gateway, InternetGatewayId=igw)["Code"] == (
        "DependencyViolation"
    )
    assert error_of(ec2.delete_route_table, RouteTableId=table)["Code"] == "DependencyViolation"
    ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    ec2.disassociate_route_table(AssociationId=association["AssociationId"])
    ec2.delete_route_table(RouteTableId=table)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    assert error_of(ec2.describe_internet_gateways, InternetGatewayIds=[igw]) == {
        "Code": "InvalidInternetGatewayID.NotFound", "Status": 400,
        "Message": f"The internetGateway ID '{igw}' does not exist",
    }  # fmt: skip


def test_interface_and_gateway_endpoints(server: CoveServer) -> None:
    ec2 = server.client("ec2")
    vpc_id, subnets = vpc_with_subnets(ec2, "10.5.0.0/16")
    services = ec2.describe_vpc_endpoint_services()["ServiceNames"]
    assert RUNTIME in services and "com.amazonaws.us-east-1.s3" in services
    assert error_of(ec2.create_vpc_endpoint, VpcId=vpc_id, ServiceName=RUNTIME,
                    VpcEndpointType="Interface", SubnetIds=subnets) == {
        "Code": "InvalidParameter", "Status": 400,
        "Message": "Enabling private DNS requires both enableDnsSupport and "
                   f"enableDnsHostnames VPC attributes set to true for {vpc_id}",
    }  # fmt: skip
    # VpcEndpointType defaults to Gateway, which the runtime does not offer (the text as
    # AWS answers it, e.g. terraform users' reports of "api error InvalidParameter:
    # Endpoint type (Gateway) does not match available service types ([Interface])")
    mismatch = error_of(ec2.create_vpc_endpoint, VpcId=vpc_id, ServiceName=RUNTIME)
    assert (mismatch["Code"], mismatch["Message"]) == (
        "InvalidParameter",
        "Endpoint type (Gateway) does not match available service types ([Interface]).",
    )
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName=RUNTIME,
                                       VpcEndpointType="Interface",
                                       SubnetIds=subnets)["VpcEndpoint"]  # fmt: skip
    vpce = endpoint["VpcEndpointId"]
    assert endpoint["State"] == "pending" and endpoint["PrivateDnsEnabled"] is True
    assert json.loads(endpoint["PolicyDocument"])["Statement"][0]["Effect"] == "Allow"
    names = [d["DnsName"] for d in endpoint["DnsEntries"]]
    assert names[0].startswith(f"{vpce}-")
    assert names[0].endswith(".runtime.sagemaker.us-east-1.vpce.amazonaws.com")
    assert any(n.startswith(f"{vpce}-") and "-us-east-1a." in n for n in names)
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "NetworkInterfaces"
    ]
    assert len(enis) == 2
    assert {e["Description"] for e in enis} == {f"VPC Endpoint Interface {vpce}"}
    assert {e["InterfaceType"] for e in enis} == {"vpc_endpoint"}
    assert all(e["RequesterManaged"] for e in enis)
    assert {e["PrivateIpAddress"] for e in enis} == {"10.5.1.4", "10.5.2.4"}
    counts = ec2.describe_subnets(SubnetIds=subnets)["Subnets"]
    assert [s["AvailableIpAddressCount"] for s in counts] == [250, 250]
    third = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.5.3.0/24",
                              AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]  # fmt: skip
    assert error_of(ec2.modify_vpc_endpoint, VpcEndpointId=vpce, AddSubnetIds=[third]) == {
        "Code": "DuplicateSubnetsInSameZone", "Status": 400,
        "Message": f"Found another VPC endpoint subnet in the availability zone of {third}. "
                   "VPC endpoint subnets should be in different availability zones supported "
                   "by the VPC endpoint service.",
    }  # fmt: skip
    assert error_of(ec2.delete_subnet, SubnetId=subnets[0])["Code"] == "DependencyViolation"
    ec2.modify_vpc_endpoint(VpcEndpointId=vpce, RemoveSubnetIds=[subnets[1]])
    described = ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"][0]
    assert described["SubnetIds"] == [subnets[0]]
    assert error_of(ec2.create_vpc_endpoint, VpcId=vpc_id,
                    ServiceName="com.amazonaws.us-east-1.nothing") == {
        "Code": "InvalidServiceName", "Status": 400,
        "Message": "The Vpc Endpoint Service 'com.amazonaws.us-east-1.nothing' does not exist",
    }  # fmt: skip
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    table = main["RouteTables"][0]["RouteTableId"]
    gateway = ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName="com.amazonaws.us-east-1.s3",
                                      RouteTableIds=[table])["VpcEndpoint"]  # fmt: skip
    assert gateway["VpcEndpointType"] == "Gateway" and gateway["State"] == "available"
    with_subnets = error_of(
        ec2.create_vpc_endpoint,
        VpcId=vpc_id,
        ServiceName="com.amazonaws.us-east-1.s3",
        SubnetIds=subnets,
    )
    assert (with_subnets["Code"], with_subnets["Message"]) == (
        "InvalidParameter",
        "Subnet IDs are only supported for Interface and GatewayLoadBalancer type VPC Endpoints.",
    )
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert {"DestinationPrefixListId": "pl-63a5400a", "GatewayId": gateway["VpcEndpointId"],
            "Origin": "CreateRoute", "State": "active"} in routes  # fmt: skip
    result = ec2.delete_vpc_endpoints(
        VpcEndpointIds=[vpce, gateway["VpcEndpointId"], "vpce-0123456789abcdef0"]
    )
    assert result["Unsuccessful"] == [{
        "Error": {"Code": "InvalidVpcEndpointId.NotFound",
                  "Message": "The VpcEndpoint Id 'vpce-0123456789abcdef0' does not exist"},
        "ResourceId": "vpce-0123456789abcdef0",
    }]  # fmt: skip
    assert (
        ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "NetworkInterfaces"
        ]
        == []
    )
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert len(routes) == 1


def test_tags_paging_and_the_cli(server: CoveServer) -> None:
    ec2 = server.client("ec2")
    vpc_id, subnets = vpc_with_subnets(ec2, "10.6.0.0/16")
    ec2.create_tags(Resources=[vpc_id, *subnets], Tags=[{"Key": "team", "Value": "ml"}])
    tags = ec2.describe_tags(
        Filters=[{"Name": "key", "Values": ["team"]}, {"Name": "resource-id", "Values": [vpc_id]}]
    )["Tags"]
    assert tags == [{"ResourceId": vpc_id, "ResourceType": "vpc", "Key": "team", "Value": "ml"}]
    ec2.delete_tags(Resources=[subnets[0]], Tags=[{"Key": "team"}])
    tagged = ec2.describe_subnets(Filters=[{"Name": "tag-key", "Values": ["team"]}])["Subnets"]
    assert [s["SubnetId"] for s in tagged] == [subnets[1]]
    first = ec2.describe_subnets(MaxResults=5)
    assert len(first["Subnets"]) == 5 or "NextToken" not in first
    everything = [s["SubnetId"] for s in ec2.get_paginator("describe_subnets").paginate(
        PaginationConfig={"PageSize": 5}).build_full_result()["Subnets"]]  # fmt: skip
    assert set(subnets) <= set(everything) and len(everything) == len(set(everything))
    out = server.aws("ec2", "describe-subnets", "--filters", f"Name=vpc-id,Values={vpc_id}",
                     "--query", "Subnets[].CidrBlock", "--output", "json")  # fmt: skip
    assert sorted(json.loads(out.stdout)) == ["10.6.1.0/24", "10.6.2.0/24"]
    failed = server.aws("ec2", "delete-vpc", "--vpc-id", "vpc-0123456789abcdef0", check=False)
    assert failed.returncode != 0
    assert "InvalidVpcID.NotFound" in failed.stderr
    assert "The vpc ID 'vpc-0123456789abcdef0' does not exist" in failed.stderr
    made = server.aws("ec2", "create-security-group", "--vpc-id", vpc_id, "--group-name",
                      "cli", "--description", "from the CLI")  # fmt: skip
    assert json.loads(made.stdout)["GroupId"].startswith("sg-")


def test_ids_and_addresses_survive_a_restart(make_server: Any) -> None:
    srv = make_server()
    ec2 = srv.client("ec2")
    vpc_id, subnets = vpc_with_subnets(ec2, "10.7.0.0/16")
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName=RUNTIME,
                                       VpcEndpointType="Interface",
                                       SubnetIds=subnets)["VpcEndpoint"]  # fmt: skip
    # pending until its listeners answer; compared once it is available
    for _ in range(100):
        state = ec2.describe_vpc_endpoints()["VpcEndpoints"][0]["State"]
        if state == "available":
            break
        time.sleep(0.1)
    assert state == "available"
    before = {
        "subnets": ec2.describe_subnets(SubnetIds=subnets)["Subnets"],
        "enis": ec2.describe_network_interfaces()["NetworkInterfaces"],
        "endpoint": ec2.describe_vpc_endpoints()["VpcEndpoints"],
        "groups": ec2.describe_security_groups()["SecurityGroups"],
        "tables": ec2.describe_route_tables()["RouteTables"],
    }
    srv.stop()
    srv.start()
    ec2 = srv.client("ec2")
    after = {
        "subnets": ec2.describe_subnets(SubnetIds=subnets)["Subnets"],
        "enis": ec2.describe_network_interfaces()["NetworkInterfaces"],
        "endpoint": ec2.describe_vpc_endpoints()["VpcEndpoints"],
        "groups": ec2.describe_security_groups()["SecurityGroups"],
        "tables": ec2.describe_route_tables()["RouteTables"],
    }
    assert after == before
    assert after["endpoint"][0]["DnsEntries"] == endpoint["DnsEntries"]
    # the next interface takes the next free address, not one already held
    ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName="com.amazonaws.us-east-1.sts",
                            VpcEndpointType="Interface", SubnetIds=[subnets[0]])  # fmt: skip
    ips = {e["PrivateIpAddress"] for e in ec2.describe_network_interfaces(
        Filters=[{"Name": "subnet-id", "Values": [subnets[0]]}])["NetworkInterfaces"]}  # fmt: skip
    assert ips == {"10.7.1.4", "10.7.1.5"}


def test_permissions_dry_run_and_unknown_filters(server: CoveServer) -> None:
    """A caller without ec2 permissions is refused as EC2 refuses (UnauthorizedOperation,
    also for a dry run: "If you have the required permissions, the error response is
    DryRunOperation. Otherwise, it is UnauthorizedOperation."); once allowed, a dry run
    answers DryRunOperation and changes nothing. An unknown filter name is refused
    (InvalidParameterValue "The filter 'x' is invalid")."""
    import boto3
    from botocore.config import Config

    iam = server.client("iam")
    iam.create_user(UserName="netops")
    key = iam.create_access_key(UserName="netops")["AccessKey"]
    ec2 = boto3.client(
        "ec2", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip
    denied = error_of(ec2.create_vpc, CidrBlock="10.8.0.0/16", DryRun=True)
    assert (denied["Code"], denied["Status"]) == ("UnauthorizedOperation", 403)
    assert "ec2:CreateVpc" in denied["Message"]
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}  # fmt: skip
    iam.put_user_policy(UserName="netops", PolicyName="net", PolicyDocument=json.dumps(policy))
    before = len(ec2.describe_vpcs()["Vpcs"])
    assert error_of(ec2.create_vpc, CidrBlock="10.8.0.0/16", DryRun=True)["Code"] == (
        "DryRunOperation"
    )
    assert len(ec2.describe_vpcs()["Vpcs"]) == before
    assert error_of(ec2.describe_vpcs, Filters=[{"Name": "colour", "Values": ["red"]}]) == {
        "Code": "InvalidParameterValue", "Status": 400, "Message": "The filter 'colour' is invalid",
    }  # fmt: skip


def test_endpoint_policies_and_the_cli_endpoint_calls(server: CoveServer) -> None:
    """An endpoint policy is kept as given and reset to full access; a broken one is
    refused with InvalidPolicyDocument ("The Policy Document is not valid. Syntax error at
    position (1,75)", https://github.com/hashicorp/terraform-provider-aws/issues/42291)."""
    ec2 = server.client("ec2")
    vpc_id, subnets = vpc_with_subnets(ec2, "10.9.0.0/16")
    made = server.aws("ec2", "create-vpc-endpoint", "--vpc-id", vpc_id, "--service-name",
                      "com.amazonaws.us-east-1.sts", "--vpc-endpoint-type", "Interface",
                      "--subnet-ids", subnets[0], "--no-private-dns-enabled")  # fmt: skip
    endpoint = json.loads(made.stdout)["VpcEndpoint"]
    assert endpoint["PrivateDnsEnabled"] is False
    assert endpoint["DnsEntries"][0]["DnsName"].endswith(".sts.us-east-1.vpce.amazonaws.com")
    vpce = endpoint["VpcEndpointId"]
    narrow = {"Statement": [{"Effect": "Allow", "Principal": "*",
                             "Action": "sts:GetCallerIdentity", "Resource": "*"}]}  # fmt: skip
    ec2.modify_vpc_endpoint(VpcEndpointId=vpce, PolicyDocument=json.dumps(narrow))
    kept = ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"][0]
    assert json.loads(kept["PolicyDocument"]) == narrow
    broken = error_of(ec2.modify_vpc_endpoint, VpcEndpointId=vpce, PolicyDocument='{"Sta')
    assert broken["Code"] == "InvalidPolicyDocument"
    assert broken["Message"].startswith("The Policy Document is not valid. Syntax error at ")
    server.aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", vpce, "--reset-policy")
    reset = ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"][0]
    assert json.loads(reset["PolicyDocument"])["Statement"][0]["Action"] == "*"
    listed = server.aws("ec2", "describe-vpc-endpoints", "--filters",
                        "Name=vpc-endpoint-type,Values=Interface",
                        f"Name=vpc-id,Values={vpc_id}")  # fmt: skip
    assert [e["VpcEndpointId"] for e in json.loads(listed.stdout)["VpcEndpoints"]] == [vpce]
    gone = server.aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", vpce)
    assert json.loads(gone.stdout)["Unsuccessful"] == []
