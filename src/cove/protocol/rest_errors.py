"""Error responses of the rest protocols, shaped the way botocore's parsers read them.

rest-json (RestJSONParser._do_error_parse / _inject_error_code): the code in the
`x-amzn-ErrorType` header (botocore prefers it; `__type` in the body is the fallback it
shares with json 1.1), the message under `message` or `Message`. Where the model has
the error's shape, its members go where the shape puts them (a header such as Lambda's
`Retry-After`, or a body key), and the message under the shape's own spelling (Lambda and
SageMaker Runtime model `Message`, API Gateway `message`).

rest-xml (RestXMLParser._parse_error_from_body): S3's `<Error><Code/><Message/>...
<RequestId/><HostId/></Error>` with the request id in `x-amz-request-id` too, see
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html. A HEAD response has
no body, so the client sees the status alone (botocore then takes the status as the code).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from botocore.model import ServiceModel, Shape

from cove.errors import AwsError
from cove.http.messages import Response
from cove.protocol import rest_json
from cove.protocol.rest_scalars import HEADER_FORMAT, to_text
from cove.protocol.rest_xml import DECLARATION


def error_response(
    service: ServiceModel, err: AwsError, request_id: str, *, method: str = ""
) -> Response:
    if service.protocol == "rest-json":
        return _json_error(service.shape_for_error_code(err.code), err, request_id)
    if service.protocol == "rest-xml":
        return _xml_error(err, request_id, head=method.upper() == "HEAD")
    raise ValueError(f"{service.service_name} speaks {service.protocol}, not a rest protocol")


def _message_key(shape: Shape | None) -> str:
    if shape is not None:
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if wire.lower() == "message" and "location" not in member.serialization:
                return wire
    return "message"


def _json_error(shape: Shape | None, err: AwsError, request_id: str) -> Response:
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", err.code),
    ]
    body: dict[str, Any] = {"__type": err.code}
    members = shape.members if shape is not None else {}
    for key, value in err.fields.items():
        member = members.get(key)
        if member is None:  # a field the model does not declare travels as it is
            body[key] = value
            continue
        wire = member.serialization.get("name", key)
        location = member.serialization.get("location")
        if location == "header":
            headers.append((wire, to_text(member, value, HEADER_FORMAT)))
        elif location is None:
            body[wire] = rest_json.dump(member, value)
    body[_message_key(shape)] = err.message
    headers.extend(err.headers.items())
    return Response(err.status, headers, json.dumps(body).encode())


def _xml_error(err: AwsError, request_id: str, head: bool) -> Response:
    headers = [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
    headers.extend(err.headers.items())
    if head:
        return Response(err.status, headers, b"", content_length=0)
    root = ET.Element("Error")
    fields: list[tuple[str, Any]] = [("Code", err.code), ("Message", err.message)]
    fields += list(err.fields.items())
    fields += [("RequestId", request_id), ("HostId", request_id)]
    for tag, value in fields:
        ET.SubElement(root, tag).text = _text(value)
    headers.append(("Content-Type", "application/xml"))
    return Response(err.status, headers, DECLARATION + ET.tostring(root, encoding="utf-8"))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
