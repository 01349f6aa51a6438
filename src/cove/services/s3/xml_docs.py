"""XML as S3 speaks it: response documents, error bodies, and parsing request bodies."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from email.utils import formatdate

from cove.errors import AwsError

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"

# A document is a tree of (tag, value) pairs; a list value nests, None is left out.
Value = str | int | bool | float | None | Sequence["Node"]
Node = tuple[str, Value]


def render(
    root: str, children: Sequence[Node], namespace: bool = True, text: str | None = None
) -> bytes:
    elem = ET.Element(root, {"xmlns": S3_NS} if namespace else {})
    elem.text = text
    _fill(elem, children)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(elem, encoding="utf-8")


def _fill(parent: ET.Element, children: Sequence[Node]) -> None:
    for tag, value in children:
        if value is None:
            continue
        child = ET.SubElement(parent, tag)
        if isinstance(value, bool):
            child.text = "true" if value else "false"
        elif isinstance(value, str | int):
            child.text = str(value)
        elif isinstance(value, float):
            child.text = iso8601(value)
        else:
            _fill(child, value)


def iso8601(timestamp: float) -> str:
    """S3's XML timestamps: 2009-10-12T17:50:30.000Z."""
    when = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def http_date(timestamp: float) -> str:
    """HTTP headers' dates (Last-Modified): Mon, 12 Oct 2009 17:50:30 GMT."""
    return formatdate(int(timestamp), usegmt=True)


def error_body(err: AwsError, request_id: str) -> bytes:
    fields: list[Node] = [("Code", err.code), ("Message", err.message)]
    fields += [(name, str(value)) for name, value in err.fields.items()]
    fields += [("RequestId", request_id), ("HostId", request_id)]
    return render("Error", fields, namespace=False)


def malformed_xml() -> AwsError:
    return AwsError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published "
        "schema",
    )


def parse(body: bytes) -> ET.Element:
    """The request document with namespaces dropped, so lookups can use plain tag names."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise malformed_xml() from exc
    for elem in root.iter():
        if isinstance(elem.tag, str) and "}" in elem.tag:
            elem.tag = elem.tag.split("}", 1)[1]
    return root


def text(elem: ET.Element, tag: str) -> str | None:
    child = elem.find(tag)
    return None if child is None else (child.text or "")
