"""IAM's list paging: `MaxItems` (default 100) items from where `Marker` says, with
`IsTruncated` and the next `Marker` while more remain (IAM API reference, "ListUsers").

Each list comes in the order IAM gives it (names in order, tags by key, policy versions
newest first, keys as created), so a marker is a position in that order, not a value
compared with the items: it names the next position and the item just before it, and
the next page starts after that item wherever it is now (an item created or deleted
before it moves nothing on), or at its old position once it is gone."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cove.errors import AwsError

T = TypeVar("T")
DEFAULT_MAX_ITEMS = 100


def page(
    items: Sequence[T], params: dict[str, Any], identity: Callable[[T], str]
) -> tuple[list[T], dict[str, Any]]:
    """The page of `items` (in IAM's order; `identity` tells them apart) and the paging
    members of the answer."""
    start = _start(items, params.get("Marker"), identity)
    size = params.get("MaxItems") or DEFAULT_MAX_ITEMS
    chosen = list(items[start : start + size])
    end = start + len(chosen)
    if end >= len(items):
        return chosen, {"IsTruncated": False}
    return chosen, {"IsTruncated": True, "Marker": _marker(end, identity(chosen[-1]))}


def _marker(position: int, last: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([position, last]).encode()).decode()


def _start(items: Sequence[T], marker: str | None, identity: Callable[[T], str]) -> int:
    if marker is None:
        return 0
    try:
        position, last = json.loads(base64.urlsafe_b64decode(marker.encode()))
    except (ValueError, UnicodeDecodeError, TypeError):
        raise AwsError("ValidationError", "Invalid Marker.") from None
    if not isinstance(position, int) or not isinstance(last, str) or position < 1:
        raise AwsError("ValidationError", "Invalid Marker.")
    if position <= len(items) and identity(items[position - 1]) == last:
        return position  # nothing moved
    found = next((i for i, item in enumerate(items) if identity(item) == last), None)
    return min(position - 1, len(items)) if found is None else found + 1
