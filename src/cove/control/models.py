"""CreateModel, DescribeModel, ListModels, DeleteModel."""

from __future__ import annotations

from typing import Any

from cove.control.context import ControlContext
from cove.control.kinds import MODEL
from cove.control.listing import list_resources
from cove.gateway.messages import RequestContext
from cove.protocol.errors import validation_error
from cove.protocol.json_rpc import Handler
from cove.storage.resources import Resource

# CreateModel members kept in the model's document and echoed by DescribeModel.
_STORED = (
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


def handlers(control: ControlContext) -> dict[str, Handler]:
    store, settings = control.resources, control.settings

    def create_model(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ModelName"]
        if store.get(MODEL.store_kind, name) is not None:
            raise MODEL.already_exists(settings, name)
        check_model(params)
        doc = {key: params[key] for key in _STORED if key in params}
        doc.setdefault("EnableNetworkIsolation", False)
        res = MODEL.create(store, settings, name, doc)
        return {"ModelArn": res.arn}

    def describe_model(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return describe(MODEL.get(store, settings, params["ModelName"]))

    def list_models(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return list_resources(store.list(MODEL.store_kind), params, MODEL.identity, "Models")

    def delete_model(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        # Like SageMaker, endpoints already deployed from the model keep running.
        if not store.delete(MODEL.store_kind, params["ModelName"]):
            raise MODEL.not_found(settings, params["ModelName"])
        return {}

    return {
        "CreateModel": create_model,
        "DescribeModel": describe_model,
        "ListModels": list_models,
        "DeleteModel": delete_model,
    }
