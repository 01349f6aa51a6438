"""The API Gateway management API's handlers (REST APIs, resources, methods, integrations
and their responses, deployments, stages): input members in, output shapes out."""

from __future__ import annotations

from typing import Any

from cove.apis.engine import lambda_function_of
from cove.apis.model import (
    AuthorizationType,
    Integration,
    IntegrationResponse,
    IntegrationType,
    Method,
    MethodResponse,
    Passthrough,
)
from cove.apis.store import ApiStore
from cove.apis.updates import TIMEOUT_RULE
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.access import Access
from cove.services.apigateway import shapes
from cove.services.apigateway.credentials import INVALID_ARN, checked_credentials
from cove.services.apigateway.errors import bad_request

SUPPORTED_AUTHORIZATION = (AuthorizationType.NONE, AuthorizationType.AWS_IAM)
SUPPORTED_INTEGRATIONS = (IntegrationType.AWS, IntegrationType.AWS_PROXY, IntegrationType.MOCK)
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY")


def _page(items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """`position` is the index of the next item, `limit` 25 by default (max 500)."""
    start = int(params.get("position") or 0)
    limit = min(int(params.get("limit") or 25), 500)
    page = items[start : start + limit]
    out: dict[str, Any] = {"items": page}
    if start + limit < len(items):
        out["position"] = str(start + limit)
    return out


def http_method_of(params: dict[str, Any]) -> str:
    method = str(params["httpMethod"]).upper()
    if method not in HTTP_METHODS:
        raise bad_request("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,"
                          "PATCH,OPTIONS,HEAD,ANY")  # fmt: skip
    return method


def handlers(store: ApiStore, access: Access) -> dict[str, Handler]:
    def create_rest_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        types = tuple((p.get("endpointConfiguration") or {}).get("types") or ("EDGE",))
        api = store.create_api(
            p["name"], p.get("description") or "", types,
            tuple(p.get("binaryMediaTypes") or ()), p.get("tags"),
            bool(p.get("disableExecuteApiEndpoint", False)),
        )  # fmt: skip
        return shapes.drop_none(shapes.rest_api(api))

    def get_rest_apis(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return _page([shapes.drop_none(shapes.rest_api(a)) for a in store.apis()], p)

    def get_rest_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return shapes.drop_none(shapes.rest_api(store.api(p["restApiId"])))

    def delete_rest_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.delete_api(p["restApiId"])
        return {}

    def get_resources(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        embed = "methods" in (p.get("embed") or [])
        found = store.resources(p["restApiId"])
        return _page([shapes.drop_none(shapes.resource(r, embed)) for r in found], p)

    def get_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        embed = "methods" in (p.get("embed") or [])
        found = store.resource(p["restApiId"], p["resourceId"])
        return shapes.drop_none(shapes.resource(found, embed))

    def create_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.create_resource(p["restApiId"], p["parentId"], p["pathPart"])
        return shapes.drop_none(shapes.resource(found))

    def delete_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.delete_resource(p["restApiId"], p["resourceId"])
        return {}

    def put_method(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        try:
            authorization = AuthorizationType(p["authorizationType"])
        except ValueError:
            raise bad_request(f"Invalid authorization type specified: "
                              f"{p['authorizationType']}") from None  # fmt: skip
        if authorization not in SUPPORTED_AUTHORIZATION:
            raise bad_request(f"Cove supports the authorization types NONE and AWS_IAM, not "
                              f"{authorization}")  # fmt: skip
        method = Method(
            http_method_of(p), authorization, bool(p.get("apiKeyRequired", False)),
            dict(p.get("requestParameters") or {}),
        )  # fmt: skip
        found = store.put_method(p["restApiId"], p["resourceId"], method)
        return shapes.drop_none(shapes.method(found))

    def get_method(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.method(p["restApiId"], p["resourceId"], http_method_of(p))
        return shapes.drop_none(shapes.method(found))

    def delete_method(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.delete_method(p["restApiId"], p["resourceId"], http_method_of(p))
        return {}

    def put_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        integration = _integration(p)
        integration.credentials = checked_credentials(access, ctx, p.get("credentials"))
        found = store.put_integration(
            p["restApiId"], p["resourceId"], http_method_of(p), integration
        )
        return shapes.drop_none(shapes.integration(found))

    def get_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.integration(p["restApiId"], p["resourceId"], http_method_of(p))
        return shapes.drop_none(shapes.integration(found))

    def put_method_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        response = MethodResponse(
            _status_code(p), dict(p.get("responseParameters") or {}),
            dict(p.get("responseModels") or {}),
        )  # fmt: skip
        found = store.put_method_response(
            p["restApiId"], p["resourceId"], http_method_of(p), response
        )
        return shapes.drop_none(shapes.method_response(found))

    def get_method_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.method_response(
            p["restApiId"], p["resourceId"], http_method_of(p), p["statusCode"]
        )
        return shapes.drop_none(shapes.method_response(found))

    def put_integration_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        response = IntegrationResponse(
            _status_code(p), p.get("selectionPattern") or None,
            dict(p.get("responseTemplates") or {}), dict(p.get("responseParameters") or {}),
        )  # fmt: skip
        found = store.put_integration_response(
            p["restApiId"], p["resourceId"], http_method_of(p), response
        )
        return shapes.drop_none(shapes.integration_response(found))

    def get_integration_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.integration_response(
            p["restApiId"], p["resourceId"], http_method_of(p), p["statusCode"]
        )
        return shapes.drop_none(shapes.integration_response(found))

    def create_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.create_deployment(
            p["restApiId"], p.get("description") or "", p.get("stageName") or None,
            p.get("stageDescription") or "", p.get("variables"),
        )  # fmt: skip
        return shapes.drop_none(shapes.deployment(found))

    def get_deployments(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.deployments(p["restApiId"])
        return _page([shapes.drop_none(shapes.deployment(d)) for d in found], p)

    def get_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.deployment(p["restApiId"], p["deploymentId"])
        return shapes.drop_none(shapes.deployment(found))

    def create_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.create_stage(
            p["restApiId"], p["stageName"], p["deploymentId"], p.get("description") or "",
            p.get("variables"),
        )  # fmt: skip
        return shapes.drop_none(shapes.stage(found))

    def get_stages(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.stages(p["restApiId"])
        wanted = p.get("deploymentId")
        return {
            "item": [
                shapes.drop_none(shapes.stage(s))
                for s in found
                if wanted is None or s.deployment_id == wanted
            ]
        }

    def get_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return shapes.drop_none(shapes.stage(store.stage(p["restApiId"], p["stageName"])))

    def delete_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.delete_stage(p["restApiId"], p["stageName"])
        return {}

    return {
        "CreateRestApi": create_rest_api, "GetRestApis": get_rest_apis,
        "GetRestApi": get_rest_api, "DeleteRestApi": delete_rest_api,
        "GetResources": get_resources, "GetResource": get_resource,
        "CreateResource": create_resource, "DeleteResource": delete_resource,
        "PutMethod": put_method, "GetMethod": get_method, "DeleteMethod": delete_method,
        "PutIntegration": put_integration, "GetIntegration": get_integration,
        "PutMethodResponse": put_method_response, "GetMethodResponse": get_method_response,
        "PutIntegrationResponse": put_integration_response,
        "GetIntegrationResponse": get_integration_response,
        "CreateDeployment": create_deployment, "GetDeployments": get_deployments,
        "GetDeployment": get_deployment, "CreateStage": create_stage,
        "GetStages": get_stages, "GetStage": get_stage, "DeleteStage": delete_stage,
    }  # fmt: skip


def _status_code(p: dict[str, Any]) -> str:
    code = str(p["statusCode"])
    if not (code.isdigit() and len(code) == 3 and code[0] in "12345"):
        raise bad_request("Invalid status code specified")
    return code


def _integration(p: dict[str, Any]) -> Integration:
    """PutIntegration's input, checked as API Gateway checks it."""
    try:
        kind = IntegrationType(p["type"])
    except ValueError:
        raise bad_request(f"Invalid integration type specified: {p['type']}") from None
    if kind not in SUPPORTED_INTEGRATIONS:
        raise bad_request(f"Cove supports the integration types AWS, AWS_PROXY and MOCK, "
                          f"not {kind}")  # fmt: skip
    http_method = p.get("integrationHttpMethod")
    try:
        passthrough = Passthrough(p.get("passthroughBehavior") or "WHEN_NO_MATCH")
    except ValueError:
        raise bad_request("Invalid passthrough behavior specified") from None
    timeout = int(p.get("timeoutInMillis") or 29_000)
    if not 50 <= timeout <= 29_000:
        raise bad_request(TIMEOUT_RULE)
    return checked_integration(Integration(
        kind, str(http_method).upper() if http_method else None, p.get("uri"),
        dict(p.get("requestTemplates") or {}), dict(p.get("requestParameters") or {}),
        passthrough, timeout,
    ))  # fmt: skip


def checked_integration(integration: Integration) -> Integration:
    """An integration as PutIntegration makes it or UpdateIntegration leaves it: a
    non-MOCK one has a method and a Lambda function's invocation URI."""
    kind, http_method, uri = integration.type, integration.http_method, integration.uri
    if kind is not IntegrationType.MOCK:
        if not http_method:
            raise bad_request("Enumeration value for HttpMethod must be non-empty")
        if not uri:
            raise bad_request(INVALID_ARN)
        if ":lambda:path/" not in uri and ":path/" not in uri and ":action/" not in uri:
            raise bad_request("AWS ARN for integration must contain path or action")
        if lambda_function_of(uri) is None:
            raise bad_request("Cove's AWS integrations call Lambda functions: the uri must be "
                              "arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/"
                              "<function arn>/invocations")  # fmt: skip
    return integration
