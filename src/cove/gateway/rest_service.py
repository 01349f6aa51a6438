"""A rest-json service (Lambda, API Gateway): operations found by botocore's requestUri
templates, inputs bound from the URI, query string, headers and body by the model, and
outputs and errors serialized by it; operations dispatched to handler functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cove.errors import AwsError
from cove.gateway.operations import Handler, Operations, ResourceOf, not_implemented
from cove.gateway.service import UNSIGNED, ServiceDefaults
from cove.http.messages import Request, Response
from cove.iam.policy import ROOT_ONLY, Authorizer
from cove.protocol import rest
from cove.protocol.rest_errors import error_response
from cove.protocol.rest_routes import RestRouter, RouteMatch, parse_query
from cove.protocol.shapes import service_model, validate


class RestService(ServiceDefaults):
    def __init__(
        self,
        service_name: str,
        handlers: Mapping[str, Handler],
        actions: Mapping[str, str | None] | None = None,
        failures: Mapping[type[Exception], Callable[[Any], AwsError]] | None = None,
        authorizer: Authorizer = ROOT_ONLY,
        resource_of: ResourceOf | None = None,
        *,
        validation_code: str = "ValidationException",
        validation_root: Callable[[str], str] | None = None,
    ) -> None:
        self.model = service_model(service_name)
        self.protocol = self.model.protocol
        if self.protocol != "rest-json":
            raise ValueError(f"{service_name} speaks {self.protocol}, not rest-json")
        self.operations = Operations(
            self.model, handlers, actions or {}, failures or {}, authorizer, resource_of
        )
        self.router = RestRouter(self.model)
        self.validation_code = validation_code
        # the name validation messages put body members under, by operation name
        self.validation_root = validation_root
        # Unsigned too: the path alone tells this service's requests from others', so an
        # unsigned one is answered in this service's error shape.
        self.signing_names = (self.model.signing_name, UNSIGNED)

    def _match(self, req: Request) -> RouteMatch | None:
        return self.router.match(req.method, req.path, parse_query(req.query), req.headers)

    def claims(self, req: Request) -> bool:
        return self._match(req) is not None

    def error_response(self, err: AwsError, req: Request) -> Response:
        return error_response(self.model, err, req.context.request_id, method=req.method)

    async def handle(self, req: Request) -> Response:
        found = self._match(req)
        if found is None:  # claims() said otherwise: the request changed in between
            raise AwsError("UnknownOperationException", "No operation at this path", 404)
        operation = found.operation
        missing = not_implemented("UnknownOperationException", operation.name, 404)
        handler = self.operations.handler(operation, missing)
        params = rest.parse_request(
            operation, found.labels, parse_query(req.query), req.headers, req.body
        )
        root = None if self.validation_root is None else self.validation_root(operation.name)
        validate(operation, params, self.validation_code, root)
        result = await self.operations.call(req.context, operation, handler, params)
        return rest.serialize_response(operation, result, req.context.request_id)
