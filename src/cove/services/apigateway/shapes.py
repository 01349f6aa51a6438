"""The store's objects as API Gateway's output shapes (botocore's `apigateway` model)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cove.apis.method_settings import MethodSetting
from cove.apis.model import (
    Deployment,
    Integration,
    IntegrationResponse,
    Method,
    MethodResponse,
    Resource,
    RestApi,
    Stage,
)


def _time(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def rest_api(api: RestApi) -> dict[str, Any]:
    return {
        "id": api.id,
        "name": api.name,
        "description": api.description or None,
        "createdDate": _time(api.created),
        "binaryMediaTypes": list(api.binary_media_types) or None,
        "apiKeySource": "HEADER",
        "endpointConfiguration": {"types": list(api.endpoint_types)},
        "tags": api.tags or None,
        "disableExecuteApiEndpoint": api.disable_execute_api_endpoint,
        "rootResourceId": api.root_resource_id,
    }


def integration_response(response: IntegrationResponse) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "selectionPattern": response.selection_pattern,
        "responseTemplates": response.response_templates or None,
        "responseParameters": response.response_parameters or None,
    }


def integration(found: Integration) -> dict[str, Any]:
    return {
        "type": str(found.type),
        "httpMethod": found.http_method,
        "uri": found.uri,
        "credentials": found.credentials,
        "requestTemplates": found.request_templates or None,
        "requestParameters": found.request_parameters or None,
        "passthroughBehavior": str(found.passthrough),
        "timeoutInMillis": found.timeout_ms,
        "cacheNamespace": None,
        "cacheKeyParameters": [],
        "integrationResponses": {k: integration_response(v) for k, v in found.responses.items()}
        or None,
    }


def method_response(response: MethodResponse) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "responseParameters": response.response_parameters or None,
        "responseModels": response.response_models or None,
    }


def method(found: Method) -> dict[str, Any]:
    return {
        "httpMethod": found.http_method,
        "authorizationType": str(found.authorization_type),
        "apiKeyRequired": found.api_key_required,
        "requestParameters": found.request_parameters or None,
        "methodResponses": {k: method_response(v) for k, v in found.responses.items()} or None,
        "methodIntegration": None if found.integration is None else integration(found.integration),
        "operationName": found.operation_name,
        "requestModels": found.request_models or None,
    }


def resource(found: Resource, embed_methods: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"id": found.id, "path": found.path}
    if found.parent_id is not None:
        out["parentId"] = found.parent_id
        out["pathPart"] = found.path_part
    if found.methods:
        out["resourceMethods"] = {
            k: (method(m) if embed_methods else {}) for k, m in found.methods.items()
        }
    return out


def deployment(found: Deployment) -> dict[str, Any]:
    return {
        "id": found.id,
        "description": found.description or None,
        "createdDate": _time(found.created),
    }


def stage(found: Stage) -> dict[str, Any]:
    return {
        "deploymentId": found.deployment_id,
        "stageName": found.name,
        "description": found.description or None,
        "cacheClusterEnabled": False,
        "cacheClusterStatus": "NOT_AVAILABLE",
        "methodSettings": {k: method_setting(v) for k, v in found.method_settings.items()},
        "variables": found.variables or None,
        "tracingEnabled": found.tracing_enabled,
        "createdDate": _time(found.created),
        "lastUpdatedDate": _time(found.updated),
    }


def method_setting(setting: MethodSetting) -> dict[str, Any]:
    return {
        "metricsEnabled": setting.metrics_enabled,
        "loggingLevel": None if setting.logging_level is None else str(setting.logging_level),
        "dataTraceEnabled": setting.data_trace_enabled,
        "throttlingBurstLimit": setting.throttling_burst_limit,
        "throttlingRateLimit": setting.throttling_rate_limit,
        "cachingEnabled": setting.caching_enabled,
        "cacheTtlInSeconds": setting.cache_ttl_in_seconds,
        "cacheDataEncrypted": setting.cache_data_encrypted,
        "requireAuthorizationForCacheControl": setting.require_authorization_for_cache_control,
        "unauthorizedCacheControlHeaderStrategy":
            setting.unauthorized_cache_control_header_strategy,
    }  # fmt: skip


def account(cloudwatch_role_arn: str | None) -> dict[str, Any]:
    """GetAccount's answer; the throttle is API Gateway's account default (nominal: Cove
    throttles nothing per account)."""
    out: dict[str, Any] = {
        "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
        "features": ["UsagePlans"],
        "apiKeyVersion": "4",
    }
    if cloudwatch_role_arn is not None:
        out["cloudwatchRoleArn"] = cloudwatch_role_arn
    return out


def drop_none(value: Any) -> Any:
    """Members AWS leaves out rather than sending null."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value
