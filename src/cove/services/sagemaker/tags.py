"""AddTags / ListTags / DeleteTags for any SageMaker resource stored with an ARN."""

from __future__ import annotations

from typing import Any

from cove.control.context import ControlContext
from cove.control.listing import page
from cove.control.tags import MAX_TAGS, merge_tags, tagged_resource
from cove.gateway.json_service import Handler
from cove.http.messages import RequestContext


def handlers(control: ControlContext) -> dict[str, Handler]:
    store = control.resources

    def add_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = tagged_resource(store, params["ResourceArn"])
        res.doc["Tags"] = merge_tags(res.doc.get("Tags", []), params["Tags"])
        store.save(res)
        return {"Tags": params["Tags"]}

    def list_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = tagged_resource(store, params["ResourceArn"])
        tags, token = page(res.doc.get("Tags", []), params, default_max=MAX_TAGS)
        return {"Tags": tags, "NextToken": token}

    def delete_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = tagged_resource(store, params["ResourceArn"])
        drop = set(params["TagKeys"])
        res.doc["Tags"] = [t for t in res.doc.get("Tags", []) if t["Key"] not in drop]
        store.save(res)
        return {}

    return {"AddTags": add_tags, "ListTags": list_tags, "DeleteTags": delete_tags}
