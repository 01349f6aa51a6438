"""IAM's list paging: `MaxItems` (default 100) items from where `Marker` says, with
`IsTruncated` and the next `Marker` while more remain (IAM API reference, "ListUsers")."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cove.errors import AwsError

T = TypeVar("T")
DEFAULT_MAX_ITEMS = 100


def page(
    items: Sequence[T], params: dict[str, Any], key: Callable[[T], str]
) -> tuple[list[T], dict[str, Any]]:
    """The page of `items` (sorted by `key`) and the paging members of the answer."""
    start = 0
    marker = params.get("Marker")
    if marker is not None:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            raise AwsError("ValidationError", "Invalid Marker.") from None
        start = next((i for i, item in enumerate(items) if key(item) > after), len(items))
    size = params.get("MaxItems") or DEFAULT_MAX_ITEMS
    chosen = list(items[start : start + size])
    if start + size >= len(items):
        return chosen, {"IsTruncated": False}
    last = base64.urlsafe_b64encode(key(chosen[-1]).encode()).decode()
    return chosen, {"IsTruncated": True, "Marker": last}
