"""The Lambda API (rest-json): the handlers of functions, versions and aliases,
permissions and Invoke on the rest-json frame, with Lambda's request-size limits and
the function ARN each operation is authorized on."""

from __future__ import annotations

from typing import Any

from cove.errors import AwsError
from cove.functions.contracts import FunctionRuntime
from cove.functions.failures import FunctionError
from cove.functions.names import parse_reference
from cove.functions.store import FunctionStore
from cove.gateway.operations import Handler
from cove.gateway.rest_service import RestService
from cove.http.messages import BodyPlan, Request, RequestContext
from cove.identity.access import Access
from cove.identity.directory import Directory
from cove.network.store import NetworkStore
from cove.protocol.rest_routes import parse_query
from cove.services.lambda_ import functions, permissions, versions
from cove.services.lambda_.code_location import CodeUrls
from cove.services.lambda_.context import LambdaContext
from cove.services.lambda_.errors import function_error
from cove.services.lambda_.invoke import SYNC_LIMIT, Invoker
from cove.services.lambda_.invoke import handlers as invoke_handlers
from cove.storage.s3.objects import ObjectStore

# The most request body an operation takes (a zip travels base64 in CreateFunction's
# JSON): Lambda answers more with RequestEntityTooLargeException "Request must be smaller
# than N bytes for the <Operation> operation".
BODY_LIMITS = {
    "CreateFunction": ("CreateFunction", 69_905_067),
    "UpdateFunctionCode": ("UpdateFunctionCode", 69_905_067),
    "Invoke": ("InvokeFunction", SYNC_LIMIT),
}
OTHER_LIMIT = 1024 * 1024


def _too_large(operation: str, limit: int) -> Any:
    def error(size: int) -> AwsError:
        return AwsError(
            "RequestEntityTooLargeException",
            f"Request must be smaller than {limit} bytes for the {operation} operation",
            413,
        )

    return error


class LambdaService(RestService):
    def __init__(
        self, lc: LambdaContext, invoker: Invoker, handlers: dict[str, Handler], access: Access
    ) -> None:
        super().__init__(
            "lambda",
            handlers,
            # Invoke authorizes itself: the function's resource policy takes part
            {"Invoke": None},
            {FunctionError: function_error},
            access,
            self._resource_of,
            validation_code="ValidationException",
        )
        self.lc = lc
        self.invoker = invoker  # the FunctionInvoker API Gateway calls
        self._plans = {
            op: BodyPlan(limit, _too_large(name, limit))
            for op, (name, limit) in BODY_LIMITS.items()
        }

    def body_plan(self, req: Request) -> BodyPlan:
        found = self.router.match(req.method, req.path, parse_query(req.query), req.headers)
        name = found.operation.name if found is not None else "Unknown"
        plan = self._plans.get(name)
        return plan if plan is not None else BodyPlan(OTHER_LIMIT, _too_large(name, OTHER_LIMIT))

    def _resource_of(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> str:
        """The function (version or alias) an operation acts on, as IAM names it."""
        given = params.get("FunctionName")
        if not given:
            return "*"
        try:
            ref = parse_reference(given, params.get("Qualifier"))
        except FunctionError:
            ref = parse_reference(given)
        return self.lc.arns.function(ref.name, ref.qualifier)


def lambda_service(
    store: FunctionStore,
    directory: Directory,
    access: Access,
    network: NetworkStore,
    objects: ObjectStore,
    runtime: FunctionRuntime | None,
    code_urls: CodeUrls,
) -> LambdaService:
    lc = LambdaContext(store, directory, access, network, objects, runtime, code_urls)
    invoker = Invoker(lc)
    handlers: dict[str, Handler] = {}
    for provided in (
        functions.handlers(lc), versions.handlers(lc), permissions.handlers(lc),
        invoke_handlers(invoker),
    ):  # fmt: skip
        clash = handlers.keys() & provided.keys()
        if clash:
            raise RuntimeError(f"handlers redefined: {sorted(clash)}")
        handlers |= provided
    return LambdaService(lc, invoker, handlers, access)
