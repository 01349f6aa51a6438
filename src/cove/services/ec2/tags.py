"""CreateTags, DeleteTags and DescribeTags over every network resource."""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.network.resources import Tag
from cove.network.store import NetworkStore
from cove.services.ec2.listing import apply_filters, page

# EC2's resource types (DescribeTags' resourceType), by id prefix
RESOURCE_TYPES = {
    "vpc": "vpc", "subnet": "subnet", "sg": "security-group", "sgr": "security-group-rule",
    "rtb": "route-table", "igw": "internet-gateway", "vpce": "vpc-endpoint",
    "eni": "network-interface",
}  # fmt: skip


def resource_type(resource_id: str) -> str:
    return RESOURCE_TYPES.get(resource_id.rsplit("-", 1)[0], "")


_FILTERS = {
    "key": lambda row: [row["Key"]], "value": lambda row: [row["Value"]],
    "resource-id": lambda row: [row["ResourceId"]],
    "resource-type": lambda row: [row["ResourceType"]],
}  # fmt: skip


def handlers(store: NetworkStore) -> dict[str, Handler]:
    def create_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        tags = [Tag(t["Key"], t.get("Value", "")) for t in p.get("Tags") or []]
        store.create_tags(list(p["Resources"]), tags)
        return {}

    def delete_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        tags = [(t["Key"], t.get("Value")) for t in p.get("Tags") or []]
        store.delete_tags(list(p["Resources"]), tags)
        return {}

    def describe_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        rows = [
            {"ResourceId": rid, "ResourceType": resource_type(rid), "Key": t.key, "Value": t.value}
            for rid, tags in sorted(store.tags().items())
            for t in tags
        ]
        return page(apply_filters(rows, p.get("Filters"), _FILTERS), p, "Tags")

    return {"CreateTags": create_tags, "DeleteTags": delete_tags, "DescribeTags": describe_tags}
