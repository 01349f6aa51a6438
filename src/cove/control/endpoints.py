"""CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint,
UpdateEndpointWeightsAndCapacities, DeleteEndpoint.

Each mutating call validates, persists the target state and returns at once; the
transition itself runs in `Deployments` (see deployments.py for the state machine).
"""

from __future__ import annotations

import time
from typing import Any

from cove.control.context import ControlContext
from cove.control.deployments import (
    CREATING,
    DELETING,
    FAILED,
    UPDATING,
)
from cove.control.kinds import ENDPOINT, ENDPOINT_CONFIG
from cove.control.listing import list_resources
from cove.control.variants import Record, build_records, retain_properties, summary
from cove.gateway.messages import RequestContext
from cove.protocol.errors import validation_error
from cove.protocol.json_rpc import Handler
from cove.statuses import EndpointStatus
from cove.storage.resources import Resource


def describe(res: Resource) -> dict[str, Any]:
    doc = res.doc
    out: dict[str, Any] = {
        **ENDPOINT.identity(res),
        "EndpointConfigName": doc["EndpointConfigName"],
        "EndpointStatus": res.status,
        "FailureReason": doc.get("FailureReason"),
        "LastModifiedTime": res.modified,
        "LastDeploymentConfig": doc.get("DeploymentConfig"),
    }
    pending = doc.get("Pending")
    if doc.get("Variants"):
        busy = UPDATING if res.status == UPDATING and not pending else None
        out["ProductionVariants"] = [summary(r, busy, res.modified) for r in doc["Variants"]]
    elif pending and res.status == CREATING:
        out["ProductionVariants"] = [
            summary(r, CREATING, pending["StartTime"]) for r in pending["Variants"]
        ]
    if pending and res.status == UPDATING:
        out["PendingDeploymentSummary"] = {
            "EndpointConfigName": pending["EndpointConfigName"],
            "ProductionVariants": [
                summary(r, CREATING, pending["StartTime"]) for r in pending["Variants"]
            ],
            "StartTime": pending["StartTime"],
        }
    return out


def _summary(res: Resource) -> dict[str, Any]:
    return {
        **ENDPOINT.identity(res),
        "LastModifiedTime": res.modified,
        "EndpointStatus": res.status,
    }


def _pending(config_name: str, records: list[Record]) -> dict[str, Any]:
    return {"EndpointConfigName": config_name, "Variants": records, "StartTime": time.time()}


def _require_in_service(res: Resource) -> None:
    """SageMaker refuses to change an endpoint that is busy or failed."""
    if EndpointStatus(res.status).changing:
        raise validation_error(f'Cannot update in-progress endpoint "{res.arn}".')
    if res.status == FAILED:
        raise validation_error(f'Cannot update failed endpoint "{res.arn}".')


def _check_desired(res: Resource, desired: list[dict[str, Any]]) -> None:
    known = {r["VariantName"]: r for r in res.doc["Variants"]}
    names = [d["VariantName"] for d in desired]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise validation_error(
            f"The variant name(s) [{', '.join(unknown)}] is/are not present in "
            f'the endpoint "{res.arn}".'
        )
    if len(set(names)) != len(names):
        raise validation_error("The variant names in DesiredWeightsAndCapacities must be unique.")
    for d in desired:
        name = d["VariantName"]
        if "DesiredWeight" not in d and "DesiredInstanceCount" not in d:
            raise validation_error(
                f"Specify DesiredWeight or DesiredInstanceCount for variant {name}."
            )
        if d.get("DesiredInstanceCount") is not None:
            if known[name]["ServerlessConfig"]:
                raise validation_error(
                    f"Variant {name} is serverless; its instance count cannot be changed."
                )
            if d["DesiredInstanceCount"] < 1:
                raise validation_error(f"DesiredInstanceCount for variant {name} must be >= 1.")
    weights = {n: r["DesiredWeight"] for n, r in known.items()}
    weights.update({d["VariantName"]: d["DesiredWeight"] for d in desired if "DesiredWeight" in d})
    if sum(weights.values()) <= 0:
        raise validation_error("At least one production variant must have a weight above 0.")


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
            "Pending": _pending(config_name, records),
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
        return list_resources(store.list(ENDPOINT.store_kind), params, _summary, "Endpoints")

    def update_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = ENDPOINT.get(store, settings, params["EndpointName"])
        _require_in_service(res)
        config_name = params["EndpointConfigName"]
        config = ENDPOINT_CONFIG.get(store, settings, config_name)
        records = build_records(store, settings, config.doc)
        if params.get("RetainAllVariantProperties"):
            excluded = {
                p["VariantPropertyType"] for p in params.get("ExcludeRetainedVariantProperties", [])
            }
            records = retain_properties(records, res.doc["Variants"], excluded)
        res.doc["Pending"] = _pending(config_name, records)
        if not params.get("RetainDeploymentConfig"):
            res.doc["DeploymentConfig"] = params.get("DeploymentConfig")
        res.status = UPDATING
        store.save(res)
        deployments.update(res.name)
        return {"EndpointArn": res.arn}

    def update_weights(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = ENDPOINT.get(store, settings, params["EndpointName"])
        _require_in_service(res)
        desired = params["DesiredWeightsAndCapacities"]
        _check_desired(res, desired)
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
