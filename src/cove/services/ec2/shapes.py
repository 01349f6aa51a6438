"""Network records as EC2's output members (botocore's `ec2` shapes)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from cove.network.endpoint_services import EndpointService
from cove.network.resources import (
    InternetGateway,
    NetworkInterface,
    RouteTable,
    Rule,
    SecurityGroup,
    Subnet,
    Tag,
    Vpc,
    VpcEndpoint,
    Zone,
)
from cove.services.ec2.listing import wire_tags


def ec2_arn(region: str, account: str, kind: str, resource_id: str) -> str:
    """An EC2 resource's ARN: arn:aws:ec2:<region>:<account>:<resource type>/<id>."""
    return f"arn:aws:ec2:{region}:{account}:{kind}/{resource_id}"


def zone(z: Zone, region: str) -> dict[str, Any]:
    return {
        "ZoneName": z.name, "ZoneId": z.zone_id, "RegionName": region, "State": "available",
        "OptInStatus": "opt-in-not-required", "Messages": [], "GroupName": region,
        "NetworkBorderGroup": region, "ZoneType": "availability-zone",
        "GroupLongName": region,
    }  # fmt: skip


def vpc(v: Vpc, account: str) -> dict[str, Any]:
    return {
        "VpcId": v.vpc_id, "CidrBlock": v.cidr, "State": "available", "OwnerId": account,
        "InstanceTenancy": "default", "IsDefault": False, "DhcpOptionsId": "default",
        "CidrBlockAssociationSet": [{
            "AssociationId": v.cidr_association_id, "CidrBlock": v.cidr,
            "CidrBlockState": {"State": "associated"},
        }],
        "Tags": wire_tags(v.tags),
    }  # fmt: skip


def subnet(s: Subnet, account: str, region: str) -> dict[str, Any]:
    return {
        "SubnetId": s.subnet_id, "VpcId": s.vpc_id, "CidrBlock": s.cidr, "State": "available",
        "AvailabilityZone": s.zone.name, "AvailabilityZoneId": s.zone.zone_id,
        "AvailableIpAddressCount": s.available_ips, "DefaultForAz": False,
        "MapPublicIpOnLaunch": False, "AssignIpv6AddressOnCreation": False, "OwnerId": account,
        "SubnetArn": ec2_arn(region, account, "subnet", s.subnet_id),
        "Ipv6CidrBlockAssociationSet": [], "Tags": wire_tags(s.tags),
    }  # fmt: skip


def _permission(rule: Rule, account: str) -> dict[str, Any]:
    out: dict[str, Any] = {"IpProtocol": rule.protocol, "IpRanges": [], "UserIdGroupPairs": [],
                           "Ipv6Ranges": [], "PrefixListIds": []}  # fmt: skip
    if rule.from_port is not None:
        out["FromPort"], out["ToPort"] = rule.from_port, rule.to_port
    source: dict[str, Any] = {}
    if rule.description:
        source["Description"] = rule.description
    if rule.cidr is not None:
        out["IpRanges"].append({"CidrIp": rule.cidr, **source})
    else:
        out["UserIdGroupPairs"].append({"GroupId": rule.peer_group_id, "UserId": account, **source})
    return out


def permissions(rules: tuple[Rule, ...], account: str) -> list[dict[str, Any]]:
    """EC2 describes a group's rules grouped by protocol and ports, each with its sources."""
    grouped: dict[tuple[object, ...], dict[str, Any]] = {}
    for rule in rules:
        key = (rule.protocol, rule.from_port, rule.to_port)
        item = _permission(rule, account)
        if key not in grouped:
            grouped[key] = item
        else:
            grouped[key]["IpRanges"] += item["IpRanges"]
            grouped[key]["UserIdGroupPairs"] += item["UserIdGroupPairs"]
    return list(grouped.values())


def group(g: SecurityGroup, account: str, region: str) -> dict[str, Any]:
    return {
        "GroupId": g.group_id, "GroupName": g.name, "Description": g.description,
        "VpcId": g.vpc_id, "OwnerId": account,
        "SecurityGroupArn": ec2_arn(region, account, "security-group", g.group_id),
        "IpPermissions": permissions(g.ingress, account),
        "IpPermissionsEgress": permissions(g.egress, account),
        "Tags": wire_tags(g.tags),
    }  # fmt: skip


def rule(r: Rule, account: str, region: str, tags: tuple[Tag, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {
        "SecurityGroupRuleId": r.rule_id, "GroupId": r.group_id, "GroupOwnerId": account,
        "IsEgress": r.egress, "IpProtocol": r.protocol,
        "FromPort": -1 if r.from_port is None else r.from_port,
        "ToPort": -1 if r.to_port is None else r.to_port,
        "SecurityGroupRuleArn":
            ec2_arn(region, account, "security-group-rule", r.rule_id),
        "Tags": wire_tags(tags),
    }  # fmt: skip
    if r.cidr is not None:
        out["CidrIpv4"] = r.cidr
    else:
        out["ReferencedGroupInfo"] = {"GroupId": r.peer_group_id, "UserId": account}
    if r.description:
        out["Description"] = r.description
    return out


def route_table(t: RouteTable, account: str) -> dict[str, Any]:
    routes = []
    for r in t.routes:
        route: dict[str, Any] = {"GatewayId": r.target, "Origin": r.origin, "State": "active"}
        if r.is_prefix_list:
            route["DestinationPrefixListId"] = r.destination
        else:
            route["DestinationCidrBlock"] = r.destination
        routes.append(route)
    associations = [
        {"Main": False, "RouteTableAssociationId": a.association_id,
         "RouteTableId": t.route_table_id, "SubnetId": a.subnet_id,
         "AssociationState": {"State": "associated"}}
        for a in t.associations
    ]  # fmt: skip
    if t.main:
        associations.insert(0, {
            "Main": True, "RouteTableAssociationId": t.main_association_id,
            "RouteTableId": t.route_table_id, "AssociationState": {"State": "associated"},
        })  # fmt: skip
    return {
        "RouteTableId": t.route_table_id, "VpcId": t.vpc_id, "OwnerId": account,
        "Routes": routes, "Associations": associations, "PropagatingVgws": [],
        "Tags": wire_tags(t.tags),
    }  # fmt: skip


def gateway(g: InternetGateway, account: str) -> dict[str, Any]:
    attachments = [] if g.vpc_id is None else [{"State": "available", "VpcId": g.vpc_id}]
    return {"InternetGatewayId": g.gateway_id, "OwnerId": account, "Attachments": attachments,
            "Tags": wire_tags(g.tags)}  # fmt: skip


def endpoint(e: VpcEndpoint, account: str, group_names: dict[str, str]) -> dict[str, Any]:
    return {
        "VpcEndpointId": e.endpoint_id, "VpcEndpointType": e.endpoint_type.value,
        "VpcId": e.vpc_id, "ServiceName": e.service_name, "State": e.state.value,
        "PolicyDocument": e.policy_document, "RouteTableIds": list(e.route_table_ids),
        "SubnetIds": list(e.subnet_ids),
        "Groups": [{"GroupId": g, "GroupName": group_names.get(g, "")} for g in e.group_ids],
        "IpAddressType": "ipv4",
        "DnsOptions": {"DnsRecordIpType": "ipv4"} if e.endpoint_type.value == "Interface"
        else {},
        "PrivateDnsEnabled": e.private_dns_enabled, "RequesterManaged": False,
        "NetworkInterfaceIds": list(e.eni_ids),
        "DnsEntries": [{"DnsName": d.dns_name, "HostedZoneId": d.hosted_zone_id}
                       for d in e.dns_entries],
        "CreationTimestamp": dt.datetime.fromtimestamp(e.created, dt.UTC),
        "Tags": wire_tags(e.tags), "OwnerId": account,
    }  # fmt: skip


def service(s: EndpointService, zones: tuple[Zone, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ServiceName": s.service_name,
        "ServiceId": "vpce-svc-" + hashlib.sha256(s.service_name.encode()).hexdigest()[:17],
        "ServiceType": [{"ServiceType": x.value} for x in s.types],
        "AvailabilityZones": [z.name for z in zones],
        "Owner": "amazon",
        "BaseEndpointDnsNames": [s.base_dns_name],
        "VpcEndpointPolicySupported": True, "AcceptanceRequired": False,
        "ManagesVpcEndpoints": False, "Tags": [], "SupportedIpAddressTypes": ["ipv4"],
    }  # fmt: skip
    names = s.private_dns_names
    if names:
        out["PrivateDnsName"] = names[0]
        out["PrivateDnsNames"] = [{"PrivateDnsName": n} for n in names]
        out["PrivateDnsNameVerificationState"] = "verified"
    return out


def interface(i: NetworkInterface, account: str, group_names: dict[str, str]) -> dict[str, Any]:
    return {
        "NetworkInterfaceId": i.eni_id, "SubnetId": i.subnet_id, "VpcId": i.vpc_id,
        "AvailabilityZone": i.zone.name, "AvailabilityZoneId": i.zone.zone_id,
        "Description": i.description,
        "Groups": [{"GroupId": g, "GroupName": group_names.get(g, "")} for g in i.group_ids],
        "InterfaceType": i.interface_type.value, "MacAddress": i.mac, "OwnerId": account,
        "PrivateIpAddress": i.private_ip,
        "PrivateIpAddresses": [{"Primary": n == 0, "PrivateIpAddress": ip}
                               for n, ip in enumerate(i.private_ips)],
        "RequesterManaged": i.requester_managed,
        **({"RequesterId": i.owner} if i.requester_managed and i.owner else {}),
        "SourceDestCheck": True, "Status": "in-use", "Ipv6Addresses": [],
        "TagSet": wire_tags(i.tags),
    }  # fmt: skip
