"""Response data as XML laid out by an output shape, shared by the query and ec2
protocols, for botocore's QueryParser and EC2QueryParser (which read bodies alike).

A member is an element named by its locationName (else its member name); a list is an
element holding one element per item (`member` for query, `item` for ec2, unless the
list's member has a locationName), or with `flattened` the items repeated in place under
the member's locationName; a map holds `entry` elements of `key` and `value` (or its
flattened entries repeated in place), those two renamed by their locationName.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from cove.protocol.query_scalars import to_text

CONTENT_TYPE = "text/xml"
# Members bound to HTTP headers or the status line are not part of the body; botocore's
# XML parsers skip them the same way.
_NOT_IN_BODY = frozenset({"header", "headers", "statusCode"})


def namespace(metadata: Mapping[str, Any]) -> str:
    """The model's xmlNamespace, ending in `/` as AWS's documents do (EC2's model omits it)."""
    ns = metadata.get("xmlNamespace") or (
        f"https://{metadata['endpointPrefix']}.amazonaws.com/doc/{metadata['apiVersion']}/"
    )
    return ns if ns.endswith("/") else ns + "/"


def to_bytes(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def text_element(parent: ET.Element, tag: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = text
    return child


def member_tag(name: str, shape: Shape) -> str:
    """The element of structure member `name`; a flattened list's items take the name of
    the list's member (botocore's BaseXMLResponseParser._member_key_name)."""
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        assert isinstance(shape, ListShape)
        item_name = shape.member.serialization.get("name")
        if item_name:
            return item_name
    return shape.serialization.get("name", name)


class XmlWriter:
    """Writes values into elements after their shapes; `item_tag` names list items whose
    member has no locationName."""

    def __init__(self, item_tag: str) -> None:
        self.item_tag = item_tag

    def fill(self, parent: ET.Element, shape: StructureShape, value: Mapping[str, Any]) -> None:
        """The members of structure `value` as children of `parent`; keys the shape does not
        declare are left out."""
        for name, member in shape.members.items():
            item = value.get(name)
            if item is None or member.serialization.get("location") in _NOT_IN_BODY:
                continue
            self.write(parent, member_tag(name, member), member, item)

    def write(self, parent: ET.Element, tag: str, shape: Shape, value: Any) -> None:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            self.fill(ET.SubElement(parent, tag), shape, value)
        elif kind == "list":
            assert isinstance(shape, ListShape)
            self._list(parent, tag, shape, value)
        elif kind == "map":
            assert isinstance(shape, MapShape)
            self._map(parent, tag, shape, value)
        else:
            text_element(parent, tag, to_text(shape, value))

    def _list(self, parent: ET.Element, tag: str, shape: ListShape, value: Any) -> None:
        items = [item for item in value if item is not None]
        if shape.serialization.get("flattened"):
            for item in items:
                self.write(parent, tag, shape.member, item)
            return
        holder = ET.SubElement(parent, tag)
        item_tag = shape.member.serialization.get("name", self.item_tag)
        for item in items:
            self.write(holder, item_tag, shape.member, item)

    def _map(self, parent: ET.Element, tag: str, shape: MapShape, value: Any) -> None:
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        flattened = shape.serialization.get("flattened")
        holder = parent if flattened else ET.SubElement(parent, tag)
        for key, item in value.items():
            if item is None:
                continue
            entry = ET.SubElement(holder, tag if flattened else "entry")
            self.write(entry, key_tag, shape.key, key)
            self.write(entry, value_tag, shape.value, item)
