"""List* semantics shared by every SageMaker resource: filters, sorting, NextToken pages."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cove.errors import validation_error
from cove.storage.resources import Resource
from cove.timestamps import to_epoch

T = TypeVar("T")

DEFAULT_MAX_RESULTS = 10  # what SageMaker's List* calls return without MaxResults

# Each SortBy value orders by its key, then by name so pages are stable.
SORT_KEYS: dict[str, Callable[[Resource], Any]] = {
    "Name": lambda r: r.name.lower(),
    "CreationTime": lambda r: r.created,
    "Status": lambda r: r.status or "",
}


def filter_resources(rows: list[Resource], params: dict[str, Any]) -> list[Resource]:
    """Apply NameContains, Creation/LastModifiedTime Before/After and StatusEquals."""
    needle = (params.get("NameContains") or "").lower()
    bounds = [
        ("CreationTimeBefore", lambda r, t: r.created < t),
        ("CreationTimeAfter", lambda r, t: r.created > t),
        ("LastModifiedTimeBefore", lambda r, t: r.modified < t),
        ("LastModifiedTimeAfter", lambda r, t: r.modified > t),
    ]
    checks = [(to_epoch(params[key]), test) for key, test in bounds if key in params]
    status = params.get("StatusEquals")
    return [
        r
        for r in rows
        if needle in r.name.lower()
        and all(test(r, t) for t, test in checks)
        and (status is None or r.status == status)
    ]


def sort_resources(
    rows: list[Resource], params: dict[str, Any], default_order: str = "Descending"
) -> list[Resource]:
    key = SORT_KEYS[params.get("SortBy") or "CreationTime"]
    descending = (params.get("SortOrder") or default_order) == "Descending"
    by_name = sorted(rows, key=SORT_KEYS["Name"], reverse=descending)
    return sorted(by_name, key=key, reverse=descending)  # stable: ties stay by name


def page(
    items: Sequence[T], params: dict[str, Any], default_max: int = DEFAULT_MAX_RESULTS
) -> tuple[list[T], str | None]:
    """One page of `items` from params' NextToken/MaxResults, and the token for the next."""
    start = _decode_token(params.get("NextToken"))
    size = params.get("MaxResults") or default_max
    end = start + size
    token = _encode_token(end) if end < len(items) else None
    return list(items[start:end]), token


def list_resources(
    rows: list[Resource],
    params: dict[str, Any],
    summarize: Callable[[Resource], dict[str, Any]],
    result_key: str,
) -> dict[str, Any]:
    """The whole List* response for `rows` of one kind."""
    items, token = page(sort_resources(filter_resources(rows, params), params), params)
    out: dict[str, Any] = {result_key: [summarize(r) for r in items]}
    if token:
        out["NextToken"] = token
    return out


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise validation_error("Invalid pagination token.") from None
    if not isinstance(offset, int) or offset < 0:
        raise validation_error("Invalid pagination token.")
    return offset
