"""Scalars of the query family (the query and ec2 protocols): form text to typed values
on requests, typed values to XML text on responses.

The rules mirror botocore's client side: QuerySerializer writes booleans as true/false,
blobs as base64, floats with Infinity/-Infinity/NaN spelled out and timestamps in the
shape's `timestampFormat` (ISO 8601 by default); QueryParser reads the same forms back.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from botocore.model import Shape

from cove.errors import AwsError

# botocore's QuerySerializer.TIMESTAMP_FORMAT; a shape's timestampFormat overrides it.
DEFAULT_TIMESTAMP_FORMAT = "iso8601"

# Java's int and long, which AWS's query services parse these shapes into.
_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
# Plain digits only: Python's int() would also take "1_000", " 1" and non-ASCII digits.
_INTEGER = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_FLOAT_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# Longer values are cut in error messages, which must not echo a whole hostile payload.
MAX_SHOWN = 256


def shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def invalid_value(param: str, text: str, reason: str) -> AwsError:
    """AWS's InvalidParameterValue: "An invalid or out-of-range value was supplied for the
    input parameter" (the Common Errors page of every query API reference)."""
    return AwsError(
        "InvalidParameterValue",
        f"Value '{shown(text)}' for parameter {param} is invalid. Reason: {reason}.",
    )


def from_text(shape: Shape, text: str, param: str) -> Any:
    """The typed value of one form parameter; `param` (its wire name) is for errors."""
    kind = shape.type_name
    if kind == "string":
        return text
    if kind in _BOUNDS:
        low, high = _BOUNDS[kind]
        if not _INTEGER.fullmatch(text):
            raise invalid_value(param, text, "expected an integer")
        # No int or long has more than 19 digits, and int() refuses more than 4,300.
        digits = text.lstrip("-").lstrip("0")
        number = int(text) if len(digits) <= 19 else None
        if number is None or not low <= number <= high:
            raise invalid_value(param, text, f"expected a {kind} from {low} to {high}")
        return number
    if kind in ("float", "double"):
        if text in _FLOAT_WORDS:
            return _FLOAT_WORDS[text]
        if not _FLOAT.fullmatch(text):
            raise invalid_value(param, text, "expected a number")
        return float(text)
    if kind == "boolean":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise invalid_value(param, text, "expected true or false")
        return lowered == "true"
    if kind == "timestamp":
        return _timestamp_from_text(shape, text, param)
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise invalid_value(param, text, "expected base64") from None
    raise invalid_value(param, text, f"a {kind} cannot be given as a form parameter")


def _timestamp_format(shape: Shape) -> str:
    return shape.serialization.get("timestampFormat", DEFAULT_TIMESTAMP_FORMAT).lower()


def _timestamp_from_text(shape: Shape, text: str, param: str) -> dt.datetime:
    fmt = _timestamp_format(shape)
    try:
        if fmt == "unixtimestamp":
            if not _FLOAT.fullmatch(text):
                raise ValueError(text)
            return dt.datetime.fromtimestamp(float(text), dt.UTC)
        when = parsedate_to_datetime(text) if fmt == "rfc822" else dt.datetime.fromisoformat(text)
    except (ValueError, TypeError, OverflowError, OSError):
        raise invalid_value(param, text, f"expected a timestamp in {fmt} format") from None
    # A timestamp without a zone is UTC, as AWS reads it; handlers get UTC either way.
    return when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)


def to_text(shape: Shape, value: Any) -> str:
    """The XML text of a scalar member of a response."""
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("integer", "long"):
        return str(int(value))
    if kind in ("float", "double"):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return repr(number)
    if kind == "timestamp":
        return timestamp_text(as_datetime(value), _timestamp_format(shape))
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode()
    return str(value)


def as_datetime(value: Any) -> dt.datetime:
    """Handlers may hand back datetimes, epoch seconds or ISO 8601 strings."""
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, (int, float)):
        when = dt.datetime.fromtimestamp(value, dt.UTC)
    else:
        when = dt.datetime.fromisoformat(str(value))
    return when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)


def timestamp_text(when: dt.datetime, fmt: str = DEFAULT_TIMESTAMP_FORMAT) -> str:
    """AWS writes ISO 8601 in UTC with milliseconds only when there are any
    (IAM's CreateDate 2012-09-21T23:03:13Z, STS's Expiration 2011-07-15T23:28:33.359Z)."""
    if fmt == "unixtimestamp":
        seconds = when.timestamp()
        return str(int(seconds)) if seconds.is_integer() else f"{seconds:.3f}"
    if fmt == "rfc822":
        return format_datetime(when, usegmt=True)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond // 1000:03d}"
    return text + "Z"
