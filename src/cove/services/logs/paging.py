"""DescribeLogGroups' and DescribeLogStreams' paging: `limit` (default and most 50) items
after the one a nextToken names, and a nextToken while more remain."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

from cove.storage.log_events import LogFailure, LogsError

T = TypeVar("T")
DEFAULT_LIMIT = 50


def page(
    items: Sequence[T], key: Callable[[T], str], token: str | None, limit: int | None
) -> tuple[list[T], str | None]:
    """`items` are in answer order; `key` names an item uniquely (the token carries it)."""
    start = 0
    if token is not None:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise LogsError(LogFailure.INVALID_TOKEN) from None
        keys = [key(item) for item in items]
        if after not in keys:
            raise LogsError(LogFailure.INVALID_TOKEN)
        start = keys.index(after) + 1
    size = limit or DEFAULT_LIMIT
    chosen = list(items[start : start + size])
    if start + size >= len(items):
        return chosen, None
    return chosen, base64.urlsafe_b64encode(key(chosen[-1]).encode()).decode()
