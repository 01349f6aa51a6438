"""The patch tables of UpdateRestApi, UpdateMethod, UpdateIntegration,
UpdateMethodResponse, UpdateIntegrationResponse, UpdateDeployment and UpdateResource: the
paths and ops of API Gateway's "Patch Operations" page that Cove's model has, each a pure
function from the object before to the object after (the store writes it)."""

from __future__ import annotations

from dataclasses import replace

from cove.apis.failures import bad_request, not_found
from cove.apis.model import (
    AuthorizationType,
    Deployment,
    Integration,
    IntegrationResponse,
    Method,
    MethodResponse,
    Passthrough,
    Resource,
    RestApi,
)
from cove.apis.patch import (
    Patch,
    PatchOp,
    PatchTable,
    Wording,
    boolean,
    integer,
    map_entry,
    required,
    rule,
)

ENDPOINT_TYPES = ("REGIONAL", "EDGE", "PRIVATE")
# Every API has these two models (Developer Guide, "Data models for REST APIs")
BUILT_IN_MODELS = ("Empty", "Error")
TIMEOUT_RULE = "Timeout should be between 50 ms and 29000 ms"


def _no_parameter() -> Exception:
    return not_found("Invalid parameter name specified")


def _no_content_type() -> Exception:
    return not_found("Content-Type specified was not found")


def _existing(entries: dict, patch: Patch, missing) -> None:  # type: ignore[no-untyped-def]
    """A replace names an entry that must be there (a response's parameters, models)."""
    if patch.op is PatchOp.REPLACE and patch.key not in entries:
        raise missing()


# UpdateRestApi


def _media_types(api: RestApi, patch: Patch) -> RestApi:
    # a list on the wire, patched like a map keyed by the type itself
    kept = [t for t in api.binary_media_types if t != patch.key]
    if patch.op is PatchOp.ADD:
        kept = list(api.binary_media_types) + ([] if patch.key in kept else [patch.key])
    elif patch.op is PatchOp.REPLACE:
        kept.append(required(patch, "binaryMediaTypes"))
    return replace(api, binary_media_types=tuple(dict.fromkeys(kept)))


def _endpoint_type(api: RestApi, patch: Patch) -> RestApi:
    value = (patch.value or "").upper()
    if value not in ENDPOINT_TYPES or patch.key.upper() not in api.endpoint_types:
        raise bad_request(
            "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE"
        )
    types = tuple(value if t == patch.key.upper() else t for t in api.endpoint_types)
    return replace(api, endpoint_types=types)


REST_API = PatchTable[RestApi](
    (
        rule("/name", "replace", lambda a, p: replace(a, name=required(p, "name"))),
        rule("/description", "add replace remove",
             lambda a, p: replace(a, description="" if p.op is PatchOp.REMOVE else p.value or "")),
        rule("/binaryMediaTypes/{key}", "add replace remove", _media_types),
        rule("/disableExecuteApiEndpoint", "replace",
             lambda a, p: replace(a, disable_execute_api_endpoint=boolean(p))),
        rule("/endpointConfiguration/types/{key}", "replace", _endpoint_type),
    ),  # fmt: skip
    Wording.BRIEF,
)


# UpdateMethod


def _authorization(method: Method, patch: Patch) -> Method:
    try:
        kind = AuthorizationType(patch.value or "")
    except ValueError:
        raise bad_request(f"Invalid authorization type specified: {patch.value}") from None
    if kind in (AuthorizationType.CUSTOM, AuthorizationType.COGNITO_USER_POOLS):
        # Cove has no authorizers, so none is valid
        raise bad_request(
            "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
            "COGNITO_USER_POOLS requires a valid authorizer."
        )
    return replace(method, authorization_type=kind)


def _request_models(method: Method, patch: Patch) -> Method:
    value = None if patch.op is PatchOp.REMOVE else patch.value or ""
    if value is not None and value not in BUILT_IN_MODELS:
        raise bad_request(f"Invalid model identifier specified: {value}")
    models = map_entry(method.request_models, patch, value, _no_content_type)
    return replace(method, request_models=models)


def _request_validator(method: Method, patch: Patch) -> Method:
    raise bad_request("Invalid Request Validator identifier specified")  # Cove has none


METHOD = PatchTable[Method](
    (
        rule("/authorizationType", "replace", _authorization),
        rule("/apiKeyRequired", "replace", lambda m, p: replace(m, api_key_required=boolean(p))),
        rule("/operationName", "replace", lambda m, p: replace(m, operation_name=p.value or None)),
        rule("/requestParameters/{key}", "add replace remove",
             lambda m, p: replace(m, request_parameters=map_entry(
                 m.request_parameters, p, boolean(p), _no_parameter))),
        rule("/requestModels/{key}", "add replace remove", _request_models),
        rule("/requestValidatorId", "replace", _request_validator),
    ),  # fmt: skip
    Wording.BRIEF,
)


# UpdateIntegration (the result is checked as PutIntegration's input is, by the caller)


def _passthrough(integration: Integration, patch: Patch) -> Integration:
    try:
        return replace(integration, passthrough=Passthrough(patch.value or ""))
    except ValueError:
        raise bad_request("Invalid passthrough behavior specified") from None


INTEGRATION = PatchTable[Integration](
    (
        rule("/uri", "replace", lambda i, p: replace(i, uri=p.value or None)),
        rule("/credentials", "replace", lambda i, p: replace(i, credentials=p.value or None)),
        rule("/httpMethod", "replace",
             lambda i, p: replace(i, http_method=(p.value or "").upper() or None)),
        rule("/passthroughBehavior", "replace", _passthrough),
        rule("/timeoutInMillis", "replace",
             lambda i, p: replace(i, timeout_ms=integer(p, 50, 29_000, TIMEOUT_RULE))),
        rule("/requestTemplates/{key}", "add replace remove",
             lambda i, p: replace(i, request_templates=map_entry(
                 i.request_templates, p, p.value or "", _no_content_type))),
        rule("/requestParameters/{key}", "add replace remove",
             lambda i, p: replace(i, request_parameters=map_entry(
                 i.request_parameters, p, required(p, "requestParameters"), _no_parameter))),
        rule("/type", "", lambda i, p: i),  # listed by AWS, with no op allowed
    ),  # fmt: skip
    Wording.BRIEF,
)


# UpdateMethodResponse


def _response_parameters(response: MethodResponse, patch: Patch) -> MethodResponse:
    _existing(response.response_parameters, patch, _no_parameter)
    parameters = map_entry(response.response_parameters, patch, boolean(patch), _no_parameter)
    return replace(response, response_parameters=parameters)


def _response_models(response: MethodResponse, patch: Patch) -> MethodResponse:
    _existing(response.response_models, patch, _no_content_type)
    value = None if patch.op is PatchOp.REMOVE else patch.value or ""
    if value is not None and value not in BUILT_IN_MODELS:
        raise bad_request(f"Invalid model identifier specified: {value}")
    models = map_entry(response.response_models, patch, value, _no_content_type)
    return replace(response, response_models=models)


METHOD_RESPONSE = PatchTable[MethodResponse](
    (
        rule("/responseParameters/{key}", "add replace remove", _response_parameters),
        rule("/responseModels/{key}", "add replace remove", _response_models),
    ),
    Wording.BRIEF,
)


# UpdateIntegrationResponse


INTEGRATION_RESPONSE = PatchTable[IntegrationResponse](
    (
        rule("/selectionPattern", "replace",
             lambda r, p: replace(r, selection_pattern=p.value or None)),
        rule("/responseTemplates/{key}", "add replace remove",
             lambda r, p: replace(r, response_templates=map_entry(
                 r.response_templates, p, p.value or "", _no_content_type))),
        rule("/responseParameters/{key}", "add replace remove",
             lambda r, p: replace(r, response_parameters=map_entry(
                 r.response_parameters, p, required(p, "responseParameters"), _no_parameter))),
    ),  # fmt: skip
    Wording.BRIEF,
)


# UpdateDeployment and UpdateResource


DEPLOYMENT = PatchTable[Deployment](
    (rule("/description", "replace", lambda d, p: replace(d, description=p.value or "")),),
    Wording.LISTED,
)

# The store checks the moved or renamed resource against the tree and derives paths.
RESOURCE = PatchTable[Resource](
    (
        rule("/parentId", "replace", lambda r, p: replace(r, parent_id=required(p, "parentId"))),
        rule("/pathPart", "replace", lambda r, p: replace(r, path_part=required(p, "pathPart"))),
    ),
    Wording.LISTED,
)
