"""AddTags / ListTags / DeleteTags for any SageMaker resource stored with an ARN.

Tags live in the resource document under "Tags" (a list of {"Key", "Value"}), which is
where the Create* handlers put the request's Tags.
"""

from __future__ import annotations

from cove.errors import validation_error
from cove.storage.resources import Resource, ResourceStore

MAX_TAGS = 50


def merge_tags(current: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    """`new` overrides tags of the same key, as AddTags does."""
    merged = {t["Key"]: t["Value"] for t in current}
    merged.update({t["Key"]: t["Value"] for t in new})
    if len(merged) > MAX_TAGS:
        raise validation_error(f"A resource can have at most {MAX_TAGS} tags.")
    return [{"Key": k, "Value": v} for k, v in merged.items()]


def tagged_resource(store: ResourceStore, arn: str) -> Resource:
    res = store.get_by_arn(arn)
    if res is None:
        raise validation_error(f'Could not find resource "{arn}".')
    return res
