"""Endpoint documents as earlier versions of Cove wrote them read back as typed records and
are written again key for key, so a data dir survives an upgrade."""

from __future__ import annotations

from typing import Any

from cove.control.records import EndpointRecord, VariantRecord
from cove.runtime.contract import VariantSpec

SPEC = {
    "variant_name": "AllTraffic",
    "model_name": "m",
    "image": "sklearn",
    "model_data_url": "s3://b/model.tar.gz",
    "environment": {"K": "V"},
    "instance_type": "ml.m5.large",
    "instance_count": 2,
    "weight": 1.0,
}
DEPLOYED = {
    "VariantName": "AllTraffic",
    "Spec": SPEC,
    "ServerlessConfig": None,
    "DesiredWeight": 1.0,
    "DesiredInstanceCount": 2,
    "CurrentWeight": 1.0,
    "CurrentInstanceCount": 2,
    "ResolutionTime": 1700000000.5,
}
NOT_YET = {k: DEPLOYED[k] for k in ("VariantName", "Spec", "ServerlessConfig")} | {
    "DesiredWeight": 0.5,
    "DesiredInstanceCount": 3,
}


def updating_doc() -> dict[str, Any]:
    return {
        "EndpointConfigName": "old-config",
        "Variants": [DEPLOYED],
        "Pending": {"EndpointConfigName": "new-config", "Variants": [NOT_YET], "StartTime": 17.0},
        "FailureReason": None,
        "DeploymentConfig": {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "COUNT"}}},
        "Tags": [{"Key": "team", "Value": "ml"}],
    }


def test_an_updating_endpoint_round_trips_key_for_key() -> None:
    doc = updating_doc()
    rec = EndpointRecord.from_doc(doc)
    assert rec.config_name == "old-config" and rec.pending is not None
    assert rec.pending.config_name == "new-config" and rec.pending.start_time == 17.0
    assert rec.variants is not None and rec.variants[0].deployed
    assert not rec.pending.variants[0].deployed
    assert rec.variants[0].spec == VariantSpec(**SPEC)
    assert rec.to_doc() == doc


def test_a_creating_endpoint_has_no_variants_yet() -> None:
    doc = updating_doc() | {"Variants": None}
    assert EndpointRecord.from_doc(doc).variants is None
    assert EndpointRecord.from_doc(doc).to_doc() == doc


def test_deploying_catches_current_values_up_and_keeps_the_first_resolution_time() -> None:
    variant = VariantRecord.from_doc(NOT_YET)
    variant.mark_deployed(at=100.0)
    assert (variant.current_weight, variant.current_instance_count) == (0.5, 3)
    assert variant.resolution_time == 100.0
    variant.desired_instance_count = 4
    variant.mark_deployed(at=200.0)
    assert (variant.current_instance_count, variant.resolution_time) == (4, 100.0)


def test_a_failed_scaling_rolls_desired_back_to_what_runs() -> None:
    variant = VariantRecord.from_doc(DEPLOYED)
    variant.desired_weight, variant.desired_instance_count = 0.0, 9
    variant.roll_back_desired()
    assert (variant.desired_weight, variant.desired_instance_count) == (1.0, 2)
    assert variant.fleet_spec() == VariantSpec(**SPEC)


def test_settling_clears_the_pending_deployment() -> None:
    rec = EndpointRecord.from_doc(updating_doc())
    rec.settle("it failed")
    assert (rec.pending, rec.failure_reason) == (None, "it failed")
