"""The resources a SageMaker operation is authorized on, as its policy Resource names them:
the ARN of the endpoint, endpoint config, model or training job its input names (SageMaker's
ARNs carry the name lower-cased), the ResourceArn of the tag operations, "*" for the List
calls; each with the condition keys its tags set (aws:ResourceTag/<key> and
sagemaker:ResourceTag/<key>). CreateEndpoint and UpdateEndpoint act on the endpoint and
on the endpoint configuration they name (Service Authorization Reference, "Actions,
resources, and condition keys for Amazon SageMaker AI",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).

Tag-based policies do not restrict the List calls, ListTags or Search (SageMaker Developer
Guide, "Control access to SageMaker AI resources by using tags",
https://docs.aws.amazon.com/sagemaker/latest/dg/security_iam_id-based-policy-examples.html).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cove.config import Settings
from cove.control.tags import TagIndex
from cove.gateway.operations import Target
from cove.http.messages import RequestContext
from cove.iam.request import resource_tag_keys

# The member naming an operation's resource, and its ARN type; in this order, since
# CreateEndpoint names both an endpoint and its config and acts on the endpoint first.
_NAMED = (
    ("EndpointName", "endpoint"),
    ("EndpointConfigName", "endpoint-config"),
    ("ModelName", "model"),
    ("TrainingJobName", "training-job"),
)
_ON_ENDPOINT_AND_CONFIG = frozenset({"CreateEndpoint", "UpdateEndpoint"})
_TAGS_UNCHECKED = frozenset({"ListTags", "Search"})


def resource_of(
    settings: Settings, tags: TagIndex | None = None
) -> Callable[[RequestContext, str, dict[str, Any]], str | list[Target]]:
    """`tags` gives each resource's tags; without it (a control plane alone) none are."""

    def target(arn: str, operation: str) -> Target:
        if tags is None or operation in _TAGS_UNCHECKED:
            return Target(arn)
        return Target(arn, resource_tag_keys(tags.tags_of(arn), "sagemaker"))

    def named(operation: str, params: dict[str, Any]) -> list[str]:
        arns = []
        for member, arn_type in _NAMED:
            name = params.get(member)
            if isinstance(name, str):
                arns.append(settings.arn("sagemaker", f"{arn_type}/{name.lower()}"))
                if operation not in _ON_ENDPOINT_AND_CONFIG or len(arns) == 2:
                    break
        return arns

    def resource(ctx: RequestContext, operation: str, params: dict[str, Any]) -> str | list[Target]:
        if isinstance(params.get("ResourceArn"), str):
            return [target(params["ResourceArn"], operation)]
        if operation.startswith("List"):
            return "*"
        return [target(arn, operation) for arn in named(operation, params)] or "*"

    return resource
