"""rest-json and rest-xml: a routed request as its operation's input, an output as a response.

Each member's `location` says where it travels (botocore's BaseRestSerializer and
BaseRestParser are the client this mirrors):

- `uri`: a template label (already matched and percent-decoded by rest_routes);
- `querystring`: a scalar, a list as repeated keys, or a map of every key no other
  member and no template literal claims (API Gateway's ImportRestApi `parameters`);
- `header`: a scalar (timestamps RFC 7231 unless timestampFormat says otherwise, JSON
  for jsonvalue members, base64-encoded), a list comma-separated;
- `headers`: a map of every header with the member's prefix (S3's `x-amz-meta-`);
- `statusCode` (outputs only): the HTTP status;
- none: the body. An input or output shape naming a `payload` member sends that member
  as the whole body, raw for a blob or string, as a JSON document (rest-json) or an XML
  element (rest-xml) for a structure; without one, the location-less members together
  are the body: a JSON object, or the shape's XML root element.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.model import OperationModel, Shape

from cove.errors import AwsError
from cove.http.messages import Response
from cove.protocol import rest_json, rest_xml
from cove.protocol.rest_routes import literal_query
from cove.protocol.rest_scalars import (
    HEADER_FORMAT,
    QUERY_FORMAT,
    WireValueError,
    from_text,
    join_header_list,
    split_header_list,
    to_text,
)

JSON_TYPE = "application/json"
XML_TYPE = "application/xml"
RAW_TYPE = "application/octet-stream"
# Query authentication (presigned URLs) is the gateway's, never an operation's member.
SIGV4_QUERY = frozenset({
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
})


def protocol_of(operation: OperationModel) -> str:
    protocol = operation.service_model.protocol
    if protocol not in ("rest-json", "rest-xml"):
        raise ValueError(f"{operation.name} speaks {protocol}, not a rest protocol")
    return protocol


def body_members(shape: Shape) -> list[str]:
    """Members that travel in the body: those bound to no URI, query, header or status."""
    return [n for n, m in shape.members.items() if "location" not in m.serialization]


def malformed(protocol: str, message: str, *, xml_body: bool = False) -> AwsError:
    """What a request the wire cannot decode is answered with: S3's MalformedXML or
    InvalidArgument for rest-xml, SerializationException for rest-json (Smithy's
    client-side name for it, which botocore maps to a modeled error where one exists)."""
    if protocol == "rest-xml":
        if xml_body:
            return AwsError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                f"published schema: {message}",
            )
        return AwsError("InvalidArgument", message)
    return AwsError("SerializationException", message)


# -- requests -----------------------------------------------------------------------------


def parse_request(
    operation: OperationModel,
    labels: Mapping[str, str],
    query: Mapping[str, Sequence[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    """The input dict of `operation` (blobs as bytes, timestamps as aware datetimes).

    `labels` from rest_routes.RouteMatch, `query` as rest_routes.parse_query gives it,
    `headers` by name (any case). AwsError (the protocol's own code) for values the wire
    form cannot carry, e.g. `abc` for an integer header."""
    protocol = protocol_of(operation)
    shape = operation.input_shape
    if shape is None:
        return {}
    lowered = {name.lower(): value for name, value in headers.items()}
    params: dict[str, Any] = {}
    template_query = operation.http["requestUri"].partition("?")[2]
    claimed = {key for key, _ in literal_query(template_query)} | SIGV4_QUERY
    query_map: str | None = None
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        try:
            if location == "uri":
                if wire in labels:
                    params[name] = from_text(member, labels[wire], QUERY_FORMAT)
            elif location == "querystring":
                if member.type_name == "map":
                    query_map = name  # takes what is left, once every other member took its own
                    continue
                claimed.add(wire)
                if wire in query:
                    params[name] = _query_value(member, query[wire])
            elif location == "header":
                if wire.lower() in lowered:
                    params[name] = _header_value(member, lowered[wire.lower()])
            elif location == "headers":
                prefixed = _prefixed(lowered, wire.lower())
                if prefixed:
                    params[name] = prefixed
        except WireValueError as exc:
            raise malformed(protocol, f"{wire}: {exc}") from None
    if query_map is not None:
        extra = {k: v for k, v in query.items() if k not in claimed}
        if extra:
            map_shape = shape.members[query_map]
            # a map of lists takes every value of a repeated key, a map of strings the first
            listed = map_shape.value.type_name == "list"
            params[query_map] = {k: list(v) if listed else v[0] for k, v in extra.items()}
    params.update(_parse_body(protocol, shape, body))
    return params


def _query_value(member: Shape, values: Sequence[str]) -> Any:
    if member.type_name == "list":
        return [from_text(member.member, v, QUERY_FORMAT) for v in values]
    return from_text(member, values[0], QUERY_FORMAT)


def _header_value(member: Shape, text: str) -> Any:
    if member.type_name == "list":
        return [from_text(member.member, v, HEADER_FORMAT) for v in split_header_list(text)]
    return from_text(member, text, HEADER_FORMAT)


def _prefixed(headers: Mapping[str, str], prefix: str) -> dict[str, str]:
    # Names arrive lower-cased (HTTP names are case-insensitive; S3 stores metadata keys
    # lower-cased for the same reason).
    return {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}


def _parse_body(protocol: str, shape: Shape, body: bytes) -> dict[str, Any]:
    payload = shape.serialization.get("payload")
    if payload is not None:
        member = shape.members[payload]
        if not body:
            return {}
        if member.type_name == "blob":
            return {payload: body}
        if member.type_name == "string":
            try:
                return {payload: body.decode("utf-8")}
            except UnicodeDecodeError:
                raise malformed(protocol, "the body is not UTF-8 text") from None
        return {payload: _decode(protocol, member, body, list(member.members))}
    names = body_members(shape)
    if not names or not body:
        return {}
    return _decode(protocol, shape, body, names)


def _decode(protocol: str, shape: Shape, body: bytes, names: list[str]) -> dict[str, Any]:
    if protocol == "rest-json":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth
            raise malformed(protocol, "the body is not a JSON document") from None
        try:
            return rest_json.load_members(shape, data, names)
        except WireValueError as exc:
            raise malformed(protocol, str(exc)) from None
    try:
        return rest_xml.load_members(shape, rest_xml.parse_document(body), names)
    except (WireValueError, RecursionError) as exc:
        raise malformed(protocol, str(exc), xml_body=True) from None


# -- responses ----------------------------------------------------------------------------


def serialize_response(
    operation: OperationModel,
    output: Mapping[str, Any] | None,
    request_id: str = "",
    *,
    root: str | None = None,
    namespace: str | None = None,
) -> Response:
    """`output` of `operation` as the response botocore parses back into it: the status
    from a statusCode member, else the operation's responseCode (200 without one).

    For rest-xml bodies without a payload member the model names no root element; S3's
    (ListAllMyBucketsResult, ListBucketResult, ...) is the caller's to give as `root`,
    else `<Operation>Result`. `namespace` is the root's xmlns when the shape has none."""
    protocol = protocol_of(operation)
    shape = operation.output_shape
    value = dict(output or {})
    status = int(operation.http.get("responseCode", 200))
    headers: list[tuple[str, str]] = []
    body, content_type = b"", None
    if shape is not None:
        for name, member in shape.members.items():
            item = value.get(name)
            location = member.serialization.get("location")
            if item is None or location is None:
                continue
            wire = member.serialization.get("name", name)
            if location == "statusCode":
                status = int(item)
            elif location == "header":
                if member.type_name == "list":
                    if item:  # an empty list is no header at all (botocore sends none either)
                        texts = [to_text(member.member, v, HEADER_FORMAT) for v in item]
                        headers.append((wire, join_header_list(texts)))
                else:
                    headers.append((wire, to_text(member, item, HEADER_FORMAT)))
            elif location == "headers":
                headers.extend((wire + str(k), str(v)) for k, v in item.items())
        root = root or f"{operation.name}Result"
        body, content_type = _encode_body(protocol, shape, value, root, namespace)
    if body and content_type and not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", content_type))
    if request_id:
        # rest-json services answer with x-amzn-RequestId, S3 with x-amz-request-id (and
        # x-amz-id-2); botocore reads either (BaseRestParser._populate_response_metadata).
        if protocol == "rest-json":
            headers.append(("x-amzn-RequestId", request_id))
        else:
            headers += [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
    return Response(status, headers, body)


def _encode_body(
    protocol: str, shape: Shape, value: dict[str, Any], root: str, namespace: str | None
) -> tuple[bytes, str | None]:
    payload = shape.serialization.get("payload")
    if payload is not None:
        member = shape.members[payload]
        item = value.get(payload)
        if item is None:
            return b"", None
        if member.type_name == "blob":
            return (item.encode() if isinstance(item, str) else bytes(item)), RAW_TYPE
        if member.type_name == "string":
            return item.encode("utf-8"), None  # its type is the ContentType member's, if any
        if protocol == "rest-json":
            return json.dumps(rest_json.dump(member, item)).encode(), JSON_TYPE
        tag = member.serialization.get("name", payload)
        return rest_xml.payload_document(member, item, tag, namespace), XML_TYPE
    names = body_members(shape)
    if not names:
        return b"", None
    if protocol == "rest-json":
        # `{}` even when every body member is absent, as AWS's rest-json services answer
        return json.dumps(rest_json.dump_members(shape, value, names)).encode(), JSON_TYPE
    if all(value.get(n) is None for n in names):
        return b"", None
    tag = shape.serialization.get("name", root)
    return rest_xml.document(shape, value, tag, names, namespace), XML_TYPE
