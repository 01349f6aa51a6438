"""The json 1.1 protocol's wire forms (`X-Amz-Target: <Prefix>.<Operation>`): the error
body and the request document, as the SageMaker API and CloudWatch Logs use them."""

from __future__ import annotations

import json
from typing import Any

from cove.errors import AwsError
from cove.http.messages import Response

CONTENT_TYPE = "application/x-amz-json-1.1"


def json_error(err: AwsError, request_id: str) -> Response:
    body = {"__type": err.code, "message": err.message, **err.fields}
    headers = [
        ("Content-Type", CONTENT_TYPE),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", err.code),
        *err.headers.items(),
    ]
    return Response(err.status, headers, json.dumps(body).encode())


def parse_document(body: bytes) -> dict[str, Any]:
    """The operation's input document; a SerializationException when it is not one."""
    try:
        params = json.loads(body or b"{}")
    except ValueError as exc:
        raise AwsError("SerializationException", f"Request body is not valid JSON: {exc}") from None
    except RecursionError:  # nesting deeper than the parser recurses; no model is
        raise AwsError("SerializationException", "Request body is nested too deeply") from None
    if not isinstance(params, dict):
        raise AwsError("SerializationException", "Request body must be a JSON object")
    return params


def output_response(document: dict[str, Any], request_id: str) -> Response:
    headers = [("Content-Type", CONTENT_TYPE), ("x-amzn-RequestId", request_id)]
    return Response(200, headers, json.dumps(document).encode())
