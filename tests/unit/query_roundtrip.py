"""botocore's own client side of the query and ec2 protocols, for the round-trip tests:
requests built as boto3 sends them, responses read as boto3 reads them, and what the
wire keeps of an input.

Not a test module: imported by test_protocol_query.py and test_protocol_ec2.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse
from botocore.client import BaseClient
from botocore.config import Config
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

ABSENT = object()


def client_request(protocol: str, operation: OperationModel, params: dict[str, Any]) -> bytes:
    """The form body botocore sends: its serializer's dict, url-encoded by AWSRequest
    exactly as a real call does (utf-8, quote_plus, doseq)."""
    # No validation: example values are not meant to satisfy every pattern and range.
    serializer = create_serializer(protocol, include_validation=False)
    serialized = serializer.serialize_to_request(params, operation)
    prepared = AWSRequest(
        method=serialized["method"],
        url="https://example.amazonaws.com/",
        data=serialized["body"],
        headers=serialized["headers"],
    ).prepare()
    body = prepared.body
    return body.encode() if isinstance(body, str) else body or b""


def client_parse(protocol: str, shape: Shape | None, body: bytes, status: int = 200) -> Any:
    parser = create_parser(protocol)
    return parser.parse({"status_code": status, "headers": {}, "body": body}, shape)


def on_the_wire(shape: Shape, value: Any, empty_lists_sent: bool) -> Any:
    """What of `value` survives botocore's query serializers: a structure with nothing set
    writes no parameter at all (so it arrives absent, not as {}), nor does an empty map;
    an empty list is sent as a bare `Name=` by QuerySerializer but left out by
    EC2Serializer; timestamps arrive as aware UTC datetimes."""
    if isinstance(shape, StructureShape):
        members = shape.members
        out = {}
        for name, item in value.items():
            kept = on_the_wire(members[name], item, empty_lists_sent)
            if kept is not ABSENT:
                out[name] = kept
        return out or ABSENT
    if isinstance(shape, ListShape):
        if not value:
            return [] if empty_lists_sent else ABSENT
        items = [on_the_wire(shape.member, v, empty_lists_sent) for v in value]
        kept_items = [v for v in items if v is not ABSENT]
        return kept_items or ABSENT
    if isinstance(shape, MapShape):
        out = {}
        for key, item in value.items():
            kept = on_the_wire(shape.value, item, empty_lists_sent)
            if kept is not ABSENT:
                out[key] = kept
        return out or ABSENT
    if shape.type_name == "timestamp":
        return value.astimezone(dt.UTC)
    return value


def expected_input(shape: Shape | None, value: Any, empty_lists_sent: bool) -> dict[str, Any]:
    if shape is None:
        return {}
    kept = on_the_wire(shape, value, empty_lists_sent)
    return {} if kept is ABSENT else kept


class _Raw:
    """The little of a urllib3 response that botocore's AWSResponse reads."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self) -> Iterator[bytes]:
        yield self.body


Server = Callable[[AWSPreparedRequest], tuple[int, bytes]]


def client(service: str, server: Server) -> BaseClient:
    """A real botocore client whose requests `server` answers in place of the network
    (botocore's before-send event takes the first response a handler returns)."""
    session = botocore.session.get_session()
    made = session.create_client(
        service,
        region_name="us-east-1",
        aws_access_key_id="AKIAEXAMPLEEXAMPLE00",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        status, body = server(request)
        return AWSResponse(request.url, status, {"Content-Type": "text/xml"}, _Raw(body))

    made.meta.events.register("before-send", answer)
    return made
