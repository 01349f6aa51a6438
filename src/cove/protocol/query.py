"""The query protocol (IAM, STS): form-encoded requests, XML responses.

Requests carry `Action`, `Version` and the input flattened into dotted names: a member by
its locationName (else its name), list items as `Name.member.N` (the list member's
locationName replacing `member`), flattened lists as `Name.N` (named by the list
member's locationName when it has one), maps as `Name.entry.N.key` / `.value`.
Responses are `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from botocore.model import ListShape, OperationModel, ServiceModel, Shape

from cove.errors import AwsError
from cove.protocol.query_form import FormReader
from cove.protocol.xml_shapes import XmlWriter, namespace, text_element, to_bytes


class QueryReader(FormReader):
    def wire_name(self, shape: Shape, default: str) -> str:
        return shape.serialization.get("name", default)

    def member_key(self, name: str, shape: Shape) -> str:
        # botocore's QuerySerializer names a flattened list after its member's
        # locationName when that has one (`Foo.1` becomes `Bar.1`).
        if shape.type_name == "list" and shape.serialization.get("flattened"):
            assert isinstance(shape, ListShape)
            item_name = shape.member.serialization.get("name")
            if item_name:
                return item_name
        return self.wire_name(shape, name)

    def list_item_key(self, shape: ListShape) -> str | None:
        if shape.serialization.get("flattened"):
            return None
        return shape.member.serialization.get("name", "member")

    def unknown_parameter(self, param: str) -> AwsError:
        # "The AWS query string is malformed or does not adhere to AWS standards" (Common
        # Errors); query services word it "The query parameter X is invalid".
        return AwsError("InvalidQueryParameter", f"The query parameter {param} is invalid.")


_READER = QueryReader()
_WRITER = XmlWriter(item_tag="member")


parse_request = _READER.parse_request


def response_body(
    operation: OperationModel, output: Mapping[str, Any] | None, request_id: str
) -> bytes:
    root = ET.Element(
        f"{operation.name}Response", xmlns=namespace(operation.service_model.metadata)
    )
    shape = operation.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper")
        _WRITER.fill(ET.SubElement(root, wrapper) if wrapper else root, shape, output or {})
    metadata = ET.SubElement(root, "ResponseMetadata")
    text_element(metadata, "RequestId", request_id)
    return to_bytes(root)


def error_body(err: AwsError, request_id: str, model: ServiceModel) -> bytes:
    """`<ErrorResponse><Error><Type>Sender|Receiver</Type><Code/><Message/></Error>
    <RequestId/></ErrorResponse>`; the error's extra fields go into <Error>."""
    root = ET.Element("ErrorResponse", xmlns=namespace(model.metadata))
    error = ET.SubElement(root, "Error")
    text_element(error, "Type", "Sender" if err.sender_fault else "Receiver")
    text_element(error, "Code", err.code)
    text_element(error, "Message", err.message)
    for name, value in err.fields.items():
        text_element(error, name, str(value))
    text_element(root, "RequestId", request_id)
    return to_bytes(root)
