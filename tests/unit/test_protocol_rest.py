"""The rest protocols against botocore itself, for every operation of Lambda, API Gateway,
S3 and SageMaker Runtime.

Requests: an example input (every member filled, tests/unit/shape_examples.py) is
serialized by botocore's own serializer and put on a URL the way botocore does it
(`prepare_request_dict`: the template's `?literal` first, then the percent-encoded
query), routed by cove.protocol.rest_routes and parsed by cove.protocol.rest; the input
must come back. S3 is taken path-style, as botocore.serialize alone writes it: the
endpoint rules that move the bucket into the host name are the client's, not the wire
protocol's.

Responses: an example output is serialized by cove.protocol.rest and parsed by botocore's
parser; the output must come back. Errors: botocore must read Code and Message (and a
modeled error's members) from cove.protocol.rest_errors.
"""

from __future__ import annotations

import datetime
import functools
import io
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict, prepare_request_dict
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from botocore.serialize import create_serializer
from shape_examples import example

from cove.errors import AwsError
from cove.http.messages import Response
from cove.protocol.rest import parse_request, serialize_response
from cove.protocol.rest_errors import error_response
from cove.protocol.rest_routes import RestRouter, parse_query
from cove.protocol.rest_scalars import (
    EPOCH,
    ISO8601,
    RFC822,
    WireValueError,
    format_timestamp,
    parse_timestamp,
    split_header_list,
)

SERVICES = ("lambda", "apigateway", "s3", "sagemaker-runtime")

# Operations whose request botocore writes exactly like another's: same method, template
# and required members, so no router can tell them apart and the equivalent is served.
EQUIVALENT = {
    # deprecated forms of the same call, kept by the model for old clients
    ("s3", "GetBucketLifecycle"): "GetBucketLifecycleConfiguration",
    ("s3", "PutBucketLifecycle"): "PutBucketLifecycleConfiguration",
    ("s3", "GetBucketNotification"): "GetBucketNotificationConfiguration",
    ("s3", "PutBucketNotification"): "PutBucketNotificationConfiguration",
    # `GET /` both; AWS tells them apart by endpoint: the model sends ListDirectoryBuckets
    # to the S3 Express control endpoint (staticContextParams UseS3ExpressControlEndpoint),
    # which is the host, not the request
    ("s3", "ListDirectoryBuckets"): "ListBuckets",
}


@functools.cache
def model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


@functools.cache
def router(service: str) -> RestRouter:
    return RestRouter(model(service))


def operation(service: str, name: str) -> OperationModel:
    return model(service).operation_model(name)


def all_operations(*, event_stream_output: bool = True) -> list[Any]:
    params = []
    for service in SERVICES:
        for name in model(service).operation_names:
            if not event_stream_output and operation(service, name).has_event_stream_output:
                continue
            params.append(pytest.param(service, name, id=f"{service}.{name}"))
    return params


# -- what the wire carries ----------------------------------------------------------------


def carried(shape: Shape, value: dict[str, Any], protocol: str, request: bool) -> dict[str, Any]:
    """`value` as it survives the wire, each loss being botocore's or HTTP's:

    - with a payload member, only it is the body: botocore's `_serialize_payload` drops the
      other location-less members;
    - an empty list or map in a header or the query is no header or key at all
      (`_partition_parameters` skips empty header lists; `percent_encode_sequence` writes
      nothing for an empty list);
    - request header names are case-insensitive (RFC 9110 section 5.1) and the gateway
      lower-cases them, so prefix-map keys arrive lower-cased (S3 keeps metadata keys
      lower-cased too); in responses botocore keeps the case it was sent;
    - an empty flattened XML list is no element at all (rest-xml only);
    - where two members of a structure are written as the same XML element (S3's
      deprecated notification shapes: `Events`, flattened as <Event>, and `Event`), neither
      side can tell them apart (botocore's parser hands both the same elements), so the
      second is left out of the comparison.
    """
    payload = shape.serialization.get("payload")
    out: dict[str, Any] = {}
    for name, item in value.items():
        member = shape.members[name]
        location = member.serialization.get("location")
        if location is None and payload is not None and name != payload:
            continue
        if location in ("header", "headers", "querystring") and item in ([], {}):
            continue
        if location == "headers" and request:
            item = {k.lower(): v for k, v in item.items()}
        if location is None and protocol == "rest-xml":
            item = _xml_carried(member, item)
            if item is _LOST:
                continue
        out[name] = item
    return out


_LOST = object()


def _xml_carried(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "list":
        if not value and shape.serialization.get("flattened"):
            return _LOST
        return [_xml_carried(shape.member, item) for item in value]
    if kind == "map":
        if not value and shape.serialization.get("flattened"):
            return _LOST
        return {k: _xml_carried(shape.value, v) for k, v in value.items()}
    if kind == "structure":
        out = {}
        ambiguous = _shared_tags(shape)
        for name, item in value.items():
            if name in ambiguous:
                continue
            kept = _xml_carried(shape.members[name], item)
            if kept is not _LOST:
                out[name] = kept
        return out
    return value


def _shared_tags(shape: Shape) -> set[str]:
    """Members written as the element an earlier member of `shape` is written as
    (botocore's `_member_key_name`: a flattened list by its items' name)."""
    seen: set[str] = set()
    shared: set[str] = set()
    for name, member in shape.members.items():
        tag = member.serialization.get("name", name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            tag = member.member.serialization.get("name", tag)
        if tag in seen:
            shared.add(name)
        seen.add(tag)
    return shared


def sendable(shape: Shape | None, value: dict[str, Any], protocol: str) -> dict[str, Any]:
    """The example less what an XML body cannot say unambiguously (see `carried`), so
    that what is sent is what can come back."""
    if shape is None or protocol != "rest-xml":
        return value
    out = {}
    for name, item in value.items():
        if "location" not in shape.members[name].serialization:
            item = _xml_carried(shape.members[name], item)
            if item is _LOST:
                continue
        out[name] = item
    return out


# -- requests -----------------------------------------------------------------------------


def wire_request(op: OperationModel, params: dict[str, Any]) -> tuple[str, str, str, dict, bytes]:
    """method, raw path, raw query, headers (lower-cased names, as the gateway gives
    them) and body of the request botocore sends for `params`."""
    # Without botocore's parameter validation: the examples cut recursion at a depth
    # (leaving out the required members of the deepest structures) and take no float
    # minimum (Lambda's ExecutionEnvironmentMemoryGiBPerVCpu >= 2), which validation
    # refuses and the wire form does not depend on.
    serializer = create_serializer(op.service_model.protocol, include_validation=False)
    request = serializer.serialize_to_request(params, op)
    prepare_request_dict(request, endpoint_url="https://cove.test")
    url = urlsplit(request["url"])
    headers = {name.lower(): str(value) for name, value in request["headers"].items()}
    body = request["body"]
    if isinstance(body, str):
        body = body.encode()
    return request["method"], url.path, url.query, headers, body or b""


@pytest.mark.parametrize(("service", "name"), all_operations())
def test_botocore_request_routes_and_parses_back(service: str, name: str) -> None:
    op = operation(service, name)
    protocol = op.service_model.protocol
    params = example(op.input_shape) if op.input_shape is not None else {}
    params = sendable(op.input_shape, params, protocol)
    method, path, raw_query, headers, body = wire_request(op, params)
    query = parse_query(raw_query)

    found = router(service).match(method, path, query, headers)

    assert found is not None, f"{method} {path}?{raw_query} routed nowhere"
    assert found.operation.name == EQUIVALENT.get((service, name), name)
    parsed = parse_request(op, found.labels, query, headers, body)
    if op.input_shape is not None:
        parsed = sendable(op.input_shape, parsed, protocol)
        params = carried(op.input_shape, params, protocol, request=True)
    assert parsed == params


# -- responses ----------------------------------------------------------------------------


def botocore_parse(op: OperationModel, status: int, headers: list, body: bytes,
                   shape: Shape | None) -> dict[str, Any]:
    """What botocore's client makes of a response: headers in its case-insensitive dict,
    a blob payload as a StreamingBody (botocore.endpoint.convert_to_response_dict)."""
    streaming = status < 300 and op.has_streaming_output
    wire_body: Any = StreamingBody(io.BytesIO(body), len(body)) if streaming else body
    response = {"status_code": status, "headers": HeadersDict(headers), "body": wire_body}
    parsed = create_parser(op.service_model.protocol).parse(response, shape)
    parsed.pop("ResponseMetadata", None)
    if streaming:
        payload = op.output_shape.serialization["payload"]
        if payload in parsed:
            parsed[payload] = parsed[payload].read()
    return parsed


def framed(response: Response) -> list[tuple[str, str]]:
    """The headers as the HTTP layer sends them: with the Content-Length it frames every
    answer by (the body's, or the length a bodiless one announces)."""
    length = response.content_length
    return [*response.headers, ("Content-Length", str(len(response.body) if length is None
                                                      else length))]


def framed_length(shape: Shape, response: Response) -> dict[str, int]:
    """A member bound to Content-Length reads back as the length the HTTP layer framed
    the answer by: the body's, when there is one (S3's GetObject)."""
    for name, member in shape.members.items():
        if member.serialization.get("name", "").lower() == "content-length":
            return {name: int(dict(framed(response))["Content-Length"])}
    return {}


# Event-stream outputs (lambda InvokeWithResponseStream, s3 SelectObjectContent,
# sagemaker-runtime InvokeEndpointWithResponseStream) are framed by the event-stream
# encoding, not by these protocols: excluded here, their own codec is a later step.
@pytest.mark.parametrize(("service", "name"), all_operations(event_stream_output=False))
def test_response_parses_back_in_botocore(service: str, name: str) -> None:
    op = operation(service, name)
    shape = op.output_shape
    protocol = op.service_model.protocol
    value = sendable(shape, example(shape) if shape is not None else {}, protocol)
    if shape is not None:
        for member_name, member in shape.members.items():
            if member.serialization.get("location") == "statusCode":
                value[member_name] = 200  # the example's 1 is no HTTP status

    response = serialize_response(op, value, "req-1")

    parsed = botocore_parse(op, response.status, framed(response), response.body, shape)
    if shape is not None:
        parsed = sendable(shape, parsed, protocol)
        value = carried(shape, value, protocol, request=False)
        value.update(framed_length(shape, response))
    assert parsed == value
    has_status = shape is not None and any(
        m.serialization.get("location") == "statusCode" for m in shape.members.values()
    )
    assert response.status == (200 if has_status else op.http.get("responseCode", 200))


# -- errors -------------------------------------------------------------------------------


def error_cases() -> list[Any]:
    cases = []
    for service in SERVICES:
        for shape in model(service).error_shapes:
            code = shape.error_code
            cases.append(pytest.param(service, code, id=f"{service}.{code}"))
        cases.append(pytest.param(service, "CoveUnmodeledFault", id=f"{service}.unmodeled"))
    return cases


@pytest.mark.parametrize(("service", "code"), error_cases())
def test_error_parses_back_in_botocore(service: str, code: str) -> None:
    svc = model(service)
    op = svc.operation_model(svc.operation_names[0])
    shape = svc.shape_for_error_code(code)
    fields: dict[str, Any] = {}
    if shape is not None and svc.protocol == "rest-json":
        # the error's own members, but the message, which AwsError carries itself
        fields = {k: v for k, v in example(shape).items() if k.lower() != "message"}
    err = AwsError(code, f"{code} happened", 409, fields=fields)

    response = error_response(svc, err, "req-1")

    parsed = botocore_parse(op, response.status, response.headers, response.body, op.output_shape)
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == f"{code} happened"
    if shape is not None and svc.protocol == "rest-json":
        # botocore's client then parses the modeled error's members with its shape
        modeled = botocore_parse(op, response.status, response.headers, response.body, shape)
        expected = carried(shape, fields, svc.protocol, request=False)
        expected.update({k: f"{code} happened" for k in shape.members if k.lower() == "message"})
        assert modeled == expected


def test_s3_error_fields_and_head_error() -> None:
    s3 = model("s3")
    op = s3.operation_model("HeadObject")
    err = AwsError("NoSuchKey", "The specified key does not exist.", 404,
                   fields={"Key": "a/b.txt"})

    body = error_response(s3, err, "req-1")
    head = error_response(s3, err, "req-1", method="HEAD")

    parsed = botocore_parse(op, body.status, body.headers, body.body, op.output_shape)
    assert parsed["Error"] == {"Code": "NoSuchKey", "Message": "The specified key does not exist.",
                               "Key": "a/b.txt"}
    # a HEAD answer has no body: botocore reports the status (its handlers map 404 to
    # NoSuchKey for HeadObject, as AWS's own HEAD errors are bodiless too)
    assert head.body == b""
    parsed = botocore_parse(op, head.status, head.headers, head.body, op.output_shape)
    assert parsed["Error"]["Code"] == "404"


# -- rules the four models do not reach ---------------------------------------------------

# jsonvalue headers, list headers, timestampFormat on headers, query and body members,
# non-finite doubles, statusCode and responseCode: a small rest-json model of one
# operation exercises each (botocore serializes and parses it like any other).
WIDGETS = ServiceModel(
    {
        "metadata": {"protocol": "rest-json", "apiVersion": "2020-01-01",
                     "endpointPrefix": "widgets", "serviceId": "Widgets"},
        "operations": {
            "PutWidget": {
                "name": "PutWidget",
                "http": {"method": "PUT", "requestUri": "/widgets/{Name}", "responseCode": 201},
                "input": {"shape": "Widget"},
                "output": {"shape": "Widget"},
            },
        },
        "shapes": {
            "Widget": {
                "type": "structure",
                "members": {
                    "Name": {"shape": "String", "location": "uri", "locationName": "Name"},
                    "Attributes": {"shape": "String", "location": "header", "jsonvalue": True,
                                   "locationName": "x-widget-attributes"},
                    "Labels": {"shape": "Strings", "location": "header",
                               "locationName": "x-widget-labels"},
                    "Since": {"shape": "Time", "location": "header", "locationName": "x-since",
                              "timestampFormat": "iso8601"},
                    "Until": {"shape": "Time", "location": "header", "locationName": "x-until"},
                    "After": {"shape": "Time", "location": "querystring", "locationName": "after",
                              "timestampFormat": "unixtimestamp"},
                    "Tags": {"shape": "Strings", "location": "querystring", "locationName": "tag"},
                    "Ratio": {"shape": "Double", "location": "header", "locationName": "x-ratio"},
                    "Created": {"shape": "Time"},
                    "Seen": {"shape": "Time", "timestampFormat": "iso8601"},
                    "Weight": {"shape": "Double", "locationName": "weight"},
                    "Data": {"shape": "Blob"},
                },
            },
            "String": {"type": "string"},
            "Strings": {"type": "list", "member": {"shape": "String"}},
            "Time": {"type": "timestamp"},
            "Double": {"type": "double"},
            "Blob": {"type": "blob"},
        },
    },
    "widgets",
)
WHOLE = datetime.datetime(2026, 11, 30, 12, 34, 56, tzinfo=datetime.UTC)
PRECISE = WHOLE.replace(microsecond=123000)


def test_widget_request_rules() -> None:
    op = WIDGETS.operation_model("PutWidget")
    params = {
        "Name": "w/1 ü",
        "Attributes": {"colour": "red", "sizes": [1, 2]},
        "Labels": ["plain", "a,b", 'say "hi"'],  # botocore quotes the last two
        "Since": WHOLE,  # botocore sends header timestamps in whole seconds
        "Until": WHOLE,
        "After": PRECISE,
        "Tags": ["x", "y z"],
        "Ratio": float("inf"),
        "Created": PRECISE,
        "Seen": PRECISE,
        "Weight": float("-inf"),
        "Data": b"\x00\xff",
    }
    method, path, raw_query, headers, body = wire_request(op, params)
    assert headers["x-since"] == "2026-11-30T12:34:56Z"
    assert headers["x-until"] == "Mon, 30 Nov 2026 12:34:56 GMT"
    found = RestRouter(WIDGETS).match(method, path, parse_query(raw_query), headers)
    assert found is not None

    assert parse_request(op, found.labels, parse_query(raw_query), headers, body) == params


def test_widget_response_rules() -> None:
    op = WIDGETS.operation_model("PutWidget")
    value = {
        "Attributes": {"colour": "red"},
        "Labels": ["plain", "two"],  # botocore's parser splits on every comma, quoted or not
        "Since": WHOLE,
        "Until": WHOLE,
        "Ratio": float("-inf"),
        "Created": PRECISE,
        "Seen": PRECISE,
        "Weight": float("inf"),
        "Data": b"\x00\xff",
    }

    response = serialize_response(op, value)

    assert response.status == 201  # the operation's responseCode
    assert dict(response.headers)["x-until"] == "Mon, 30 Nov 2026 12:34:56 GMT"
    assert botocore_parse(op, response.status, response.headers, response.body,
                          op.output_shape) == value


def test_s3_grantee_type_is_an_xml_attribute() -> None:
    # The examples stop short of Grantee's members; its `xsi:type` is an attribute.
    grant = {"Grantee": {"ID": "id-1", "Type": "CanonicalUser"}, "Permission": "READ"}
    put = operation("s3", "PutObjectAcl")
    params = {"Bucket": "b", "Key": "k", "AccessControlPolicy": {"Grants": [grant]}}
    method, path, raw_query, headers, body = wire_request(put, params)
    assert b'xsi:type="CanonicalUser"' in body
    found = router("s3").match(method, path, parse_query(raw_query), headers)
    assert found is not None and found.operation.name == "PutObjectAcl"
    assert parse_request(put, found.labels, parse_query(raw_query), headers, body) == params

    get = operation("s3", "GetObjectAcl")
    response = serialize_response(get, {"Grants": [grant]}, root="AccessControlPolicy")
    assert botocore_parse(get, response.status, response.headers, response.body,
                          get.output_shape) == {"Grants": [grant]}


@pytest.mark.parametrize(
    ("service", "name", "target", "headers", "body", "code"),
    [
        ("lambda", "ListFunctions", "/2015-03-31/functions?MaxItems=ten", {}, b"",
         "SerializationException"),
        ("lambda", "CreateFunction", "/2015-03-31/functions", {}, b"{not json",
         "SerializationException"),
        ("lambda", "CreateFunction", "/2015-03-31/functions", {}, b"[]",
         "SerializationException"),
        ("lambda", "CreateFunction", "/2015-03-31/functions", {}, b'{"Code": {"ZipFile": 1}}',
         "SerializationException"),
        ("s3", "GetObject", "/b/k?partNumber=x", {}, b"", "InvalidArgument"),
        ("s3", "GetObject", "/b/k", {"if-modified-since": "yesterday"}, b"", "InvalidArgument"),
        ("s3", "PutBucketTagging", "/b?tagging", {}, b"<Tagging><TagSet>", "MalformedXML"),
        ("s3", "PutBucketTagging", "/b?tagging", {},
         b'<!DOCTYPE t [<!ENTITY x "y">]><Tagging>&x;</Tagging>', "MalformedXML"),
    ],
)
def test_undecodable_requests_are_the_protocols_errors(
    service: str, name: str, target: str, headers: dict, body: bytes, code: str
) -> None:
    op = operation(service, name)
    path, _, raw_query = target.partition("?")
    found = router(service).match(op.http["method"], path, parse_query(raw_query), headers)
    assert found is not None and found.operation.name == name

    with pytest.raises(AwsError) as caught:
        parse_request(op, found.labels, parse_query(raw_query), headers, body)

    assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("Mon, 30 Nov 2026 12:34:56 GMT", RFC822),  # RFC 7231 IMF-fixdate
        ("2026-11-30T12:34:56Z", ISO8601),
        ("2026-11-30T12:34:56.000000000Z", ISO8601),  # nanoseconds, as some SDKs send
        ("2026-11-30T13:34:56+01:00", ISO8601),
        ("1796042096", EPOCH),
        # a client that sends another format than the model's is still understood, as
        # botocore's own parse_timestamp understands any of the three
        ("2026-11-30T12:34:56Z", RFC822),
        ("Mon, 30 Nov 2026 12:34:56 GMT", ISO8601),
        ("1796042096.0", ISO8601),
    ],
)
def test_timestamps_in_any_format(text: str, fmt: str) -> None:
    assert parse_timestamp(text, fmt) == WHOLE


def test_timestamp_formats() -> None:
    assert format_timestamp(WHOLE, RFC822) == "Mon, 30 Nov 2026 12:34:56 GMT"
    assert format_timestamp(WHOLE, ISO8601) == "2026-11-30T12:34:56Z"
    assert format_timestamp(PRECISE, ISO8601) == "2026-11-30T12:34:56.123Z"
    assert format_timestamp(WHOLE, EPOCH) == 1796042096
    assert format_timestamp(PRECISE, EPOCH) == 1796042096.123
    with pytest.raises(WireValueError):
        parse_timestamp("yesterday", RFC822)


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("a,b, c", ["a", "b", "c"]),
        ('"a,b",c', ["a,b", "c"]),
        ('"say \\"hi\\"", x', ['say "hi"', "x"]),
        ("", []),
    ],
)
def test_header_lists(text: str, items: list[str]) -> None:
    assert split_header_list(text) == items
