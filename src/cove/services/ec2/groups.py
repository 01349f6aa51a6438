"""Security groups and their rules: Create/Describe/Delete, Authorize/Revoke ingress and
egress (IpPermissions with IpRanges and UserIdGroupPairs, or the old flat CidrIp,
IpProtocol, FromPort, ToPort, SourceSecurityGroupName), DescribeSecurityGroupRules."""

from __future__ import annotations

from typing import Any

from cove.errors import AwsError
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.network.failures import Failure, NetworkError
from cove.network.permissions import Permission, check_cidr, normalize
from cove.network.resources import SecurityGroup
from cove.network.store import NetworkStore
from cove.services.ec2 import shapes
from cove.services.ec2.listing import apply_filters, page, requested_tags, select_ids
from cove.services.ec2.shapes import ec2_arn


def _sources(rules, kind: str):  # type: ignore[no-untyped-def]
    return lambda g: [getattr(r, kind) for r in rules(g)]


_GROUP_FILTERS = {
    "group-id": lambda g: [g.group_id], "group-name": lambda g: [g.name],
    "vpc-id": lambda g: [g.vpc_id], "description": lambda g: [g.description],
    "ip-permission.cidr": _sources(lambda g: g.ingress, "cidr"),
    "ip-permission.group-id": _sources(lambda g: g.ingress, "peer_group_id"),
    "ip-permission.protocol": _sources(lambda g: g.ingress, "protocol"),
    "ip-permission.from-port": _sources(lambda g: g.ingress, "from_port"),
    "ip-permission.to-port": _sources(lambda g: g.ingress, "to_port"),
    "egress.ip-permission.cidr": _sources(lambda g: g.egress, "cidr"),
    "egress.ip-permission.group-id": _sources(lambda g: g.egress, "peer_group_id"),
    "egress.ip-permission.protocol": _sources(lambda g: g.egress, "protocol"),
}  # fmt: skip


def permissions_of(
    store: NetworkStore, group: SecurityGroup, p: dict[str, Any]
) -> list[Permission]:
    """One Permission per source of each IpPermission, or the flat form's one."""
    items = list(p.get("IpPermissions") or [])
    if not items and (p.get("IpProtocol") or p.get("CidrIp") or p.get("SourceSecurityGroupName")):
        flat: dict[str, Any] = {
            "IpProtocol": p.get("IpProtocol") or "-1",
            "FromPort": p.get("FromPort"),
            "ToPort": p.get("ToPort"),
        }
        if p.get("CidrIp"):
            flat["IpRanges"] = [{"CidrIp": p["CidrIp"]}]
        if p.get("SourceSecurityGroupName"):
            flat["UserIdGroupPairs"] = [{"GroupName": p["SourceSecurityGroupName"]}]
        items = [flat]
    if not items:
        raise AwsError("MissingParameter", "No permissions specified")
    found = []
    for item in items:
        if item.get("Ipv6Ranges") or item.get("PrefixListIds"):
            raise AwsError(
                "InvalidParameterValue", "Cove supports IPv4 ranges and security groups only"
            )
        protocol, low, high = normalize(
            str(item.get("IpProtocol", "-1")), item.get("FromPort"), item.get("ToPort")
        )
        for r in item.get("IpRanges") or []:
            found.append(Permission(protocol, low, high, cidr=check_cidr(r["CidrIp"]),
                                    description=r.get("Description")))  # fmt: skip
        for pair in item.get("UserIdGroupPairs") or []:
            peer = pair.get("GroupId") or _group_by_name(store, group.vpc_id, pair.get("GroupName"))
            found.append(Permission(protocol, low, high, peer_group_id=peer,
                                    description=pair.get("Description")))  # fmt: skip
        if not (item.get("IpRanges") or item.get("UserIdGroupPairs")):
            raise AwsError("MissingParameter", "No source or destination specified")
    return found


def _group_by_name(store: NetworkStore, vpc_id: str, name: str | None) -> str:
    for g in store.groups():
        if g.vpc_id == vpc_id and g.name == name:
            return g.group_id
    raise NetworkError(Failure.GROUP_NAME_NOT_FOUND, name=name, vpc=vpc_id)


def handlers(store: NetworkStore) -> dict[str, Handler]:
    account, region = store.account_id, store.region

    def target(p: dict[str, Any]) -> SecurityGroup:
        if p.get("GroupId"):
            return store.group(p["GroupId"])
        if p.get("GroupName"):  # only the default VPC takes names; Cove has none
            raise AwsError(
                "VPCIdNotSpecified",
                "No default VPC for this user. GroupName is only supported for EC2-Classic "
                "and default VPC.",
            )
        raise AwsError("MissingParameter", "The request must contain the parameter groupId")

    def create_security_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("VpcId"):
            raise AwsError("VPCIdNotSpecified", "No default VPC for this user")
        group = store.create_group(p["VpcId"], p["GroupName"], p["Description"],
                                   requested_tags(p, "security-group"))  # fmt: skip
        return {
            "GroupId": group.group_id, "Tags": shapes.wire_tags(group.tags),
            "SecurityGroupArn":
                ec2_arn(region, account, "security-group", group.group_id),
        }  # fmt: skip

    def describe_security_groups(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        groups = select_ids(store.groups(), p.get("GroupIds"), lambda g: g.group_id,
                            Failure.GROUP_NOT_FOUND)  # fmt: skip
        if p.get("GroupNames"):
            raise AwsError(
                "VPCIdNotSpecified",
                "No default VPC for this user. GroupName is only supported for EC2-Classic "
                "and default VPC.",
            )
        groups = apply_filters(groups, p.get("Filters"), {**_GROUP_FILTERS,
                               "owner-id": lambda g: [account]}, lambda g: g.tags)  # fmt: skip
        return page([shapes.group(g, account, region) for g in groups], p, "SecurityGroups")

    def delete_security_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        group = target(p)
        store.delete_group(group.group_id)
        return {"Return": True, "GroupId": group.group_id}

    def authorizer(egress: bool) -> Handler:
        def authorize(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
            group = target(p)
            rules = store.authorize(group.group_id, egress, permissions_of(store, group, p))
            wire = [shapes.rule(r, account, region) for r in rules]
            return {"Return": True, "SecurityGroupRules": wire}

        return authorize

    def revoker(egress: bool) -> Handler:
        def revoke(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
            group = target(p)
            rule_ids = list(p.get("SecurityGroupRuleIds") or [])
            wanted = [] if rule_ids and not p.get("IpPermissions") else permissions_of(
                store, group, p)  # fmt: skip
            unknown = store.revoke(group.group_id, egress, wanted, rule_ids)
            out: dict[str, Any] = {"Return": True}
            if unknown:
                out["UnknownIpPermissions"] = [_wire_permission(x, account) for x in unknown]
            return out

        return revoke

    def describe_security_group_rules(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        tags = store.tags()
        rules = select_ids(store.rules(), p.get("SecurityGroupRuleIds"), lambda r: r.rule_id,
                           Failure.RULE_NOT_FOUND)  # fmt: skip
        spec = {"group-id": lambda r: [r.group_id],
                "security-group-rule-id": lambda r: [r.rule_id]}  # fmt: skip
        rules = apply_filters(rules, p.get("Filters"), spec, lambda r: tags.get(r.rule_id, ()))
        wire = [shapes.rule(r, account, region, tags.get(r.rule_id, ())) for r in rules]
        return page(wire, p, "SecurityGroupRules")

    return {
        "CreateSecurityGroup": create_security_group,
        "DescribeSecurityGroups": describe_security_groups,
        "DeleteSecurityGroup": delete_security_group,
        "AuthorizeSecurityGroupIngress": authorizer(False),
        "AuthorizeSecurityGroupEgress": authorizer(True),
        "RevokeSecurityGroupIngress": revoker(False),
        "RevokeSecurityGroupEgress": revoker(True),
        "DescribeSecurityGroupRules": describe_security_group_rules,
    }


def _wire_permission(p: Permission, account: str) -> dict[str, Any]:
    out: dict[str, Any] = {"IpProtocol": p.protocol}
    if p.from_port is not None:
        out["FromPort"], out["ToPort"] = p.from_port, p.to_port
    if p.cidr:
        out["IpRanges"] = [{"CidrIp": p.cidr}]
    else:
        out["UserIdGroupPairs"] = [{"GroupId": p.peer_group_id, "UserId": account}]
    return out
