"""The Lambda proxy integration (AWS_PROXY): the request as the function's event (format
1.0) and the function's answer as the HTTP response (API Gateway Developer Guide, "Lambda
proxy integrations in API Gateway", input and output formats)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from cove.apis.model import Resource, Stage
from cove.apis.requests import ApiRequest, ApiResponse, request_context

_OUTPUT_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


class MalformedProxyResponse(Exception):
    """The function's answer is not the proxy output format."""


def _binary(content_type: str | None, binary_media_types: tuple[str, ...]) -> bool:
    if not content_type:
        return False
    media = content_type.split(";")[0].strip().lower()
    for pattern in binary_media_types:
        pattern = pattern.lower()
        if pattern in (media, "*/*") or (pattern.endswith("/*") and media.startswith(pattern[:-1])):
            return True
    return False


def event(
    req: ApiRequest,
    account_id: str,
    resource: Resource,
    stage: Stage,
    path_parameters: dict[str, str],
    binary_media_types: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The event a proxy integration's function gets. Absent parts are null, as AWS sends
    them; a body of a binary media type is base64 (isBase64Encoded)."""
    binary = _binary(req.content_type, binary_media_types)
    if not req.body:
        body: str | None = None
    elif binary:
        body = base64.b64encode(req.body).decode()
    else:
        body = req.body.decode("utf-8", "replace")
    headers = dict(req.headers)
    query = req.first_query()
    return {
        "resource": resource.path,
        "path": req.path,
        "httpMethod": req.method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": req.multi_query() or None,
        "pathParameters": path_parameters or None,
        "stageVariables": stage.variables or None,
        "requestContext": request_context(req, account_id, resource, stage),
        "body": body,
        "isBase64Encoded": binary,
    }


@dataclass(frozen=True)
class ProxyOutput:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def parse_output(payload: bytes) -> ProxyOutput:
    """The function's result as an HTTP answer: a JSON object with statusCode and, as
    needed, headers, multiValueHeaders, body (a string) and isBase64Encoded; anything
    else is malformed (API Gateway answers 502)."""
    try:
        document = json.loads(payload or b"null")
    except ValueError:
        raise MalformedProxyResponse("not JSON") from None
    if not isinstance(document, dict) or set(document) - _OUTPUT_KEYS:
        raise MalformedProxyResponse("not a proxy output object")
    status = document.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse("statusCode is not an HTTP status")
    headers: list[tuple[str, str]] = []
    single = document.get("headers")
    multi = document.get("multiValueHeaders")
    single = {} if single is None else single
    multi = {} if multi is None else multi
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedProxyResponse("headers are not an object")
    for name, value in single.items():
        if name not in multi:
            headers.append((str(name), _header_text(value)))
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedProxyResponse("multiValueHeaders values are not lists")
        headers.extend((str(name), _header_text(v)) for v in values)
    body = document.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise MalformedProxyResponse("body is not a string")
    elif document.get("isBase64Encoded") is True:
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError:
            raise MalformedProxyResponse("body is not base64") from None
    else:
        raw = body.encode()
    return ProxyOutput(status, headers, raw)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def as_response(output: ProxyOutput) -> ApiResponse:
    headers = list(output.headers)
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return ApiResponse(output.status, headers, output.body)
