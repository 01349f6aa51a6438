"""From an endpoint config and its models to what the data plane runs (VariantSpecs),
and back to what DescribeEndpoint shows (ProductionVariantSummary).

An endpoint keeps a snapshot of its variants ("variant records") taken when it was
created or updated, because SageMaker lets the config and models be deleted while the
endpoint keeps serving them, and a restart must bring back exactly what was deployed.

Mapping: image = the model's container Image, model_data_url = ModelDataUrl (or
ModelDataSource.S3DataSource.S3Uri), environment = Environment, instance_type,
instance_count = InitialInstanceCount, weight = InitialVariantWeight (default 1.0).
A serverless variant (ServerlessConfig) runs as one instance of SERVERLESS_INSTANCE_TYPE.
subnets and security_group_ids = the model's VpcConfig (its instances are hosts there),
network_isolation = the model's or the config's EnableNetworkIsolation. What Cove cannot
run yet (inference pipelines, multi-model containers, model packages) is refused with a
ValidationException that says so, rather than deployed without it.
"""

from __future__ import annotations

from typing import Any

from cove.config import Settings
from cove.control.kinds import MODEL
from cove.control.models import containers
from cove.control.records import VariantRecord
from cove.errors import validation_error
from cove.runtime.contract import VariantSpec
from cove.storage.resources import ResourceStore

SERVERLESS_INSTANCE_TYPE = "ml.m5.large"


def check_variants(variants: list[dict[str, Any]]) -> None:
    """Config-level rules SageMaker enforces beyond the shapes."""
    names = [v["VariantName"] for v in variants]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise validation_error(
            f"The production variant name(s) {', '.join(duplicated)} are duplicated. "
            "Variant names must be unique within an endpoint configuration."
        )
    serverless = [v for v in variants if v.get("ServerlessConfig")]
    if serverless and len(serverless) != len(variants):
        raise validation_error(
            "An endpoint configuration cannot mix serverless and instance-based "
            "production variants."
        )
    for v in variants:
        name = v["VariantName"]
        if not v.get("ModelName"):
            raise validation_error(f"ModelName is required for production variant {name}.")
        if v.get("ServerlessConfig"):
            if v.get("InstanceType") or v.get("InitialInstanceCount"):
                raise validation_error(
                    f"Production variant {name} specifies ServerlessConfig together with "
                    "InstanceType or InitialInstanceCount; specify one or the other."
                )
        elif not v.get("InstanceType") or not v.get("InitialInstanceCount"):
            raise validation_error(
                f"Production variant {name} must specify InstanceType and "
                "InitialInstanceCount, or ServerlessConfig."
            )
    if sum(v.get("InitialVariantWeight", 1.0) for v in variants) <= 0:
        raise validation_error("At least one production variant must have a weight above 0.")


def build_records(
    store: ResourceStore, settings: Settings, config_doc: dict[str, Any]
) -> list[VariantRecord]:
    """Resolve the config's models now; raise what SageMaker would for a dangling one."""
    return [_record(store, settings, config_doc, v) for v in config_doc["ProductionVariants"]]


def _record(
    store: ResourceStore, settings: Settings, config_doc: dict[str, Any], pv: dict[str, Any]
) -> VariantRecord:
    model = MODEL.get(store, settings, pv["ModelName"])
    found = containers(model.doc)
    _refuse_unsupported(model.name, model.doc, config_doc, found)
    container = found[0]
    serverless = pv.get("ServerlessConfig")
    isolated = bool(
        model.doc.get("EnableNetworkIsolation") or config_doc.get("EnableNetworkIsolation")
    )
    if serverless and isolated:
        raise validation_error(
            f"Production variant {pv['VariantName']} is serverless, and serverless endpoints "
            f"do not support network isolation (model \"{model.name}\" or the endpoint "
            "configuration sets EnableNetworkIsolation)."
        )
    vpc = model.doc.get("VpcConfig") or {}
    spec = VariantSpec(
        variant_name=pv["VariantName"],
        model_name=model.name,
        image=container["Image"],
        model_data_url=_model_data_url(container),
        environment=dict(container.get("Environment") or {}),
        instance_type=SERVERLESS_INSTANCE_TYPE if serverless else pv["InstanceType"],
        instance_count=1 if serverless else pv["InitialInstanceCount"],
        weight=float(pv.get("InitialVariantWeight", 1.0)),
        role_arn=model.doc.get("ExecutionRoleArn"),
        subnets=tuple(vpc.get("Subnets") or ()),
        security_group_ids=tuple(vpc.get("SecurityGroupIds") or ()),
        network_isolation=isolated,
    )
    return VariantRecord(spec, serverless, spec.weight, spec.instance_count)


def _refuse_unsupported(
    model_name: str,
    model_doc: dict[str, Any],
    config_doc: dict[str, Any],
    found: list[dict[str, Any]],
) -> None:
    def refuse(what: str) -> None:
        raise validation_error(f'Cove cannot deploy model "{model_name}" yet: {what}.')

    if len(found) > 1:
        refuse(f"it has {len(found)} containers and inference pipelines are not supported")
    container = found[0]
    if not container.get("Image"):
        refuse("deploying from a ModelPackageName is not supported; give the container an Image")
    if container.get("Mode") == "MultiModel":
        refuse("multi-model containers (Mode MultiModel) are not supported")


def _model_data_url(container: dict[str, Any]) -> str | None:
    if container.get("ModelDataUrl"):
        return container["ModelDataUrl"]
    source = (container.get("ModelDataSource") or {}).get("S3DataSource") or {}
    return source.get("S3Uri")


def retain_properties(
    new: list[VariantRecord], current: list[VariantRecord], excluded: set[str]
) -> list[VariantRecord]:
    """UpdateEndpoint's RetainAllVariantProperties: same-named variants keep their live
    weight and instance count unless that property is in ExcludeRetainedVariantProperties."""
    live = {r.name: r for r in current}
    for rec in new:
        old = live.get(rec.name)
        if old is None or not old.deployed:
            continue
        if "DesiredWeight" not in excluded and old.current_weight is not None:
            rec.desired_weight = old.current_weight
        if (
            "DesiredInstanceCount" not in excluded
            and not rec.serverless_config
            and old.current_instance_count is not None
        ):
            rec.desired_instance_count = old.current_instance_count
    return new


def fleet_specs(records: list[VariantRecord]) -> list[VariantSpec]:
    """What to start: each variant at its desired weight and instance count."""
    return [r.fleet_spec() for r in records]


def mark_deployed(records: list[VariantRecord], at: float) -> list[VariantRecord]:
    """The records once a fleet runs them: current values catch up with desired ones."""
    for r in records:
        r.mark_deployed(at)
    return records


def summary(
    rec: VariantRecord, status: str | None = None, since: float | None = None
) -> dict[str, Any]:
    """A ProductionVariantSummary (or PendingProductionVariantSummary)."""
    serverless = rec.serverless_config
    out: dict[str, Any] = {
        "VariantName": rec.name,
        "DesiredWeight": rec.desired_weight,
        "InstanceType": None if serverless else rec.spec.instance_type,
    }
    if serverless:
        out["DesiredServerlessConfig"] = serverless
    else:
        out["DesiredInstanceCount"] = rec.desired_instance_count
    if rec.deployed:
        image = rec.spec.image
        out["CurrentWeight"] = rec.current_weight
        out["DeployedImages"] = [
            {
                "SpecifiedImage": image,
                "ResolvedImage": image,
                "ResolutionTime": rec.resolution_time,
            }
        ]
        if serverless:
            out["CurrentServerlessConfig"] = serverless
        else:
            out["CurrentInstanceCount"] = rec.current_instance_count
    if status:
        out["VariantStatus"] = [{"Status": status, "StartTime": since}]
    return out
