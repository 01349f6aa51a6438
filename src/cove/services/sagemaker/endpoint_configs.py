"""CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs, DeleteEndpointConfig."""

from __future__ import annotations

from typing import Any

from cove.control.context import ControlContext
from cove.control.endpoint_configs import UNSUPPORTED_MEMBERS, config_document, describe
from cove.control.kinds import ENDPOINT_CONFIG
from cove.control.listing import list_resources
from cove.control.variants import build_records, check_variants
from cove.errors import validation_error
from cove.gateway.json_service import Handler
from cove.http.messages import RequestContext


def handlers(control: ControlContext) -> dict[str, Handler]:
    store, settings = control.resources, control.settings

    def create_endpoint_config(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["EndpointConfigName"]
        if store.get(ENDPOINT_CONFIG.store_kind, name) is not None:
            raise ENDPOINT_CONFIG.already_exists(settings, name)
        for key in UNSUPPORTED_MEMBERS:
            if params.get(key):
                raise validation_error(f"Cove does not support {key} yet.")
        check_variants(params["ProductionVariants"])
        doc = config_document(params)
        build_records(store, settings, doc)  # the models must exist and be deployable
        res = ENDPOINT_CONFIG.create(store, settings, name, doc)
        return {"EndpointConfigArn": res.arn}

    def describe_endpoint_config(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return describe(ENDPOINT_CONFIG.get(store, settings, params["EndpointConfigName"]))

    def list_endpoint_configs(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rows = store.list(ENDPOINT_CONFIG.store_kind)
        return list_resources(rows, params, ENDPOINT_CONFIG.identity, "EndpointConfigs")

    def delete_endpoint_config(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        # Endpoints keep a snapshot of what they deployed, so they are unaffected.
        if not store.delete(ENDPOINT_CONFIG.store_kind, params["EndpointConfigName"]):
            raise ENDPOINT_CONFIG.not_found(settings, params["EndpointConfigName"])
        return {}

    return {
        "CreateEndpointConfig": create_endpoint_config,
        "DescribeEndpointConfig": describe_endpoint_config,
        "ListEndpointConfigs": list_endpoint_configs,
        "DeleteEndpointConfig": delete_endpoint_config,
    }
