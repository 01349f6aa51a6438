"""The json 1.1 protocol (`X-Amz-Target: <Prefix>.<Operation>`), e.g. the SageMaker API."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cove.gateway.messages import Request, RequestContext, Response
from cove.gateway.services import UNSIGNED, ServiceDefaults
from cove.iam.policy import authorize
from cove.protocol.errors import AwsError
from cove.protocol.shapes import service_model, shape_output, validate

log = logging.getLogger(__name__)

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


def json_error(err: AwsError, request_id: str) -> Response:
    body = {"__type": err.code, "message": err.message, **err.fields}
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", err.code),
        *err.headers.items(),
    ]
    return Response(err.status, headers, json.dumps(body).encode())


class JsonRpcService(ServiceDefaults):
    """Dispatches json 1.1 operations of one botocore service to handler functions."""

    protocol = "json"

    def __init__(self, service_name: str, handlers: Mapping[str, Handler]) -> None:
        self.model = service_model(service_name)
        self.prefix = self.model.metadata["targetPrefix"] + "."
        self.action_prefix = self.model.signing_name
        self.signing_names = (self.model.signing_name, UNSIGNED)
        self.handlers = handlers

    def claims(self, req: Request) -> bool:
        return req.method == "POST" and req.headers.get("x-amz-target", "").startswith(self.prefix)

    def error_response(self, err: AwsError, req: Request) -> Response:
        return json_error(err, req.context.request_id)

    async def handle(self, req: Request) -> Response:
        op_name = req.headers["x-amz-target"][len(self.prefix) :]
        if op_name not in self.model.operation_names:
            raise AwsError("UnknownOperationException", f"Unknown operation {op_name}")
        handler = self.handlers.get(op_name)
        if handler is None:
            raise AwsError(
                "UnknownOperationException",
                f"Cove does not implement {self.prefix}{op_name} yet",
            )
        req.context.operation = op_name
        try:
            params = json.loads(req.body or b"{}")
        except ValueError as exc:
            raise AwsError(
                "SerializationException", f"Request body is not valid JSON: {exc}"
            ) from None
        except RecursionError:  # nesting deeper than the parser recurses; no model is
            raise AwsError(
                "SerializationException", "Request body is nested too deeply"
            ) from None
        if not isinstance(params, dict):
            raise AwsError("SerializationException", "Request body must be a JSON object")
        operation = self.model.operation_model(op_name)
        validate(operation, params)
        authorize(req.context, f"{self.action_prefix}:{op_name}")
        result = handler(req.context, params)
        if inspect.isawaitable(result):
            result = await result
        body = shape_output(operation.output_shape, result or {})
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-RequestId", req.context.request_id),
        ]
        return Response(200, headers, json.dumps(body).encode())
