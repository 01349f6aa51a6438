"""What a stage's invoke URL answers: the method a request reaches in the stage's
deployment, its integration (MOCK, a Lambda function behind mapping templates, or a Lambda
proxy, invoked as its resource policy or the integration's credentials allow), and the
integration response selected for the result. Failures are API Gateway's
gateway responses, `{"message": ...}`, with the reason in the stage's execution log
(`API-Gateway-Execution-Logs_<api id>/<stage>`) when the method's setting logs."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass

from cove.apis import mapping, proxy
from cove.apis.execution_log import ExecutionLog, headers_text
from cove.apis.mapping import Params
from cove.apis.method_settings import effective
from cove.apis.model import (
    CALLER_CREDENTIALS,
    Deployment,
    Integration,
    IntegrationResponse,
    IntegrationType,
    Passthrough,
    Stage,
)
from cove.apis.requests import ApiRequest, ApiResponse, request_context
from cove.apis.routing import Matched, match
from cove.apis.store import ApiStore
from cove.apis.vtl import TemplateError
from cove.functions.contracts import (
    AsCaller,
    AsRole,
    FunctionInvoker,
    InvokeCredentials,
    LogSink,
    NotPermitted,
    RoleNotAssumable,
)

APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
_LAMBDA_URI = re.compile(
    r"^arn:aws:apigateway:([a-z0-9-]+):lambda:path/2015-03-31/functions/(.+)/invocations$"
)


def lambda_function_of(uri: str) -> str | None:
    """The function ARN a Lambda integration's URI names; None for another URI."""
    found = _LAMBDA_URI.match(uri)
    return None if found is None else found.group(2)


def gateway_response(status: int, message: str, error_type: str) -> ApiResponse:
    body = json.dumps({"message": message}).encode()
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)]
    return ApiResponse(status, headers, body)


def missing_token() -> ApiResponse:
    """An unknown stage, resource or method (API Gateway Developer Guide, "Gateway response
    types": MISSING_AUTHENTICATION_TOKEN)."""
    return ApiResponse(
        403,
        [("Content-Type", "application/json"),
         ("x-amzn-ErrorType", "MissingAuthenticationTokenException")],
        b'{"message":"Missing Authentication Token"}',
    )  # fmt: skip


def internal_error(status: int = 500) -> ApiResponse:
    return gateway_response(status, "Internal server error", "InternalServerErrorException")


@dataclass(frozen=True)
class Route:
    stage: Stage
    deployment: Deployment
    matched: Matched

    @property
    def resource_path(self) -> str:
        return self.matched.resource.path


class ApiEngine:
    def __init__(
        self,
        store: ApiStore,
        invoker: FunctionInvoker | None = None,
        logs: LogSink | None = None,
    ) -> None:
        self.store = store
        self.invoker = invoker
        self.logs = logs

    @property
    def region(self) -> str:
        return self.store.region

    @property
    def account_id(self) -> str:
        return self.store.account_id

    def route(self, req: ApiRequest) -> Route | None:
        """The stage and method a request reaches; None answers Missing Authentication
        Token."""
        served = self.store.served(req.api_id, req.stage)
        if served is None:
            return None
        stage, deployment = served
        matched = match(deployment.resources, req.method, req.path)
        return None if matched is None else Route(stage, deployment, matched)

    def invoke_arn(self, req: ApiRequest) -> str:
        """The resource `execute-api:Invoke` is authorized on (IAM User Guide, API Gateway's
        resource types): arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>."""
        return (
            f"arn:aws:execute-api:{self.region}:{self.account_id}:{req.api_id}/{req.stage}/"
            f"{req.method}/{req.path.lstrip('/')}"
        )

    def source_arn(self, req: ApiRequest, route: Route) -> str:
        """What API Gateway names itself as when it invokes a function: the method's ARN
        with the resource's path (a function's permission names it as SourceArn)."""
        return (
            f"arn:aws:execute-api:{self.region}:{self.account_id}:{req.api_id}/{req.stage}/"
            f"{req.method}{route.resource_path}"
        )

    async def execute(self, route: Route, req: ApiRequest) -> ApiResponse:
        method = route.matched.method
        setting = effective(route.stage.method_settings, route.resource_path, method.http_method)
        trace = ExecutionLog(self.logs, req.api_id, req.stage, req.request_id, setting)
        self._log_request(trace, route, req)
        integration = method.integration
        try:
            if integration is None:  # a deployment refuses these; kept for old snapshots
                trace.error("Execution failed due to configuration error: No integration")
                response = internal_error()
            elif integration.type is IntegrationType.MOCK:
                response = self._mock(route, req, integration, trace)
            elif integration.type is IntegrationType.AWS:
                response = await self._lambda(route, req, integration, trace)
            elif integration.type is IntegrationType.AWS_PROXY:
                response = await self._lambda_proxy(route, req, integration, trace)
            else:
                trace.error(f"Execution failed: Cove does not run {integration.type} integrations")
                response = internal_error()
        except mapping.BodyNotJson as exc:
            trace.error(f"Execution failed: could not parse the request body into json: {exc}")
            response = gateway_response(
                400, f"Could not parse request body into json: {exc}", "BadRequestException"
            )
        except TemplateError as exc:
            trace.error(f"Execution failed due to configuration error: mapping template: {exc}")
            response = internal_error()
        if trace.verbose:
            trace.data(f"Method response body after transformations: "
                       f"{response.body.decode('utf-8', 'replace')}")  # fmt: skip
            trace.info(f"Method response headers: {headers_text(dict(response.headers))}")
        trace.completed(response.status)
        trace.flush()
        response.headers.append(("x-amzn-RequestId", req.request_id))
        return response

    def _log_request(self, trace: ExecutionLog, route: Route, req: ApiRequest) -> None:
        """The lines API Gateway logs before it calls the integration (INFO)."""
        if not trace.verbose:
            return
        api_stage = f"{req.api_id}/{req.stage}"
        trace.info(f"Extended Request Id: {secrets.token_urlsafe(12)}")
        trace.info(f"Verifying Usage Plan for request: {req.request_id}. API Key:  API Stage: "
                   f"{api_stage}")  # fmt: skip
        trace.info(f"API Key  authorized because method '{req.method} {route.resource_path}' "
                   f"does not require API Key. Request will not contribute to throttle or "
                   f"quota limits")  # fmt: skip
        trace.info(f"Usage Plan check succeeded for API Key  and API Stage {api_stage}")
        trace.info(f"Starting execution for request: {req.request_id}")
        trace.info(f"HTTP Method: {req.method}, Resource Path: {req.path}")
        path = ", ".join(f"{k}={v}" for k, v in route.matched.path_parameters.items())
        query = ", ".join(f"{k}={v}" for k, v in req.first_query().items())
        trace.data(f"Method request path: {{{path}}}")
        trace.data(f"Method request query string: {{{query}}}")
        trace.data(f"Method request headers: {headers_text(req.headers)}")
        trace.data(f"Method request body before transformations: "
                   f"{req.body.decode('utf-8', 'replace')}")  # fmt: skip

    # integrations

    def _params(self, req: ApiRequest, route: Route) -> Params:
        headers = {k: v for k, v in req.headers.items()}
        return Params(dict(route.matched.path_parameters), req.first_query(), headers)

    def _context(self, req: ApiRequest, route: Route) -> dict:
        return request_context(req, self.account_id, route.matched.resource, route.stage)

    def _request_payload(
        self, route: Route, req: ApiRequest, integration: Integration, trace: ExecutionLog
    ) -> str | ApiResponse:
        """The integration request's body: the request's template applied, or the body
        passed through as the passthrough behavior allows (else 415)."""
        body = req.body.decode("utf-8", "replace")
        templates = integration.request_templates
        template = mapping.template_for(templates, req.content_type)
        if template is None:
            allowed = integration.passthrough is Passthrough.WHEN_NO_MATCH or (
                integration.passthrough is Passthrough.WHEN_NO_TEMPLATES and not templates
            )
            if not allowed:
                trace.error("Request body does not match any mapping template: not passed "
                            "through")  # fmt: skip
                return gateway_response(
                    415, "Unsupported Media Type", "UnsupportedMediaTypeException"
                )
            return body
        return mapping.transform(
            template, body, self._params(req, route), self._context(req, route),
            route.stage.variables,
        )  # fmt: skip

    def _mock(
        self, route: Route, req: ApiRequest, integration: Integration, trace: ExecutionLog
    ) -> ApiResponse:
        payload = self._request_payload(route, req, integration, trace)
        if isinstance(payload, ApiResponse):
            return payload
        status = "200"
        try:
            document = json.loads(payload) if payload.strip() else {}
            if isinstance(document, dict) and "statusCode" in document:
                status = str(document["statusCode"])
        except ValueError:
            pass
        chosen = _select(integration, status)
        return self._respond(route, req, chosen, status, b"", trace)

    async def _invoke(
        self, route: Route, req: ApiRequest, integration: Integration, payload: bytes,
        trace: ExecutionLog,
    ):  # fmt: skip
        function_arn = lambda_function_of(integration.uri or "")
        if function_arn is None or self.invoker is None:
            reason = "Invalid Lambda function" if function_arn is None else "Lambda is unavailable"
            trace.error(f"Execution failed due to configuration error: {reason}")
            return internal_error()
        if trace.verbose:
            endpoint = (f"https://lambda.{self.region}.amazonaws.com/2015-03-31/functions/"
                        f"{function_arn}/invocations")  # fmt: skip
            trace.info(f"Endpoint request URI: {endpoint}")
            trace.data(f"Endpoint request body after transformations: "
                       f"{payload.decode('utf-8', 'replace')}")  # fmt: skip
            trace.info(f"Sending request to {endpoint}")
        started = time.perf_counter()
        try:
            result = await self.invoker.invoke_for_service(
                function_arn,
                payload,
                service_principal=APIGATEWAY_PRINCIPAL,
                source_arn=self.source_arn(req, route),
                credentials=_credentials(integration, req),
            )
        except RoleNotAssumable as exc:
            trace.error(
                "Execution failed due to configuration error: API Gateway does not have "
                f"permission to assume the provided role {exc.role_arn}"
            )
            return internal_error()
        except NotPermitted:
            trace.error(
                "Execution failed due to configuration error: Invalid permissions on Lambda "
                "function"
            )
            return internal_error()
        except LookupError:
            trace.error("Execution failed due to configuration error: Invalid Lambda function")
            return internal_error()
        if trace.verbose:
            latency = round((time.perf_counter() - started) * 1000)
            trace.info(f"Received response. Status: {result.status}, Integration latency: "
                       f"{latency} ms")  # fmt: skip
            trace.data(f"Endpoint response body before transformations: "
                       f"{result.payload.decode('utf-8', 'replace')}")  # fmt: skip
        if result.function_error:
            trace.error(f"Lambda execution failed with status {result.status} due to customer "
                        f"function error: {_error_message(result.payload)}")  # fmt: skip
        return result

    async def _lambda(
        self, route: Route, req: ApiRequest, integration: Integration, trace: ExecutionLog
    ) -> ApiResponse:
        payload = self._request_payload(route, req, integration, trace)
        if isinstance(payload, ApiResponse):
            return payload
        result = await self._invoke(route, req, integration, payload.encode(), trace)
        if isinstance(result, ApiResponse):
            return result
        # a function error is matched by its errorMessage; a success only by the default
        # response (API Gateway Developer Guide, "Handle Lambda errors in API Gateway")
        chosen = _select(integration, _error_message(result.payload) if result.function_error
                         else None)  # fmt: skip
        return self._respond(route, req, chosen, "200", result.payload, trace)

    async def _lambda_proxy(
        self, route: Route, req: ApiRequest, integration: Integration, trace: ExecutionLog
    ) -> ApiResponse:
        api = self.store.api(req.api_id)
        event = proxy.event(
            req, self.account_id, route.matched.resource, route.stage,
            route.matched.path_parameters, api.binary_media_types,
        )  # fmt: skip
        result = await self._invoke(route, req, integration, json.dumps(event).encode(), trace)
        if isinstance(result, ApiResponse):
            return result
        if result.function_error:
            return internal_error(502)
        try:
            return proxy.as_response(proxy.parse_output(result.payload))
        except proxy.MalformedProxyResponse as exc:
            trace.error(f"Execution failed due to configuration error: Malformed Lambda proxy "
                        f"response ({exc})")  # fmt: skip
            return internal_error(502)

    def _respond(
        self,
        route: Route,
        req: ApiRequest,
        chosen: IntegrationResponse | None,
        endpoint_status: str,
        payload: bytes,
        trace: ExecutionLog,
    ) -> ApiResponse:
        """The method response for the selected integration response: its template over
        the endpoint's payload, or the payload passed through."""
        if chosen is None:
            trace.error(
                "Execution failed due to configuration error: No match for output mapping and "
                f"no default output mapping configured. Endpoint Response Status Code: "
                f"{endpoint_status}"
            )
            return internal_error()
        body = payload
        accept = req.headers.get("accept")
        template = mapping.template_for(chosen.response_templates, _json_or(accept))
        if template is None and chosen.response_templates:
            template = next(iter(chosen.response_templates.values()))
        content_type = "application/json"
        if template:  # an empty template passes the payload through
            body = mapping.transform(
                template, payload.decode("utf-8", "replace"), self._params(req, route),
                self._context(req, route), route.stage.variables,
            ).encode()  # fmt: skip
        headers = [("Content-Type", content_type)]
        headers += _mapped_headers(chosen.response_parameters, payload)
        return ApiResponse(int(chosen.status_code), headers, body)


def _credentials(integration: Integration, req: ApiRequest) -> InvokeCredentials | None:
    """Whose permissions the function is invoked with: the integration's role, assumed;
    the caller's own (only a signed, AWS_IAM request has one); or, without credentials,
    the function's resource policy for apigateway.amazonaws.com (API Reference,
    Integration, credentials)."""
    if integration.credentials is None:
        return None
    if integration.credentials == CALLER_CREDENTIALS:
        return AsCaller(None if req.caller is None else req.caller.identity)
    return AsRole(integration.credentials)


def _json_or(accept: str | None) -> str:
    if not accept or "*/*" in accept:
        return "application/json"
    return accept.split(",")[0]


def _select(integration: Integration, subject: str | None) -> IntegrationResponse | None:
    """The integration response whose selectionPattern matches all of `subject` (a Lambda
    error's message, a MOCK's status code), else the default one."""
    default = None
    for response in integration.responses.values():
        pattern = response.selection_pattern
        if not pattern:
            default = default or response
        elif subject is not None and re.fullmatch(pattern, subject):
            return response
    return default


def _error_message(payload: bytes) -> str:
    try:
        document = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")
    if isinstance(document, dict):
        return str(document.get("errorMessage", ""))
    return str(document)


def _mapped_headers(parameters: dict[str, str], payload: bytes) -> list[tuple[str, str]]:
    """responseParameters of the method.response.header.<name> kind: a 'literal' or a
    value of integration.response.body (a JSONPath) of the endpoint's answer."""
    headers: list[tuple[str, str]] = []
    prefix = "method.response.header."
    for target, source in parameters.items():
        if not target.startswith(prefix):
            continue
        name = target.removeprefix(prefix)
        if source.startswith("'") and source.endswith("'") and len(source) >= 2:
            headers.append((name, source[1:-1]))
        elif source.startswith("integration.response.body"):
            path = "$" + source.removeprefix("integration.response.body")
            try:
                value = mapping.select(json.loads(payload or b"null"), path)
            except (ValueError, TemplateError):
                continue
            if value is not None:
                headers.append((name, value if isinstance(value, str) else json.dumps(value)))
    return headers
