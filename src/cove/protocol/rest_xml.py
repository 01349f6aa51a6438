"""rest-xml bodies: a shape's value to and from an XML element tree.

Reading mirrors what botocore's RestXMLSerializer writes and writing what its
BaseXMLResponseParser reads: members as child elements under their `locationName`;
lists wrapped (items named by the member's locationName, else `member`) or `flattened`
(each item an element of the list's own name); maps as `entry`/`key`/`value` (or the
key's and value's locationNames), flattened maps without the wrapper; `xmlAttribute`
members as attributes; `xmlNamespace` as an `xmlns` attribute. Namespaces are ignored
when reading, as botocore's parser ignores them (`_node_tag`).

A structure is written in the order of the dict it is given, as botocore's
RestXMLSerializer writes it, and its timestamps in ISO 8601 with milliseconds, as the
rest-xml services write them (`2009-10-12T17:50:30.000Z` throughout the S3 API
reference); botocore reads them with or without.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection
from typing import Any

from botocore.model import Shape

from cove.protocol.rest_scalars import (
    ISO8601,
    XML_FORMAT,
    WireValueError,
    format_timestamp,
    from_text,
    timestamp_format,
    to_text,
)

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def local_name(tag: str) -> str:
    """`{namespace}Name` or `prefix:Name` -> `Name`."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def member_tag(member: Shape, name: str) -> str:
    """The element a structure member is written as. A flattened list's items carry the
    list member's locationName when it has one (botocore's `_member_key_name`)."""
    if member.type_name == "list" and member.serialization.get("flattened"):
        item_name = member.member.serialization.get("name")
        if item_name:
            return item_name
    return member.serialization.get("name", name)


# -- writing ------------------------------------------------------------------------------


def document(
    shape: Shape,
    value: dict[str, Any],
    root: str,
    names: Collection[str],
    namespace: str | None = None,
) -> bytes:
    """A whole body: element `root` holding members `names` of structure `value`."""
    elem = ET.Element(root)
    _add_namespace(shape, elem)
    if namespace and "xmlns" not in elem.attrib:
        elem.set("xmlns", namespace)
    _fill(elem, shape, value, names)
    return DECLARATION + ET.tostring(elem, encoding="utf-8")


def payload_document(shape: Shape, value: Any, root: str, namespace: str | None = None) -> bytes:
    """A structure payload member as the whole body."""
    return document(shape, value, root, shape.members, namespace)


def _add_namespace(shape: Shape, elem: ET.Element) -> None:
    ns = shape.serialization.get("xmlNamespace")
    if isinstance(ns, dict):
        prefix = ns.get("prefix")
        elem.set(f"xmlns:{prefix}" if prefix else "xmlns", ns["uri"])
    elif isinstance(ns, str):
        elem.set("xmlns", ns)


def _fill(elem: ET.Element, shape: Shape, value: dict[str, Any], names: Collection[str]) -> None:
    members = shape.members
    for name, item in value.items():
        member = members.get(name)
        if member is None:
            raise ValueError(f"{shape.name} has no member {name}")
        if item is None or name not in names:
            continue
        if member.serialization.get("xmlAttribute"):
            # written under its qualified name (`xsi:type`); the prefix is declared by the
            # structure's own xmlNamespace, as botocore does it
            elem.set(member.serialization["name"], to_text(member, item, XML_FORMAT))
        else:
            _write(elem, member, item, member_tag(member, name))


def _write(parent: ET.Element, shape: Shape, value: Any, tag: str) -> None:
    kind = shape.type_name
    if kind == "list":
        flat = bool(shape.serialization.get("flattened"))
        holder = parent if flat else ET.SubElement(parent, tag)
        if not flat:
            _add_namespace(shape, holder)
        item_tag = tag if flat else shape.member.serialization.get("name", "member")
        for item in value:
            _write(holder, shape.member, item, item_tag)
        return
    if kind == "map":
        flat = bool(shape.serialization.get("flattened"))
        holder = parent if flat else ET.SubElement(parent, tag)
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        for key, item in value.items():
            entry = ET.SubElement(holder, tag if flat else "entry")
            _write(entry, shape.key, key, key_tag)
            _write(entry, shape.value, item, value_tag)
        return
    elem = ET.SubElement(parent, tag)
    _add_namespace(shape, elem)
    if kind == "structure":
        _fill(elem, shape, value, shape.members)
    elif kind == "timestamp" and timestamp_format(shape, XML_FORMAT) == ISO8601:
        elem.text = str(format_timestamp(value, ISO8601, millis=True))
    else:
        elem.text = to_text(shape, value, XML_FORMAT)


# -- reading ------------------------------------------------------------------------------


def parse_document(body: bytes) -> ET.Element:
    """The root element of a request body. DTDs are refused: no AWS body has one, and
    entity expansion is how XML bodies are made to explode."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise WireValueError("XML documents with a DTD are not accepted")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise WireValueError(f"not well-formed XML: {exc}") from None


def load_members(shape: Shape, elem: ET.Element, names: list[str]) -> dict[str, Any]:
    """Members `names` of structure `shape` from the children (and attributes) of `elem`;
    elements the model does not know are ignored, as AWS ignores them."""
    children: dict[str, list[ET.Element]] = {}
    for child in elem:
        if isinstance(child.tag, str):  # not a comment or processing instruction
            children.setdefault(local_name(child.tag), []).append(child)
    members = shape.members
    out: dict[str, Any] = {}
    for name in names:
        member = members[name]
        if member.serialization.get("xmlAttribute"):
            text = _attribute(elem, member.serialization["name"])
            if text is not None:
                out[name] = from_text(member, text, XML_FORMAT)
            continue
        nodes = children.get(member_tag(member, name))
        if not nodes:
            continue
        flat = member.serialization.get("flattened")
        if member.type_name == "list" and flat:
            out[name] = [load(member.member, node) for node in nodes]
        elif member.type_name == "map" and flat:
            out[name] = _load_entries(member, nodes)
        else:
            out[name] = load(member, nodes[0])
    return out


def load(shape: Shape, elem: ET.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return load_members(shape, elem, list(shape.members))
    if kind == "list":
        return [load(shape.member, item) for item in elem if isinstance(item.tag, str)]
    if kind == "map":
        return _load_entries(shape, [e for e in elem if isinstance(e.tag, str)])
    return from_text(shape, elem.text or "", XML_FORMAT)


def _load_entries(shape: Shape, entries: list[ET.Element]) -> dict[Any, Any]:
    key_tag = shape.key.serialization.get("name", "key")
    value_tag = shape.value.serialization.get("name", "value")
    out: dict[Any, Any] = {}
    for entry in entries:
        key_node = value_node = None
        for part in entry:
            if not isinstance(part.tag, str):
                continue
            tag = local_name(part.tag)
            if tag == key_tag:
                key_node = part
            elif tag == value_tag:
                value_node = part
        if key_node is None or value_node is None:
            raise WireValueError(f"a map entry needs <{key_tag}> and <{value_tag}>")
        out[load(shape.key, key_node)] = load(shape.value, value_node)
    return out


def _attribute(elem: ET.Element, qualified: str) -> str | None:
    """An attribute by its qualified model name (`xsi:type`), which the parser reports as
    `{namespace-uri}type`."""
    if qualified in elem.attrib:
        return elem.attrib[qualified]
    wanted = local_name(qualified)
    for key, value in elem.attrib.items():
        if local_name(key) == wanted:
            return value
    return None
