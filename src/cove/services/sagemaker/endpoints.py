"""CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint,
UpdateEndpointWeightsAndCapacities, DeleteEndpoint.

Each mutating call validates, persists the target state and returns at once; the
transition itself runs in the control plane's `Deployments`."""

from __future__ import annotations

from typing import Any

from cove.control.context import ControlContext
from cove.control.deployments import CREATING, DELETING, UPDATING
from cove.control.endpoints import (
    check_desired,
    describe,
    pending_deployment,
    require_in_service,
    summary_of,
)
from cove.control.kinds import ENDPOINT, ENDPOINT_CONFIG
from cove.control.listing import list_resources
from cove.control.variants import build_records, retain_properties
from cove.errors import validation_error
from cove.gateway.json_service import Handler
from cove.http.messages import RequestContext
from cove.statuses import EndpointStatus


def handlers(control: ControlContext) -> dict[str, Handler]:
    store, settings, deployments = control.resources, control.settings, control.deployments

    def create_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, config_name = params["EndpointName"], params["EndpointConfigName"]
        if store.get(ENDPOINT.store_kind, name) is not None:
            raise ENDPOINT.already_exists(settings, name)
        config = ENDPOINT_CONFIG.get(store, settings, config_name)
        records = build_records(store, settings, config.doc)
        doc = {
            "EndpointConfigName": config_name,
            "Variants": None,
            "Pending": pending_deployment(config_name, records),
            "FailureReason": None,
            "DeploymentConfig": params.get("DeploymentConfig"),
            "Tags": params.get("Tags", []),
        }
        res = ENDPOINT.create(store, settings, name, doc, status=CREATING)
        deployments.create(name)
        return {"EndpointArn": res.arn}

    def describe_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return describe(ENDPOINT.get(store, settings, params["EndpointName"]))

    def list_endpoints(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return list_resources(store.list(ENDPOINT.store_kind), params, summary_of, "Endpoints")

    def update_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = ENDPOINT.get(store, settings, params["EndpointName"])
        require_in_service(res)
        config_name = params["EndpointConfigName"]
        config = ENDPOINT_CONFIG.get(store, settings, config_name)
        records = build_records(store, settings, config.doc)
        if params.get("RetainAllVariantProperties"):
            excluded = {
                p["VariantPropertyType"] for p in params.get("ExcludeRetainedVariantProperties", [])
            }
            records = retain_properties(records, res.doc["Variants"], excluded)
        res.doc["Pending"] = pending_deployment(config_name, records)
        if not params.get("RetainDeploymentConfig"):
            res.doc["DeploymentConfig"] = params.get("DeploymentConfig")
        res.status = UPDATING
        store.save(res)
        deployments.update(res.name)
        return {"EndpointArn": res.arn}

    def update_weights(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = ENDPOINT.get(store, settings, params["EndpointName"])
        require_in_service(res)
        desired = params["DesiredWeightsAndCapacities"]
        check_desired(res, desired)
        by_name = {r["VariantName"]: r for r in res.doc["Variants"]}
        for d in desired:
            rec = by_name[d["VariantName"]]
            rec["DesiredWeight"] = float(d.get("DesiredWeight", rec["DesiredWeight"]))
            rec["DesiredInstanceCount"] = d.get("DesiredInstanceCount", rec["DesiredInstanceCount"])
        res.status = UPDATING
        store.save(res)
        deployments.apply_weights(res.name)
        return {"EndpointArn": res.arn}

    def delete_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = ENDPOINT.get(store, settings, params["EndpointName"])
        if EndpointStatus(res.status).changing:
            raise validation_error(f'Cannot update in-progress endpoint "{res.arn}".')
        res.status = DELETING
        store.save(res)
        deployments.delete(res.name)
        return {}

    return {
        "CreateEndpoint": create_endpoint,
        "DescribeEndpoint": describe_endpoint,
        "ListEndpoints": list_endpoints,
        "UpdateEndpoint": update_endpoint,
        "UpdateEndpointWeightsAndCapacities": update_weights,
        "DeleteEndpoint": delete_endpoint,
    }
