"""The resource a SageMaker operation acts on, as its policy Resource names it: the ARN of
the endpoint, endpoint config, model or training job its input names (SageMaker's ARNs
carry the name lower-cased), the ResourceArn of the tag operations, "*" for the List
calls (Service Authorization Reference, "Actions, resources, and condition keys for
Amazon SageMaker AI")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cove.config import Settings
from cove.http.messages import RequestContext

# In this order: CreateEndpoint names both an endpoint and its config, and acts on the
# endpoint.
_NAMED = (
    ("EndpointName", "endpoint"),
    ("EndpointConfigName", "endpoint-config"),
    ("ModelName", "model"),
    ("TrainingJobName", "training-job"),
)


def resource_of(settings: Settings) -> Callable[[RequestContext, str, dict[str, Any]], str]:
    def resource(ctx: RequestContext, operation: str, params: dict[str, Any]) -> str:
        if isinstance(params.get("ResourceArn"), str):
            return params["ResourceArn"]
        for member, arn_type in _NAMED:
            name = params.get(member)
            if isinstance(name, str) and not operation.startswith("List"):
                return settings.arn("sagemaker", f"{arn_type}/{name.lower()}")
        return "*"

    return resource
