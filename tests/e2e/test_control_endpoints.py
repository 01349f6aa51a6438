"""Endpoints with real models: status transitions, boto3 waiters, updates that never fail
an invocation, weights and capacities, deletion, and failures a person can act on."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError
from hosting import (
    PREDICTION,
    create_config,
    create_model,
    invoke,
    upload_sklearn_model,
    wait_deleted,
    wait_in_service,
    wait_status,
)

ARN = "arn:aws:sagemaker:us-east-1:000000000000"
BUCKET = "cove-control-endpoints"


@pytest.fixture(scope="module")
def model_url(server, tmp_path_factory: pytest.TempPathFactory) -> str:
    return upload_sklearn_model(server, tmp_path_factory.mktemp("control"))


def test_endpoint_lifecycle_with_waiters(server, model_url) -> None:
    sm = server.client("sagemaker")
    create_model(sm, "life-model", model_url)
    create_config(sm, "life-config", ("AllTraffic", "life-model", 1))
    arn = sm.create_endpoint(
        EndpointName="life",
        EndpointConfigName="life-config",
        Tags=[{"Key": "stage", "Value": "test"}],
    )["EndpointArn"]
    assert arn == f"{ARN}:endpoint/life"
    assert sm.describe_endpoint(EndpointName="life")["EndpointStatus"] == "Creating"
    code = sm.exceptions.ClientError
    with pytest.raises(code) as info:
        sm.create_endpoint(EndpointName="LIFE", EndpointConfigName="life-config")
    assert info.value.response["Error"]["Message"] == (
        f'Cannot create already existing endpoint "{ARN}:endpoint/life".'
    )
    with pytest.raises(code) as info:
        sm.delete_endpoint(EndpointName="life")
    assert info.value.response["Error"]["Message"] == (
        f'Cannot update in-progress endpoint "{ARN}:endpoint/life".'
    )

    out = wait_in_service(sm, "life")
    assert out["EndpointArn"] == arn and out["EndpointConfigName"] == "life-config"
    assert "FailureReason" not in out
    assert out["LastModifiedTime"] >= out["CreationTime"]
    [variant] = out["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["CurrentWeight"] == variant["DesiredWeight"] == 1.0
    assert variant["CurrentInstanceCount"] == variant["DesiredInstanceCount"] == 1
    assert variant["DeployedImages"][0]["SpecifiedImage"].endswith(
        "sagemaker-scikit-learn:1.2-1-cpu-py3"
    )
    reply = invoke(server, "life")
    assert reply["InvokedProductionVariant"] == "AllTraffic"
    assert json.loads(reply["Body"].read()) == PREDICTION

    listed = sm.list_endpoints(NameContains="life", StatusEquals="InService")["Endpoints"]
    assert [(e["EndpointName"], e["EndpointArn"]) for e in listed] == [("life", arn)]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "test"}]
    # the AWS CLI's waiter polls DescribeEndpoint like boto3's does
    server.aws("sagemaker", "wait", "endpoint-in-service", "--endpoint-name", "life")

    sm.delete_endpoint(EndpointName="life")
    wait_deleted(sm, "life")
    with pytest.raises(code) as info:
        sm.describe_endpoint(EndpointName="life")
    assert info.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": f'Could not find endpoint "{ARN}:endpoint/life".',
    }
    with pytest.raises(ClientError):
        invoke(server, "life")


def test_failed_endpoint_has_a_reason_and_can_be_deleted(server, model_url) -> None:
    sm = server.client("sagemaker")
    create_model(sm, "broken-model", f"s3://{BUCKET}/does/not/exist.tar.gz")
    create_config(sm, "broken-config", ("AllTraffic", "broken-model", 1))
    sm.create_endpoint(EndpointName="broken", EndpointConfigName="broken-config")
    with pytest.raises(WaiterError) as info:
        wait_in_service(sm, "broken")
    assert "Failed" in str(info.value)
    out = sm.describe_endpoint(EndpointName="broken")
    assert out["EndpointStatus"] == "Failed"
    assert "does/not/exist.tar.gz" in out["FailureReason"]
    with pytest.raises(ClientError) as err:
        sm.update_endpoint(EndpointName="broken", EndpointConfigName="broken-config")
    assert err.value.response["Error"]["Message"] == (
        f'Cannot update failed endpoint "{ARN}:endpoint/broken".'
    )
    sm.delete_endpoint(EndpointName="broken")
    wait_deleted(sm, "broken")


def test_update_moves_traffic_without_failed_invocations(server, model_url) -> None:
    sm = server.client("sagemaker")
    create_model(sm, "blue-model", model_url)
    create_model(sm, "green-model", model_url)
    create_config(sm, "blue-config", ("Blue", "blue-model", 1))
    create_config(sm, "green-config", ("Green", "green-model", 2))
    sm.create_endpoint(EndpointName="bluegreen", EndpointConfigName="blue-config")
    wait_in_service(sm, "bluegreen")

    stop, results, failures = threading.Event(), [], []

    def keep_invoking() -> None:
        while not stop.is_set():
            try:
                results.append(invoke(server, "bluegreen")["InvokedProductionVariant"])
            except Exception as exc:  # noqa: BLE001 - every failure counts
                failures.append(repr(exc))

    worker = threading.Thread(target=keep_invoking)
    worker.start()
    try:
        sm.update_endpoint(EndpointName="bluegreen", EndpointConfigName="green-config")
        during = sm.describe_endpoint(EndpointName="bluegreen")
        assert during["EndpointStatus"] == "Updating"
        assert during["PendingDeploymentSummary"]["EndpointConfigName"] == "green-config"
        assert [v["VariantName"] for v in during["ProductionVariants"]] == ["Blue"]
        out = wait_in_service(sm, "bluegreen")
        last = len(results)
        wait_for(lambda: len(results) > last + 5)
    finally:
        stop.set()
        worker.join()
    assert failures == []
    assert results[0] == "Blue" and results[-1] == "Green"
    assert out["EndpointConfigName"] == "green-config"
    [green] = out["ProductionVariants"]
    assert green["VariantName"] == "Green" and green["CurrentInstanceCount"] == 2

    # a failing update: back to InService on green-config, with the reason, still serving
    create_model(sm, "missing-model", f"s3://{BUCKET}/missing/model.tar.gz")
    create_config(sm, "missing-config", ("Missing", "missing-model", 1))
    sm.update_endpoint(EndpointName="bluegreen", EndpointConfigName="missing-config")
    out = wait_status(sm, "bluegreen", "InService")
    assert out["EndpointConfigName"] == "green-config"
    assert "missing/model.tar.gz" in out["FailureReason"]
    assert invoke(server, "bluegreen")["InvokedProductionVariant"] == "Green"
    sm.delete_endpoint(EndpointName="bluegreen")
    wait_deleted(sm, "bluegreen")


def test_weights_and_capacities_apply_live(server, model_url) -> None:
    sm = server.client("sagemaker")
    create_model(sm, "ab-model", model_url)
    create_config(sm, "ab-config", ("A", "ab-model", 1), ("B", "ab-model", 1))
    sm.create_endpoint(EndpointName="ab", EndpointConfigName="ab-config")
    wait_in_service(sm, "ab")
    with pytest.raises(ClientError) as err:
        sm.update_endpoint_weights_and_capacities(
            EndpointName="ab",
            DesiredWeightsAndCapacities=[{"VariantName": "C", "DesiredWeight": 1}],
        )
    assert "[C]" in err.value.response["Error"]["Message"]
    sm.update_endpoint_weights_and_capacities(
        EndpointName="ab",
        DesiredWeightsAndCapacities=[
            {"VariantName": "A", "DesiredWeight": 0},
            {"VariantName": "B", "DesiredWeight": 1, "DesiredInstanceCount": 2},
        ],
    )
    assert sm.describe_endpoint(EndpointName="ab")["EndpointStatus"] == "Updating"
    out = wait_in_service(sm, "ab")
    current = {
        v["VariantName"]: (v["CurrentWeight"], v["CurrentInstanceCount"])
        for v in out["ProductionVariants"]
    }
    assert current == {"A": (0.0, 1), "B": (1.0, 2)}
    assert {invoke(server, "ab")["InvokedProductionVariant"] for _ in range(10)} == {"B"}

    pages = sm.get_paginator("list_endpoints").paginate(
        NameContains="ab", PaginationConfig={"PageSize": 1}
    )
    assert "ab" in [e["EndpointName"] for p in pages for e in p["Endpoints"]]
    sm.delete_endpoint(EndpointName="ab")
    wait_deleted(sm, "ab")


def wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)
