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
    record_of,
    require_in_service,
    summary_of,
)
from cove.control.kinds import ENDPOINT, ENDPOINT_CONFIG
from cove.control.listing import list_resources
from cove.control.records import EndpointRecord
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
        rec = EndpointRecord(
            config_name,
            pending=pending_deployment(config_name, records),
            deployment_config=params.get("DeploymentConfig"),
            tags=params.get("Tags", []),
        )
        res = ENDPOINT.create(store, settings, name, rec.to_doc(), status=CREATING)
        deployments.create(name)
        return {"EndpointArn": res.arn}

    def describe_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return describe(ENDPOINT.get(store, settings, params["EndpointName"]))

    def list_endpoints(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return list_resources(store.list(ENDPOINT.store_kind), params, summary_of, "Endpoints")

    def update_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = ENDPOINT.get(store, settings, params["EndpointName"])
        require_in_service(res)
        rec = record_of(res)
        config_name = params["EndpointConfigName"]
        config = ENDPOINT_CONFIG.get(store, settings, config_name)
        records = build_records(store, settings, config.doc)
        if params.get("RetainAllVariantProperties"):
            excluded = {
                p["VariantPropertyType"] for p in params.get("ExcludeRetainedVariantProperties", [])
            }
            records = retain_properties(records, rec.variants or [], excluded)
        rec.pending = pending_deployment(config_name, records)
        if not params.get("RetainDeploymentConfig"):
            rec.deployment_config = params.get("DeploymentConfig")
        res.doc, res.status = rec.to_doc(), UPDATING
        store.save(res)
        deployments.update(res.name)
        return {"EndpointArn": res.arn}

    def update_weights(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = ENDPOINT.get(store, settings, params["EndpointName"])
        require_in_service(res)
        desired = params["DesiredWeightsAndCapacities"]
        rec = record_of(res)
        check_desired(res, rec, desired)
        for d in desired:
            variant = rec.variant(d["VariantName"])
            assert variant is not None  # check_desired refused unknown names
            variant.desired_weight = float(d.get("DesiredWeight", variant.desired_weight))
            variant.desired_instance_count = d.get(
                "DesiredInstanceCount", variant.desired_instance_count
            )
        res.doc, res.status = rec.to_doc(), UPDATING
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
