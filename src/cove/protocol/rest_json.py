"""rest-json bodies: a shape's value to and from the JSON document on the wire.

Mirrors botocore's JSONSerializer (what a client sends) and BaseJSONParser (what it
reads): members under their `locationName`, blobs base64, timestamps epoch seconds
unless the member's timestampFormat says otherwise, document types passed through.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from botocore.model import Shape

from cove.protocol.rest_scalars import (
    JSON_FORMAT,
    WireValueError,
    format_float,
    format_timestamp,
    parse_timestamp,
    timestamp_format,
)


def dump(shape: Shape, value: Any) -> Any:
    """`value` as JSON-ready data (None members left out, as botocore's parser skips them)."""
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return value
        members = shape.members
        return {
            members[name].serialization.get("name", name): dump(members[name], item)
            for name, item in value.items()
            if item is not None and name in members
        }
    if kind == "list":
        return [dump(shape.member, item) for item in value]
    if kind == "map":
        return {str(key): dump(shape.value, item) for key, item in value.items()}
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode()
    if kind == "timestamp":
        return format_timestamp(value, timestamp_format(shape, JSON_FORMAT))
    if kind in ("float", "double"):
        return format_float(float(value))
    return value


def dump_members(shape: Shape, value: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The top-level body object: only `names` (the members bound to no header or URI)."""
    return dump(shape, {name: value[name] for name in names if value.get(name) is not None})


def load(shape: Shape, data: Any, path: str = "") -> Any:
    """JSON data as a value of `shape`; WireValueError (naming where) if it is not one."""
    if data is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return data
        return load_members(shape, data, list(shape.members), path)
    if kind == "list":
        _expect(data, list, "a list", path)
        return [load(shape.member, item, f"{path}[]") for item in data]
    if kind == "map":
        _expect(data, dict, "an object", path)
        return {key: load(shape.value, item, f"{path}.{key}") for key, item in data.items()}
    if kind == "blob":
        _expect(data, str, "base64 text", path)
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error:
            raise WireValueError(f"{path or 'body'}: not base64") from None
    if kind == "timestamp":
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            raise WireValueError(f"{path or 'body'}: not a timestamp")
        return parse_timestamp(data, timestamp_format(shape, JSON_FORMAT))
    if kind in ("float", "double") and isinstance(data, str):
        if data not in ("NaN", "Infinity", "-Infinity"):
            raise WireValueError(f"{path or 'body'}: not a number")
        return float(data)
    # Other scalars are JSON's own types; whether they fit the shape is for validation
    # (cove.protocol.shapes), which names the member the way AWS does.
    return data


def load_members(shape: Shape, data: Any, names: list[str], path: str = "") -> dict[str, Any]:
    """`names` of structure `shape` from a JSON object; keys the model lacks are ignored,
    as AWS ignores them (a newer client may send members this model does not know)."""
    _expect(data, dict, "an object", path)
    members = shape.members
    out: dict[str, Any] = {}
    for name in names:
        member = members[name]
        raw = data.get(member.serialization.get("name", name))
        if raw is not None:
            out[name] = load(member, raw, f"{path}.{name}" if path else name)
    return out


def _expect(data: Any, kind: type, what: str, path: str) -> None:
    if not isinstance(data, kind):
        raise WireValueError(f"{path or 'body'}: expected {what}")
