"""botocore's service models as the contract: request validation and response shaping.

Validation messages follow AWS's wording ("1 validation error detected: Value 'x' at
'endpointName' failed to satisfy constraint: ...") so clients and people see what AWS
would have said.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from cove.errors import AwsError
from cove.timestamps import to_epoch


@functools.cache
def service_model(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


# Java-style regex pieces used by AWS patterns, translated for Python's `re`.
# AWS applies patterns to the whole value (Java's matches()), hence fullmatch below.
_PATTERN_FIXES = [
    (r"\p{ASCII}", r"\x00-\x7F"),
    (r"\p{Print}", r"\x20-\x7E"),
    (r"\p{Alnum}", r"a-zA-Z0-9"),
    (r"\p{L}", r"a-zA-Z\u00C0-\u024F"),
    (r"\p{N}", r"\d"),
    (r"\p{Z}", r"\s"),
    (r"\p{M}", r"\u0300-\u036F"),
    (r"\p{S}", r"$+<=>^`|~"),
    (r"\p{P}", r"!-/:-@\[-`{-~"),
    (r"\z", r"\Z"),
]


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    fixed = pattern
    for java, py in _PATTERN_FIXES:
        if java == r"\z":
            fixed = fixed.replace(java, py)
        elif java in fixed:
            fixed = _replace_property(fixed, java, py)
    try:
        return re.compile(fixed)
    except re.error:
        return None  # a pattern we cannot translate is not enforced rather than misapplied


def _replace_property(pattern: str, java: str, py: str) -> str:
    out, depth, i = [], 0, 0
    while i < len(pattern):
        if pattern.startswith(java, i):
            out.append(py if depth else f"[{py}]")
            i += len(java)
            continue
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        out.append(ch)
        i += 1
    return "".join(out)


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


# Longer values are cut in error messages: a message must not carry a whole hostile
# payload back (or grow with it).
MAX_SHOWN = 256


def _show(value: Any) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


class _Validator:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, value: Any, path: str, constraint: str) -> None:
        shown = "null" if value is None else f"'{_show(value)}'"
        self.errors.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")

    def check(self, shape: Shape, value: Any, path: str) -> None:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            if not isinstance(value, dict):
                raise AwsError("SerializationException", f"Expected an object at '{path}'")
            for req in shape.required_members:
                if value.get(req) is None:
                    self.fail(None, _join(path, req), "Member must not be null")
            for name, member in shape.members.items():
                if value.get(name) is not None:
                    self.check(member, value[name], _join(path, name))
        elif kind == "list":
            assert isinstance(shape, ListShape)
            if not isinstance(value, list):
                raise AwsError("SerializationException", f"Expected a list at '{path}'")
            self._length(shape, value, path)
            for i, item in enumerate(value, 1):
                self.check(shape.member, item, f"{path}.{i}.member")
        elif kind == "map":
            assert isinstance(shape, MapShape)
            if not isinstance(value, dict):
                raise AwsError("SerializationException", f"Expected an object at '{path}'")
            self._length(shape, value, path)
            for key, item in value.items():
                self.check(shape.key, key, f"{path}.{_show(key)}.key")
                self.check(shape.value, item, f"{path}.{_show(key)}.value")
        elif kind == "string":
            if not isinstance(value, str):
                raise AwsError("SerializationException", f"Expected a string at '{path}'")
            self._length(shape, value, path)
            enum = shape.enum
            if enum and value not in enum:
                self.fail(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
            pattern = shape.metadata.get("pattern")
            if pattern:
                rx = _compiled(pattern)
                if rx is not None and not rx.fullmatch(value):
                    self.fail(
                        value, path, f"Member must satisfy regular expression pattern: {pattern}"
                    )
        elif kind in ("integer", "long", "float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise AwsError("SerializationException", f"Expected a number at '{path}'")
            lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
            if lo is not None and value < lo:
                self.fail(value, path, f"Member must have value greater than or equal to {lo}")
            if hi is not None and value > hi:
                self.fail(value, path, f"Member must have value less than or equal to {hi}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise AwsError("SerializationException", f"Expected a boolean at '{path}'")
        elif kind == "timestamp" and not isinstance(value, (int, float, str, dt.datetime)):
            raise AwsError("SerializationException", f"Expected a timestamp at '{path}'")

    def _length(self, shape: Shape, value: Any, path: str) -> None:
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if lo is not None and len(value) < lo:
            self.fail(value, path, f"Member must have length greater than or equal to {lo}")
        if hi is not None and len(value) > hi:
            self.fail(value, path, f"Member must have length less than or equal to {hi}")


def _join(path: str, name: str) -> str:
    return f"{path}.{_lower_first(name)}" if path else _lower_first(name)


def validate(
    operation: OperationModel,
    params: dict[str, Any],
    code: str = "ValidationException",
    body_root: str | None = None,
) -> None:
    """Raise `code` (json and rest-json services: ValidationException; query services
    such as IAM and STS: ValidationError) listing every constraint `params` break. With
    `body_root` (API Gateway names its input `<operation>Input`), members of the body are
    named under it and listed first, members bound to the URI or headers bare."""
    shape = operation.input_shape
    if shape is None:
        return
    validator = _Validator()
    if body_root is None:
        validator.check(shape, params, "")
    else:
        assert isinstance(shape, StructureShape)
        located = {n for n, m in shape.members.items() if m.serialization.get("location")}
        for name in sorted(shape.members, key=lambda n: n in located):
            path = _join("" if name in located else body_root, name)
            if params.get(name) is None:
                if name in shape.required_members:
                    validator.fail(None, path, "Member must not be null")
            else:
                validator.check(shape.members[name], params[name], path)
    if validator.errors:
        n = len(validator.errors)
        noun = "error" if n == 1 else "errors"
        raise AwsError(code, f"{n} validation {noun} detected: " + "; ".join(validator.errors))


def shape_output(shape: Shape | None, value: Any) -> Any:
    """Keep only the members the model declares; timestamps become epoch seconds."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return {
            name: shape_output(member, value[name])
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if kind == "list":
        assert isinstance(shape, ListShape)
        return [shape_output(shape.member, v) for v in value]
    if kind == "map":
        assert isinstance(shape, MapShape)
        return {k: shape_output(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return to_epoch(value)
    if kind == "blob" and isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value
