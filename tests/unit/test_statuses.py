"""Cove's status enums are AWS's: the same strings as the enums in botocore's model."""

from __future__ import annotations

import pytest

from cove.protocol.shapes import service_model
from cove.statuses import EndpointStatus, TrainingJobStatus


@pytest.mark.parametrize("enum, shape", [
    (EndpointStatus, "EndpointStatus"),
    (TrainingJobStatus, "TrainingJobStatus"),
])
def test_values_are_the_sagemaker_model_enum(enum, shape) -> None:
    assert [m.value for m in enum] == service_model("sagemaker").shape_for(shape).enum


def test_members_are_their_strings() -> None:
    assert EndpointStatus.IN_SERVICE == "InService" and f"{EndpointStatus.FAILED}" == "Failed"
    assert EndpointStatus("Updating").serving and not EndpointStatus("Creating").serving
    assert [s for s in TrainingJobStatus if s.active] == ["InProgress", "Stopping"]
