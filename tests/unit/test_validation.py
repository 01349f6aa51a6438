"""Request validation against botocore's sagemaker model, with AWS's wording."""

from __future__ import annotations

import pytest

from cove.errors import AwsError
from cove.protocol.shapes import service_model, validate


def errors_for(op: str, params: dict) -> str:
    with pytest.raises(AwsError) as info:
        validate(service_model("sagemaker").operation_model(op), params)
    assert info.value.code == "ValidationException"
    return info.value.message


def test_missing_required_member() -> None:
    msg = errors_for("CreateEndpoint", {"EndpointName": "e"})
    assert msg == (
        "1 validation error detected: Value null at 'endpointConfigName' "
        "failed to satisfy constraint: Member must not be null"
    )


def test_pattern_and_length_are_enforced_and_counted() -> None:
    params = {"EndpointName": "bad_name!", "EndpointConfigName": "x" * 70}
    msg = errors_for("CreateEndpoint", params)
    # the long name breaks both its length and its pattern's {0,62} repetition
    assert msg.startswith("3 validation errors detected: ")
    assert "Value 'bad_name!' at 'endpointName' failed to satisfy constraint: " in msg
    assert "Member must satisfy regular expression pattern" in msg
    assert "Member must have length less than or equal to 63" in msg


def test_nested_list_paths_and_enums() -> None:
    msg = errors_for(
        "CreateEndpointConfig",
        {
            "EndpointConfigName": "c",
            "ProductionVariants": [
                {"VariantName": "v", "ModelName": "m", "InstanceType": "ml.nope",
                 "InitialInstanceCount": 0}
            ],
        },
    )
    assert "at 'productionVariants.1.member.instanceType'" in msg
    assert "Member must satisfy enum value set: [" in msg
    assert "at 'productionVariants.1.member.initialInstanceCount'" in msg
    assert "Member must have value greater than or equal to 1" in msg


def test_type_mismatch_is_a_serialization_error() -> None:
    with pytest.raises(AwsError) as info:
        validate(service_model("sagemaker").operation_model("DescribeEndpoint"),
                 {"EndpointName": 5})
    assert info.value.code == "SerializationException"


def test_valid_request_passes() -> None:
    op = service_model("sagemaker").operation_model("DescribeEndpoint")
    validate(op, {"EndpointName": "a-1"})
