"""CreateModel, DescribeModel, ListModels, DeleteModel."""

from __future__ import annotations

from typing import Any

from cove.control.kinds import MODEL
from cove.errors import validation_error
from cove.storage.resources import Resource

# CreateModel members kept in the model's document and echoed by DescribeModel.
STORED_MEMBERS = (
    "PrimaryContainer",
    "Containers",
    "InferenceExecutionConfig",
    "ExecutionRoleArn",
    "VpcConfig",
    "EnableNetworkIsolation",
    "Tags",
)


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The model's container definitions, PrimaryContainer or Containers alike."""
    if doc.get("PrimaryContainer"):
        return [doc["PrimaryContainer"]]
    return list(doc.get("Containers") or [])


def check_model(params: dict[str, Any]) -> None:
    """What SageMaker checks beyond the service model's shapes."""
    if params.get("PrimaryContainer") and params.get("Containers"):
        raise validation_error("Specify either PrimaryContainer or Containers, but not both.")
    found = containers(params)
    if not found:
        raise validation_error("Either PrimaryContainer or Containers must be specified.")
    for container in found:
        if not container.get("Image") and not container.get("ModelPackageName"):
            raise validation_error("Each container must specify an Image or a ModelPackageName.")


def describe(res: Resource) -> dict[str, Any]:
    return {**res.doc, **MODEL.identity(res)}
