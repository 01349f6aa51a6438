"""Scalar values as text on the rest protocols' wire: URI labels, query values, headers and
XML text, and timestamps in the model's three formats.

The rules are the client's, botocore's: what BaseRestSerializer sends
(`_get_uri_and_query_string_value`, `_convert_header_value`) and what BaseRestParser,
RestJSONParser and BaseXMLResponseParser read back (`_handle_boolean`, `_handle_string`
with the jsonvalue trait, `parse_timestamp`). One module, so a header, a query value and
an XML element agree on what `true`, `1.5` or a date look like.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import re
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from botocore.model import Shape

ISO8601 = "iso8601"
RFC822 = "rfc822"  # RFC 7231's IMF-fixdate, as botocore's formatdate(usegmt=True) writes it
EPOCH = "unixtimestamp"

# Smithy's default timestampFormat per place (botocore: BaseRestSerializer's
# HEADER_TIMESTAMP_FORMAT / QUERY_STRING_TIMESTAMP_FORMAT, the serializers' TIMESTAMP_FORMAT).
HEADER_FORMAT = RFC822
QUERY_FORMAT = ISO8601
XML_FORMAT = ISO8601
JSON_FORMAT = EPOCH


class WireValueError(ValueError):
    """Text that is not a value of its shape (the caller turns it into the protocol's error)."""


def timestamp_format(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("timestampFormat", default)).lower()


def to_datetime(value: Any) -> dt.datetime:
    """A caller's timestamp (aware or naive datetime, epoch seconds, ISO text) in UTC."""
    if isinstance(value, dt.datetime):
        return _utc(value)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, str):
        return parse_timestamp(value, ISO8601)
    raise TypeError(f"not a timestamp: {value!r}")


def _utc(when: dt.datetime) -> dt.datetime:
    """Aware, in UTC; a naive time is taken to be UTC already (AWS sends no local times)."""
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def format_timestamp(value: Any, fmt: str, *, millis: bool = False) -> str | int | float:
    """`value` in `fmt`: epoch seconds as a number (whole seconds as an int, as botocore
    sends them), ISO 8601 in UTC with milliseconds only when there are any (or always,
    with `millis`), IMF-fixdate."""
    when = to_datetime(value)
    if fmt == EPOCH:
        seconds = int(when.timestamp())
        return seconds if not when.microsecond else round(when.timestamp(), 3)
    if fmt == RFC822:
        return format_datetime(when.replace(microsecond=0), usegmt=True)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond or millis:
        text += f".{when.microsecond // 1000:03d}"
    return text + "Z"


_FRACTION = re.compile(r"(\.\d{6})\d+")
_INTEGER = re.compile(r"-?[0-9]+")


def parse_timestamp(text: str | int | float, fmt: str) -> dt.datetime:
    """A timestamp in `fmt`, tolerating the other two formats as botocore's own
    `parse_timestamp` does: a client that sends the wrong one is still understood."""
    if isinstance(text, bool):
        raise WireValueError(f"not a timestamp: {text!r}")
    if isinstance(text, int | float):
        return _from_epoch(float(text))
    order = {EPOCH: (EPOCH, ISO8601, RFC822), RFC822: (RFC822, ISO8601, EPOCH)}
    for candidate in order.get(fmt, (ISO8601, RFC822, EPOCH)):
        try:
            if candidate == EPOCH:
                return _from_epoch(float(text))
            if candidate == RFC822:
                return _utc(parsedate_to_datetime(text))
            # fromisoformat takes at most microseconds; some clients send nanoseconds.
            return _utc(dt.datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip())))
        except (ValueError, TypeError, OverflowError, IndexError):
            continue
    raise WireValueError(f"not a timestamp: {text!r}")


def _from_epoch(seconds: float) -> dt.datetime:
    if not math.isfinite(seconds):
        raise WireValueError(f"not a timestamp: {seconds!r}")
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise WireValueError(f"timestamp out of range: {seconds!r}") from None


def format_float(value: float) -> str | float:
    """JSON has no NaN or infinities: Smithy (and botocore's `_handle_float`) spell them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def is_json_value(shape: Shape) -> bool:
    """The jsonvalue trait: a header that carries JSON, base64-encoded (botocore's
    `is_json_value_header`)."""
    return (
        shape.type_name == "string"
        and bool(shape.serialization.get("jsonvalue"))
        and shape.serialization.get("location") == "header"
    )


def to_text(shape: Shape, value: Any, ts_default: str) -> str:
    """A scalar as it is written in a URI, query, header or XML element."""
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return str(format_timestamp(value, timestamp_format(shape, ts_default)))
    if kind in ("float", "double"):
        return str(format_float(float(value)))
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode()
    if is_json_value(shape):
        encoded = json.dumps(value, separators=(",", ":")).encode()
        return base64.b64encode(encoded).decode()
    return str(value)


def from_text(shape: Shape, text: str, ts_default: str) -> Any:
    """The scalar `text` writes, typed by `shape`; WireValueError if it writes none."""
    kind = shape.type_name
    try:
        if kind == "boolean":
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise WireValueError(f"not a boolean: {text!r}")
            return lowered == "true"
        if kind in ("integer", "long"):
            # as botocore writes them: Python's int() would also take "+1", " 1", "1_000", "١"
            if not _INTEGER.fullmatch(text):
                raise WireValueError(f"not an integer: {text[:64]!r}")
            return int(text)
        if kind in ("float", "double"):
            return float(text.strip())
        if kind == "timestamp":
            return parse_timestamp(text, timestamp_format(shape, ts_default))
        if kind == "blob":
            return base64.b64decode(text, validate=True)
        if is_json_value(shape):
            return json.loads(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, RecursionError) as exc:
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors too
        raise WireValueError(f"not a {kind}: {text[:64]!r}") from exc
    return text


def split_header_list(text: str) -> list[str]:
    """A list header's items: comma-separated, an item with a comma or quote in double
    quotes with backslash escapes (RFC 7230 section 7 and 3.2.6), as botocore's
    `_escape_header_list_string` writes them."""
    items: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            chars: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and text[i + 1 : i + 2] == '"':
                    i += 1  # botocore escapes only quotes
                chars.append(text[i])
                i += 1
            item = "".join(chars)
            i = text.find(",", i)
            i = n if i < 0 else i
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            item = text[i:end].strip()
            i = end
        items.append(item)
        i += 1  # past the comma
    return items


def join_header_list(items: list[str]) -> str:
    """The inverse of `split_header_list`. botocore's parser splits on every comma without
    unquoting, so items are quoted only when they must be."""
    out = []
    for item in items:
        if "," in item or '"' in item:
            item = '"' + item.replace('"', '\\"') + '"'
        out.append(item)
    return ",".join(out)
