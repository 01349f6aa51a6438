"""Endpoints: what DescribeEndpoint shows of one, and the rules for changing it.

Each mutating call validates, persists the target state and returns at once; the
transition itself runs in `Deployments` (see deployments.py for the state machine).
"""

from __future__ import annotations

import time
from typing import Any

from cove.control.deployments import CREATING, FAILED, UPDATING
from cove.control.kinds import ENDPOINT
from cove.control.records import EndpointRecord, PendingDeployment, VariantRecord
from cove.control.variants import summary
from cove.errors import validation_error
from cove.statuses import EndpointStatus
from cove.storage.resources import Resource


def record_of(res: Resource) -> EndpointRecord:
    return EndpointRecord.from_doc(res.doc)


def describe(res: Resource) -> dict[str, Any]:
    rec = record_of(res)
    out: dict[str, Any] = {
        **ENDPOINT.identity(res),
        "EndpointConfigName": rec.config_name,
        "EndpointStatus": res.status,
        "FailureReason": rec.failure_reason,
        "LastModifiedTime": res.modified,
        "LastDeploymentConfig": rec.deployment_config,
    }
    pending = rec.pending
    if rec.variants:
        busy = UPDATING if res.status == UPDATING and not pending else None
        out["ProductionVariants"] = [summary(v, busy, res.modified) for v in rec.variants]
    elif pending and res.status == CREATING:
        out["ProductionVariants"] = [
            summary(v, CREATING, pending.start_time) for v in pending.variants
        ]
    if pending and res.status == UPDATING:
        out["PendingDeploymentSummary"] = {
            "EndpointConfigName": pending.config_name,
            "ProductionVariants": [
                summary(v, CREATING, pending.start_time) for v in pending.variants
            ],
            "StartTime": pending.start_time,
        }
    return out


def summary_of(res: Resource) -> dict[str, Any]:
    return {
        **ENDPOINT.identity(res),
        "LastModifiedTime": res.modified,
        "EndpointStatus": res.status,
    }


def pending_deployment(config_name: str, records: list[VariantRecord]) -> PendingDeployment:
    return PendingDeployment(config_name, records, time.time())


def require_in_service(res: Resource) -> None:
    """SageMaker refuses to change an endpoint that is busy or failed."""
    if EndpointStatus(res.status).changing:
        raise validation_error(f'Cannot update in-progress endpoint "{res.arn}".')
    if res.status == FAILED:
        raise validation_error(f'Cannot update failed endpoint "{res.arn}".')


def check_desired(res: Resource, rec: EndpointRecord, desired: list[dict[str, Any]]) -> None:
    known = {v.name: v for v in rec.variants or []}
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
            if known[name].serverless_config:
                raise validation_error(
                    f"Variant {name} is serverless; its instance count cannot be changed."
                )
            if d["DesiredInstanceCount"] < 1:
                raise validation_error(f"DesiredInstanceCount for variant {name} must be >= 1.")
    weights = {n: v.desired_weight for n, v in known.items()}
    weights.update({d["VariantName"]: d["DesiredWeight"] for d in desired if "DesiredWeight" in d})
    if sum(weights.values()) <= 0:
        raise validation_error("At least one production variant must have a weight above 0.")
