"""A REST API's parts as API Gateway defines them: resources in a tree of path parts, the
methods on them, each method's integration with its backend, and the responses either
side maps; a deployment freezes the resource tree, a stage serves one deployment."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from cove.apis.method_settings import MethodSetting


class IntegrationType(StrEnum):
    AWS = "AWS"  # a Lambda function behind mapping templates (the console's "Lambda Function")
    AWS_PROXY = "AWS_PROXY"  # a Lambda function given the whole request as its event
    MOCK = "MOCK"  # answered by API Gateway itself
    HTTP = "HTTP"
    HTTP_PROXY = "HTTP_PROXY"


class AuthorizationType(StrEnum):
    NONE = "NONE"
    AWS_IAM = "AWS_IAM"
    CUSTOM = "CUSTOM"
    COGNITO_USER_POOLS = "COGNITO_USER_POOLS"


class Passthrough(StrEnum):
    """What a request whose content type has no mapping template gets (passthroughBehavior)."""

    WHEN_NO_MATCH = "WHEN_NO_MATCH"  # passed through unless some other type has a template
    WHEN_NO_TEMPLATES = "WHEN_NO_TEMPLATES"  # passed through only when there are none
    NEVER = "NEVER"  # refused: 415 Unsupported Media Type


@dataclass
class IntegrationResponse:
    status_code: str
    # None: the default response, the one selected when no other's pattern matches
    selection_pattern: str | None = None
    response_templates: dict[str, str] = field(default_factory=dict)
    response_parameters: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, data: dict[str, Any]) -> IntegrationResponse:
        return cls(**data)


# An integration's `credentials` asking for the caller's own identity to be passed through
# (API Reference, Integration: "specify the string arn:aws:iam::*:user/*")
CALLER_CREDENTIALS = "arn:aws:iam::*:user/*"


@dataclass
class Integration:
    type: IntegrationType
    http_method: str | None = None  # integrationHttpMethod: Lambda is always invoked by POST
    uri: str | None = None
    request_templates: dict[str, str] = field(default_factory=dict)
    request_parameters: dict[str, str] = field(default_factory=dict)
    passthrough: Passthrough = Passthrough.WHEN_NO_MATCH
    timeout_ms: int = 29_000
    responses: dict[str, IntegrationResponse] = field(default_factory=dict)
    # None: the function's resource policy decides; a role's ARN: API Gateway assumes it;
    # CALLER_CREDENTIALS: the signed caller's own permissions
    credentials: str | None = None

    @classmethod
    def load(cls, data: dict[str, Any]) -> Integration:
        data = dict(data)
        responses = {k: IntegrationResponse.load(v) for k, v in data.pop("responses").items()}
        return cls(
            type=IntegrationType(data.pop("type")),
            passthrough=Passthrough(data.pop("passthrough")),
            responses=responses,
            **data,
        )


@dataclass
class MethodResponse:
    status_code: str
    response_parameters: dict[str, bool] = field(default_factory=dict)
    response_models: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, data: dict[str, Any]) -> MethodResponse:
        return cls(**data)


@dataclass
class Method:
    http_method: str  # GET, POST, ... or ANY
    authorization_type: AuthorizationType = AuthorizationType.NONE
    api_key_required: bool = False
    request_parameters: dict[str, bool] = field(default_factory=dict)
    responses: dict[str, MethodResponse] = field(default_factory=dict)
    integration: Integration | None = None
    operation_name: str | None = None
    request_models: dict[str, str] = field(default_factory=dict)  # content type -> model

    @classmethod
    def load(cls, data: dict[str, Any]) -> Method:
        data = dict(data)
        integration = data.pop("integration")
        responses = {k: MethodResponse.load(v) for k, v in data.pop("responses").items()}
        return cls(
            authorization_type=AuthorizationType(data.pop("authorization_type")),
            responses=responses,
            integration=None if integration is None else Integration.load(integration),
            **data,
        )


@dataclass
class Resource:
    id: str
    parent_id: str | None  # None for the root resource, "/"
    path_part: str  # "", "pets", "{petId}", "{proxy+}"
    path: str  # "/pets/{petId}"
    methods: dict[str, Method] = field(default_factory=dict)

    @property
    def is_greedy(self) -> bool:
        return self.path_part.endswith("+}")

    @property
    def variable(self) -> str | None:
        """The path parameter this part binds ("petId", "proxy"), None for a literal."""
        if self.path_part.startswith("{") and self.path_part.endswith("}"):
            return self.path_part[1:-1].removesuffix("+")
        return None

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, data: dict[str, Any]) -> Resource:
        data = dict(data)
        methods = {k: Method.load(v) for k, v in data.pop("methods").items()}
        return cls(methods=methods, **data)


@dataclass(frozen=True)
class RestApi:
    id: str
    name: str
    description: str
    created: float
    root_resource_id: str
    endpoint_types: tuple[str, ...] = ("EDGE",)
    binary_media_types: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    disable_execute_api_endpoint: bool = False


@dataclass(frozen=True)
class Deployment:
    """A snapshot of an API's resources and methods, as its stages serve them."""

    api_id: str
    id: str
    description: str
    created: float
    resources: tuple[Resource, ...]


@dataclass(frozen=True)
class Stage:
    api_id: str
    name: str
    deployment_id: str
    description: str
    created: float
    updated: float
    variables: dict[str, str] = field(default_factory=dict)
    method_settings: dict[str, MethodSetting] = field(default_factory=dict)
    tracing_enabled: bool = False
