"""A json 1.1 service: operations of one botocore service dispatched to handler functions,
each input validated against its shape and authorized before the handler runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cove.errors import AwsError
from cove.gateway.operations import Handler, KeysOf, Operations, ResourceOf, not_implemented
from cove.gateway.service import UNSIGNED, ServiceDefaults
from cove.http.messages import Request, Response
from cove.iam.policy import ROOT_ONLY, Authorizer
from cove.protocol.json_rpc import json_error, output_response, parse_document
from cove.protocol.shapes import service_model, shape_output, validate

__all__ = ["Handler", "JsonRpcService"]


class JsonRpcService(ServiceDefaults):
    """Dispatches json 1.1 operations of one botocore service to handler functions."""

    protocol = "json"

    def __init__(
        self,
        service_name: str,
        handlers: Mapping[str, Handler],
        actions: Mapping[str, str | None] | None = None,
        failures: Mapping[type[Exception], Callable[[Any], AwsError]] | None = None,
        authorizer: Authorizer = ROOT_ONLY,
        resource_of: ResourceOf | None = None,
        keys_of: KeysOf | None = None,
        validation_code: str = "ValidationException",
    ) -> None:
        self.model = service_model(service_name)
        # the code a constraint of the model answers with: CloudWatch Logs says
        # InvalidParameterException where SageMaker says ValidationException
        self.validation_code = validation_code
        self.operations = Operations(
            self.model, handlers, actions or {}, failures or {}, authorizer, resource_of, keys_of
        )
        self.prefix = self.model.metadata["targetPrefix"] + "."
        self.signing_names = (self.model.signing_name, UNSIGNED)

    def claims(self, req: Request) -> bool:
        return req.method == "POST" and req.headers.get("x-amz-target", "").startswith(self.prefix)

    def error_response(self, err: AwsError, req: Request) -> Response:
        return json_error(err, req.context.request_id)

    async def handle(self, req: Request) -> Response:
        op_name = req.headers["x-amz-target"][len(self.prefix) :]
        if op_name not in self.model.operation_names:
            raise AwsError("UnknownOperationException", f"Unknown operation {op_name}")
        operation = self.model.operation_model(op_name)
        missing = not_implemented("UnknownOperationException", self.prefix + op_name)
        handler = self.operations.handler(operation, missing)
        req.context.operation = op_name
        params = parse_document(req.body)
        validate(operation, params, self.validation_code)
        result = await self.operations.call(req.context, operation, handler, params)
        body = shape_output(operation.output_shape, result)
        return output_response(body, req.context.request_id)
