"""Example values for any botocore shape, for round-trip tests of the wire protocols:
every member filled (recursion cut at a depth), values that survive each protocol's
encoding (timestamps whole seconds in UTC, floats exact in binary, non-empty strings).

Not a test module: imported by the protocol round-trip tests."""

from __future__ import annotations

import datetime
from typing import Any

from botocore.model import Shape

MAX_DEPTH = 4
WHEN = datetime.datetime(2026, 11, 30, 12, 34, 56, tzinfo=datetime.UTC)


def example(shape: Shape, name: str = "value", depth: int = 0) -> Any:
    """A value of `shape`; `name` (the member's name) makes strings tell members apart."""
    kind = shape.type_name
    if kind == "structure":
        if depth >= MAX_DEPTH:
            return {}
        members = shape.members
        if shape.metadata.get("union"):  # exactly one member of a union
            first = next(iter(members))
            return {first: example(members[first], first, depth + 1)}
        return {m: example(s, m, depth + 1) for m, s in members.items()}
    if kind == "list":
        return [] if depth >= MAX_DEPTH else [example(shape.member, name, depth + 1)]
    if kind == "map":
        if depth >= MAX_DEPTH:
            return {}
        key = example(shape.key, f"{name}Key", depth + 1)
        return {key: example(shape.value, f"{name}Value", depth + 1)}
    return _scalar(shape, name)


def _scalar(shape: Shape, name: str) -> Any:
    kind = shape.type_name
    if kind == "string":
        enum = shape.metadata.get("enum")
        if enum:
            return enum[0]
        text = f"{name}-1"
        low = shape.metadata.get("min", 0)
        high = shape.metadata.get("max")
        text = text.ljust(low, "x")
        return text[:high] if high else text
    if kind in ("integer", "long"):
        low = shape.metadata.get("min")
        return int(low) if low is not None and low > 1 else 1
    if kind in ("float", "double"):
        return 1.5
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return WHEN
    if kind == "blob":
        return b"blob-bytes"
    raise TypeError(f"no example for shape type {kind}")
