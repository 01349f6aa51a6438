"""AddTags / ListTags / DeleteTags for any SageMaker resource stored with an ARN.

Tags live in the resource document under "Tags" (a list of {"Key", "Value"}), which is
where the Create* handlers put the request's Tags.
"""

from __future__ import annotations

from typing import Any

from cove.control.context import ControlContext
from cove.control.listing import page
from cove.gateway.messages import RequestContext
from cove.protocol.errors import validation_error
from cove.protocol.json_rpc import Handler
from cove.storage.resources import Resource, ResourceStore

MAX_TAGS = 50


def merge_tags(current: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    """`new` overrides tags of the same key, as AddTags does."""
    merged = {t["Key"]: t["Value"] for t in current}
    merged.update({t["Key"]: t["Value"] for t in new})
    if len(merged) > MAX_TAGS:
        raise validation_error(f"A resource can have at most {MAX_TAGS} tags.")
    return [{"Key": k, "Value": v} for k, v in merged.items()]


def _resource(store: ResourceStore, arn: str) -> Resource:
    res = store.get_by_arn(arn)
    if res is None:
        raise validation_error(f'Could not find resource "{arn}".')
    return res


def handlers(control: ControlContext) -> dict[str, Handler]:
    store = control.resources

    def add_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = _resource(store, params["ResourceArn"])
        res.doc["Tags"] = merge_tags(res.doc.get("Tags", []), params["Tags"])
        store.save(res)
        return {"Tags": params["Tags"]}

    def list_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = _resource(store, params["ResourceArn"])
        tags, token = page(res.doc.get("Tags", []), params, default_max=MAX_TAGS)
        return {"Tags": tags, "NextToken": token}

    def delete_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = _resource(store, params["ResourceArn"])
        drop = set(params["TagKeys"])
        res.doc["Tags"] = [t for t in res.doc.get("Tags", []) if t["Key"] not in drop]
        store.save(res)
        return {}

    return {"AddTags": add_tags, "ListTags": list_tags, "DeleteTags": delete_tags}
