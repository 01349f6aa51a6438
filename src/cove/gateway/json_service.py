"""A json 1.1 service: operations of one botocore service dispatched to handler functions,
each input validated against its shape and authorized before the handler runs."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cove.errors import AwsError
from cove.gateway.service import UNSIGNED, ServiceDefaults
from cove.http.messages import Request, RequestContext, Response
from cove.iam.policy import authorize
from cove.protocol.json_rpc import json_error, output_response, parse_document
from cove.protocol.shapes import service_model, shape_output, validate

# A handler takes the request's context and the operation's input, and returns its output
# (or an awaitable of it), which is filtered by the operation's output shape.
Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


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
        params = parse_document(req.body)
        operation = self.model.operation_model(op_name)
        validate(operation, params)
        authorize(req.context, f"{self.action_prefix}:{op_name}")
        result = handler(req.context, params)
        if inspect.isawaitable(result):
            result = await result
        return output_response(
            shape_output(operation.output_shape, result or {}), req.context.request_id
        )
