"""The ec2 protocol: the query protocol's form requests with EC2's naming, and XML
responses without a result wrapper.

Request names come from a member's queryName, else its locationName capitalized, else
its name (botocore's EC2Serializer); every list is `Name.N`, whatever `flattened` says,
and an empty list is not sent at all. Responses put the members straight into
`<ActionResponse>` after a `<requestId>`, list items as `<item>` unless named otherwise.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from botocore.model import ListShape, OperationModel, Shape

from cove.errors import AwsError
from cove.protocol.query_form import FormReader
from cove.protocol.xml_shapes import XmlWriter, namespace, text_element, to_bytes


class Ec2Reader(FormReader):
    def wire_name(self, shape: Shape, default: str) -> str:
        if "queryName" in shape.serialization:
            return shape.serialization["queryName"]
        name = shape.serialization.get("name")
        return name[:1].upper() + name[1:] if name else default

    def list_item_key(self, shape: ListShape) -> str | None:
        return None

    def unknown_parameter(self, param: str) -> AwsError:
        # What EC2 itself answers: UnknownParameter, "The parameter X is not recognized".
        return AwsError("UnknownParameter", f"The parameter {param} is not recognized")


_READER = Ec2Reader()
_WRITER = XmlWriter(item_tag="item")


parse_request = _READER.parse_request


def response_body(
    operation: OperationModel, output: Mapping[str, Any] | None, request_id: str
) -> bytes:
    root = ET.Element(
        f"{operation.name}Response", xmlns=namespace(operation.service_model.metadata)
    )
    text_element(root, "requestId", request_id)
    shape = operation.output_shape
    if shape is not None:
        _WRITER.fill(root, shape, output or {})
    return to_bytes(root)


def error_body(err: AwsError, request_id: str) -> bytes:
    """`<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`:
    EC2's error document has no namespace and spells RequestID in capitals."""
    root = ET.Element("Response")
    error = ET.SubElement(ET.SubElement(root, "Errors"), "Error")
    text_element(error, "Code", err.code)
    text_element(error, "Message", err.message)
    for name, value in err.fields.items():
        text_element(error, name, str(value))
    text_element(root, "RequestID", request_id)
    return to_bytes(root)
