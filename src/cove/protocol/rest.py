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
  are the body: a JSON object, or the shape's XML root element. A `streaming` blob
  payload (S3's object bodies) is handed through as it is: the request's body stream
  to the handler, a `FileBody` (or bytes) from the handler to the HTTP layer.

An `OperationBinding` is this layout (rest_layout) compiled once per operation, so a
request costs a look-up per header and query key it carries, not a walk of the model.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from botocore.model import OperationModel, Shape

from cove.errors import AwsError
from cove.http.messages import FileBody, Response
from cove.protocol import rest_json, rest_xml
from cove.protocol.rest_layout import Layout, Member, layout
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
SIGV4_QUERY = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    }
)
# The HTTP layer frames every response itself; a member bound to Content-Length (S3's
# HeadObject) is the length a bodiless answer announces, never a header of its own.
_CONTENT_LENGTH = "content-length"

# A request body: bytes, or (for a streaming payload) the stream the HTTP layer reads.
Body = bytes | Iterable[bytes]
# What a service makes of a header or query value its member's type cannot hold:
# called with (member name, wire name, text), it returns the value to use, None to
# leave the member out, or raises the service's own AwsError.
InvalidValue = Callable[[str, str, str], Any]


def protocol_of(operation: OperationModel) -> str:
    protocol = operation.service_model.protocol
    if protocol not in ("rest-json", "rest-xml"):
        raise ValueError(f"{operation.name} speaks {protocol}, not a rest protocol")
    return protocol


def malformed(protocol: str, message: str, *, xml_body: bool = False) -> AwsError:
    """What a request the wire cannot decode is answered with: S3's MalformedXML (in its
    own words, which name no detail) or InvalidArgument for rest-xml,
    SerializationException for rest-json (Smithy's client-side name for it, which
    botocore maps to a modeled error where one exists)."""
    if protocol == "rest-xml":
        if xml_body:
            return AwsError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
            )
        return AwsError("InvalidArgument", message)
    return AwsError("SerializationException", message)


class OperationBinding:
    """One operation's requests and responses on the wire, compiled from the model once.

    `verbatim`: members (by name) carried as their wire text, whatever their type, both
    ways (S3 stores an object's Expires header as it was sent and answers it so).
    `invalid`: the service's answer to header and query values their type cannot hold
    (see InvalidValue); without one they are the protocol's `malformed` error."""

    def __init__(
        self,
        operation: OperationModel,
        *,
        verbatim: frozenset[str] = frozenset(),
        invalid: InvalidValue | None = None,
    ) -> None:
        self.operation = operation
        self.protocol = protocol_of(operation)
        self._invalid = invalid
        inp, out = operation.input_shape, operation.output_shape
        self._input = layout(inp, verbatim) if inp is not None else None
        self._output = layout(out, verbatim) if out is not None else None
        template_query = operation.http["requestUri"].partition("?")[2]
        keys = {key for key, _ in literal_query(template_query)}
        if self._input is not None:
            keys |= set(self._input.query)
        # the query keys the operation takes: its template's literals and its members'
        self.query_keys = frozenset(keys)
        self._claimed = self.query_keys | SIGV4_QUERY
        self._status = int(operation.http.get("responseCode", 200))

    @property
    def streams_input(self) -> bool:
        """The input's payload is a streaming blob: the body is handed through unread."""
        return self._input is not None and self._input.streaming

    @property
    def payload_name(self) -> str | None:
        """The input's payload member, if it names one."""
        payload = self._input.payload if self._input is not None else None
        return payload.name if payload is not None else None

    def wire_name(self, member: str) -> str:
        """The input member's name on the wire (its header or query key)."""
        assert self._input is not None
        return self._input.members[member].wire

    # -- requests -------------------------------------------------------------------------

    def parse(
        self,
        labels: Mapping[str, str],
        query: Mapping[str, Sequence[str]],
        headers: Mapping[str, str],
        body: Body | None = None,
    ) -> dict[str, Any]:
        """The input dict (blobs as bytes, timestamps as aware datetimes), of the body too
        unless `body` is None (then `parse_body` reads it later).

        `labels` from rest_routes.RouteMatch, `query` as rest_routes.parse_query gives it,
        `headers` with lower-cased names (as http.server gives them)."""
        layout = self._input
        if layout is None:
            return {}
        params: dict[str, Any] = {}
        for member in layout.uri:
            if member.wire in labels:
                self._put(params, member, labels[member.wire], QUERY_FORMAT)
        for key, values in query.items():
            member = layout.query.get(key)
            if member is None:
                continue
            if member.shape.type_name == "list":
                self._put_list(params, member, values, QUERY_FORMAT)
            else:
                self._put(params, member, values[0], QUERY_FORMAT)
        if layout.query_map is not None:
            self._put_query_map(params, layout.query_map, query)
        for name, text in headers.items():
            member = layout.headers.get(name)
            if member is not None:
                if member.shape.type_name == "list":
                    self._put_list(params, member, split_header_list(text), HEADER_FORMAT)
                else:
                    self._put(params, member, text, HEADER_FORMAT)
            for prefix, mapped in layout.prefixes.items():
                if name.startswith(prefix):
                    # names arrive lower-cased (HTTP names are case-insensitive; S3
                    # stores metadata keys lower-cased for the same reason)
                    params.setdefault(mapped.name, {})[name[len(prefix) :]] = text
        if body is not None:
            params.update(self.parse_body(body))
        return params

    def _value(self, member: Member, shape: Shape, text: str, fmt: str) -> Any:
        if member.verbatim or member.plain:
            return text
        try:
            return from_text(shape, text, fmt)
        except WireValueError as exc:
            if self._invalid is None:
                raise malformed(self.protocol, f"{member.wire}: {exc}") from None
            return self._invalid(member.name, member.wire, text)

    def _put(self, params: dict[str, Any], member: Member, text: str, fmt: str) -> None:
        value = self._value(member, member.shape, text, fmt)
        if value is not None:
            params[member.name] = value

    def _put_list(
        self, params: dict[str, Any], member: Member, texts: Sequence[str], fmt: str
    ) -> None:
        items = [self._value(member, member.shape.member, text, fmt) for text in texts]
        params[member.name] = [item for item in items if item is not None]

    def _put_query_map(
        self, params: dict[str, Any], member: Member, query: Mapping[str, Sequence[str]]
    ) -> None:
        extra = {k: v for k, v in query.items() if k not in self._claimed}
        if extra:
            # a map of lists takes every value of a repeated key, a map of strings the first
            listed = member.shape.value.type_name == "list"
            params[member.name] = {k: list(v) if listed else v[0] for k, v in extra.items()}

    def parse_body(self, body: Body) -> dict[str, Any]:
        """The members the body carries: the payload member, or the body members."""
        layout = self._input
        if layout is None:
            return {}
        payload = layout.payload
        if layout.streaming:
            assert payload is not None
            return {} if isinstance(body, bytes) and not body else {payload.name: body}
        assert isinstance(body, bytes), "only a streaming payload is read as a stream"
        if not body:
            return {}
        if payload is not None:
            kind = payload.shape.type_name
            if kind == "blob":
                return {payload.name: body}
            if kind == "string":
                try:
                    return {payload.name: body.decode("utf-8")}
                except UnicodeDecodeError:
                    raise malformed(self.protocol, "the body is not UTF-8 text") from None
            return {payload.name: self._decode(payload.shape, body, None, payload.wire)}
        if not layout.body:
            return {}
        return self._decode(layout.shape, body, layout.body, None)

    def _decode(
        self, shape: Shape, body: bytes, names: Sequence[str] | None, root: str | None
    ) -> Any:
        """A body document: the members `names` of `shape` (all of them if None). `root`:
        the element a rest-xml payload must be (botocore names it by the member's
        locationName; S3 refuses any other as MalformedXML)."""
        names = list(shape.members) if names is None else list(names)
        if self.protocol == "rest-json":
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):  # RecursionError: nested past the parser
                raise malformed(self.protocol, "the body is not a JSON document") from None
            try:
                return rest_json.load_members(shape, data, names)
            except WireValueError as exc:
                raise malformed(self.protocol, str(exc)) from None
        try:
            elem = rest_xml.parse_document(body)
            if root is not None and rest_xml.local_name(elem.tag) != root:
                raise WireValueError(f"the document is not a <{root}>")
            return rest_xml.load_members(shape, elem, names)
        except (WireValueError, RecursionError) as exc:
            raise malformed(self.protocol, str(exc), xml_body=True) from None

    # -- responses ------------------------------------------------------------------------

    def serialize(
        self,
        output: Mapping[str, Any] | None,
        request_id: str = "",
        *,
        status: int | None = None,
        root: str | None = None,
        namespace: str | None = None,
    ) -> Response:
        """`output` as the response botocore parses back into it. Headers go out in the
        order of `output`'s keys, body members likewise (as botocore's serializers write
        a structure in the order of the dict they are given).

        The status: `status` where HTTP sets one the model cannot (S3's 206 and 304),
        else a statusCode member, else the operation's responseCode (200 without one).
        For rest-xml bodies without a payload member the model names no root element;
        S3's (ListAllMyBucketsResult, ListBucketResult, ...) is the caller's to give as
        `root`, else `<Operation>Result`. `namespace` is the root's xmlns when the shape
        has none."""
        layout = self._output
        value = dict(output or {})
        code = self._status
        headers: list[tuple[str, str]] = []
        body: bytes | FileBody = b""
        content_type = None
        length = None
        if layout is not None:
            for name, item in value.items():
                member = layout.members.get(name)
                if member is None:
                    raise ValueError(f"{self.operation.name} answers no member {name}")
                if item is None or member.location is None:
                    continue
                if member.location == "statusCode":
                    code = int(item)
                elif member.location == "headers":
                    headers.extend((member.wire + str(k), str(v)) for k, v in item.items())
                elif member.location == "header":
                    if member.key == _CONTENT_LENGTH:
                        length = int(item)
                    elif item != []:  # an empty list is no header (botocore sends none)
                        headers.append((member.wire, self._header_text(member, item)))
            body, content_type = self._encode_body(
                layout, value, root or f"{self.operation.name}Result", namespace
            )
        if body and content_type and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", content_type))
        if request_id:
            # rest-json services answer with x-amzn-RequestId, S3 with x-amz-request-id (and
            # x-amz-id-2); botocore reads either (BaseRestParser._populate_response_metadata).
            if self.protocol == "rest-json":
                headers.append(("x-amzn-RequestId", request_id))
            else:
                headers += [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
        code = status if status is not None else code
        if isinstance(body, FileBody):
            return Response(code, headers, file=body)
        return Response(code, headers, body, content_length=None if body else length)

    @staticmethod
    def _header_text(member: Member, item: Any) -> str:
        if member.verbatim or member.plain:
            return str(item)
        if member.shape.type_name == "list":
            texts = [to_text(member.shape.member, v, HEADER_FORMAT) for v in item]
            return join_header_list(texts)
        return to_text(member.shape, item, HEADER_FORMAT)

    def _encode_body(
        self, layout: Layout, value: dict[str, Any], root: str, namespace: str | None
    ) -> tuple[bytes | FileBody, str | None]:
        payload = layout.payload
        if payload is not None:
            item = value.get(payload.name)
            if item is None:
                return b"", None
            kind = payload.shape.type_name
            if isinstance(item, FileBody):
                return item, RAW_TYPE
            if kind == "blob":
                return (item.encode() if isinstance(item, str) else bytes(item)), RAW_TYPE
            if kind == "string":
                return item.encode("utf-8"), None  # its type is the ContentType member's
            if self.protocol == "rest-json":
                return json.dumps(rest_json.dump(payload.shape, item)).encode(), JSON_TYPE
            return rest_xml.payload_document(payload.shape, item, payload.wire, namespace), XML_TYPE
        if not layout.body:
            return b"", None
        if self.protocol == "rest-json":
            # `{}` even when every body member is absent, as AWS's rest-json services answer
            document = rest_json.dump_members(layout.shape, value, list(layout.body))
            return json.dumps(document).encode(), JSON_TYPE
        # likewise the root element, empty or not, as S3 answers
        # (`<VersioningConfiguration/>` for a bucket never versioned)
        tag = layout.shape.serialization.get("name", root)
        return rest_xml.document(layout.shape, value, tag, layout.body, namespace), XML_TYPE


@functools.cache
def binding(operation: OperationModel) -> OperationBinding:
    """The operation's binding without service-specific rules, compiled once."""
    return OperationBinding(operation)


def parse_request(
    operation: OperationModel,
    labels: Mapping[str, str],
    query: Mapping[str, Sequence[str]],
    headers: Mapping[str, str],
    body: Body,
) -> dict[str, Any]:
    """The input dict of `operation` (see OperationBinding.parse; `headers` by name in
    any case). AwsError (the protocol's own code) for values the wire form cannot carry,
    e.g. `abc` for an integer header."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return binding(operation).parse(labels, query, lowered, body)


def serialize_response(
    operation: OperationModel,
    output: Mapping[str, Any] | None,
    request_id: str = "",
    *,
    root: str | None = None,
    namespace: str | None = None,
) -> Response:
    """`output` of `operation` as a response (see OperationBinding.serialize)."""
    return binding(operation).serialize(output, request_id, root=root, namespace=namespace)
