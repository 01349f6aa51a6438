"""CreateModel, DescribeModel, ListModels, DeleteModel."""

from __future__ import annotations

from typing import Any

from cove.control.context import ControlContext
from cove.control.kinds import MODEL
from cove.control.listing import list_resources
from cove.control.models import STORED_MEMBERS, check_model, describe
from cove.control.vpc import check_vpc_config
from cove.gateway.json_service import Handler
from cove.http.messages import RequestContext


def handlers(control: ControlContext) -> dict[str, Handler]:
    store, settings = control.resources, control.settings

    def create_model(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ModelName"]
        if store.get(MODEL.store_kind, name) is not None:
            raise MODEL.already_exists(settings, name)
        check_model(params)
        if params.get("VpcConfig") and control.network is not None:
            check_vpc_config(control.network, params["VpcConfig"])
        doc = {key: params[key] for key in STORED_MEMBERS if key in params}
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
