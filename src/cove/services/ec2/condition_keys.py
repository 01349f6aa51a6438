"""The condition keys an EC2 request sets, for policies to test: aws:RequestTag/${TagKey}
and aws:TagKeys, from the tags a Create call's TagSpecifications give the new resource and
from CreateTags' and DeleteTags' Tags (Service Authorization Reference, "Actions,
resources, and condition keys for Amazon EC2",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html)."""

from __future__ import annotations

from typing import Any

_TAGGING = frozenset({"CreateTags", "DeleteTags"})


def request_tags(operation: str, params: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The (key, value) pairs the request sets; DeleteTags may give a key alone (None)."""
    if operation in _TAGGING:
        return [(t["Key"], t.get("Value")) for t in params.get("Tags") or []]
    return [
        (t["Key"], t.get("Value", ""))
        for spec in params.get("TagSpecifications") or []
        for t in spec.get("Tags") or []
    ]


def keys_of(operation: str, params: dict[str, Any]) -> dict[str, object]:
    tags = request_tags(operation, params)
    if not tags:
        return {}
    keys: dict[str, object] = {"aws:TagKeys": [k for k, _ in tags]}
    keys.update({f"aws:RequestTag/{k}": v for k, v in tags if v is not None})
    return keys
