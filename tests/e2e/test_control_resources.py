"""Models and endpoint configs through real boto3 and the real AWS CLI: CRUD, tags,
pagination and filters, and the AWS error for each way of getting a request wrong."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hosting import SKLEARN, create_config, create_model
from models import ROLE

ARN = "arn:aws:sagemaker:us-east-1:000000000000"
URL = "s3://cove-control-resources/model.tar.gz"  # never deployed here, so never fetched


def error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def test_model_crud_and_errors(server) -> None:
    sm = server.client("sagemaker")
    arn = create_model(sm, "Res-Model", URL, Environment={"SAGEMAKER_PROGRAM": "x.py"})
    assert arn == f"{ARN}:model/res-model"
    out = sm.describe_model(ModelName="res-model")  # names are case-insensitive
    assert out["ModelName"] == "Res-Model" and out["ModelArn"] == arn
    assert out["PrimaryContainer"] == {
        "Image": SKLEARN,
        "ModelDataUrl": URL,
        "Environment": {"SAGEMAKER_PROGRAM": "x.py"},
    }
    assert out["ExecutionRoleArn"] == ROLE
    assert out["EnableNetworkIsolation"] is False
    assert time.time() - out["CreationTime"].timestamp() < 60

    assert error(sm.create_model, ModelName="res-model", PrimaryContainer={"Image": "x"}) == (
        "ValidationException",
        f'Cannot create already existing model "{ARN}:model/res-model".',
    )
    assert error(sm.describe_model, ModelName="nope") == (
        "ValidationException",
        f'Could not find model "{ARN}:model/nope".',
    )
    code, msg = error(sm.create_model, ModelName="bad_name", PrimaryContainer={"Image": "x"})
    assert code == "ValidationException"
    assert msg == (
        "1 validation error detected: Value 'bad_name' at 'modelName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        "[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?"
    )
    code, msg = error(sm.create_model, ModelName="no-container")
    assert code == "ValidationException" and "PrimaryContainer or Containers" in msg
    code, msg = error(sm.create_model, ModelName="no-image", PrimaryContainer={"ModelDataUrl": URL})
    assert code == "ValidationException" and "Image or a ModelPackageName" in msg

    sm.delete_model(ModelName="Res-Model")
    assert error(sm.delete_model, ModelName="Res-Model") == (
        "ValidationException",
        f'Could not find model "{ARN}:model/res-model".',
    )


def test_endpoint_config_crud_and_dangling_references(server) -> None:
    sm = server.client("sagemaker")
    create_model(sm, "cfg-model", URL)
    arn = create_config(sm, "cfg-a", ("AllTraffic", "cfg-model", 2))
    assert arn == f"{ARN}:endpoint-config/cfg-a"
    out = sm.describe_endpoint_config(EndpointConfigName="cfg-a")
    assert out["EndpointConfigArn"] == arn
    assert out["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": "cfg-model",
            "InstanceType": "ml.t2.medium",
            "InitialInstanceCount": 2,
            "InitialVariantWeight": 1.0,
        }
    ]
    code, msg = error(
        sm.create_endpoint_config,
        EndpointConfigName="cfg-a",
        ProductionVariants=[
            {
                "VariantName": "v",
                "ModelName": "cfg-model",
                "InstanceType": "ml.t2.medium",
                "InitialInstanceCount": 1,
            }
        ],
    )
    assert (code, msg) == (
        "ValidationException",
        f'Cannot create already existing endpoint configuration "{ARN}:endpoint-config/cfg-a".',
    )
    code, msg = error(
        sm.create_endpoint_config,
        EndpointConfigName="cfg-dangling",
        ProductionVariants=[
            {
                "VariantName": "v",
                "ModelName": "no-such-model",
                "InstanceType": "ml.t2.medium",
                "InitialInstanceCount": 1,
            }
        ],
    )
    assert (code, msg) == (
        "ValidationException",
        f'Could not find model "{ARN}:model/no-such-model".',
    )
    twice = {
        "VariantName": "v",
        "ModelName": "cfg-model",
        "InstanceType": "ml.t2.medium",
        "InitialInstanceCount": 1,
    }
    code, msg = error(
        sm.create_endpoint_config, EndpointConfigName="cfg-dup", ProductionVariants=[twice, twice]
    )
    assert code == "ValidationException" and "duplicated" in msg
    code, msg = error(
        sm.create_endpoint_config,
        EndpointConfigName="cfg-bad-type",
        ProductionVariants=[{**twice, "InstanceType": "ml.nope.large"}],
    )
    assert code == "ValidationException"
    assert "'productionVariants.1.member.instanceType' failed to satisfy constraint" in msg
    assert error(sm.describe_endpoint_config, EndpointConfigName="cfg-gone") == (
        "ValidationException",
        f'Could not find endpoint configuration "{ARN}:endpoint-config/cfg-gone".',
    )
    # an endpoint naming a missing config
    assert error(sm.create_endpoint, EndpointName="ep-dangling", EndpointConfigName="cfg-gone") == (
        "ValidationException",
        f'Could not find endpoint configuration "{ARN}:endpoint-config/cfg-gone".',
    )
    sm.delete_endpoint_config(EndpointConfigName="cfg-a")
    assert error(sm.delete_endpoint_config, EndpointConfigName="cfg-a")[1] == (
        f'Could not find endpoint configuration "{ARN}:endpoint-config/cfg-a".'
    )
    # the endpoint config's model was checked when it was created, then deleted: the
    # endpoint creation is refused with the model's ARN
    create_config(sm, "cfg-c", ("AllTraffic", "cfg-model", 1))
    sm.delete_model(ModelName="cfg-model")
    assert error(sm.create_endpoint, EndpointName="ep-dangling", EndpointConfigName="cfg-c") == (
        "ValidationException",
        f'Could not find model "{ARN}:model/cfg-model".',
    )


def test_pagination_sorting_filters_and_tags(server) -> None:
    sm = server.client("sagemaker")
    names = [f"page-model-{i}" for i in range(7)]
    for name in names:
        create_model(sm, name, URL)
        time.sleep(0.01)  # distinct creation times
    pages = sm.get_paginator("list_models").paginate(
        NameContains="page-model",
        SortBy="Name",
        SortOrder="Ascending",
        PaginationConfig={"PageSize": 3},
    )
    seen = [[m["ModelName"] for m in p["Models"]] for p in pages]
    assert seen == [names[:3], names[3:6], names[6:]]
    newest_first = sm.list_models(NameContains="PAGE-MODEL", MaxResults=100)["Models"]
    assert [m["ModelName"] for m in newest_first] == names[::-1]
    # boto3 sends timestamps at one-second precision, so compare against whole seconds
    created = newest_first[0]["CreationTime"]
    later, earlier = created + dt.timedelta(seconds=5), created - dt.timedelta(seconds=5)

    def listed(**filters: Any) -> list[str]:
        found = sm.list_models(NameContains="page-model", MaxResults=100, **filters)["Models"]
        return sorted(m["ModelName"] for m in found)

    assert listed(CreationTimeAfter=earlier) == names
    assert listed(CreationTimeBefore=later) == names
    assert listed(CreationTimeAfter=later) == listed(CreationTimeBefore=earlier) == []
    first = sm.list_models(NameContains="page-model", MaxResults=2)
    assert len(first["Models"]) == 2 and first["NextToken"]
    code, _ = error(sm.list_models, NextToken="not-a-token")
    assert code == "ValidationException"

    arn = f"{ARN}:model/page-model-0"
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "a"}, {"Key": "x", "Value": "1"}])
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"}])
    sm.delete_tags(ResourceArn=arn, TagKeys=["x"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "b"}]

    # the same through the AWS CLI, which pages through everything by itself
    listed = json.loads(
        server.aws(
            "sagemaker",
            "list-models",
            "--name-contains",
            "page-model",
            "--sort-by",
            "Name",
            "--sort-order",
            "Ascending",
            "--page-size",
            "2",
        ).stdout
    )
    assert [m["ModelName"] for m in listed["Models"]] == names


def test_aws_cli_resources_and_errors(server, tmp_path) -> None:
    container = json.dumps({"Image": SKLEARN, "ModelDataUrl": URL})
    out = server.aws(
        "sagemaker", "create-model", "--model-name", "cli-model", "--primary-container", container
    )
    assert json.loads(out.stdout)["ModelArn"] == f"{ARN}:model/cli-model"
    described = json.loads(
        server.aws("sagemaker", "describe-model", "--model-name", "cli-model").stdout
    )
    assert described["PrimaryContainer"]["Image"] == SKLEARN
    variants = json.dumps(
        [
            {
                "VariantName": "AllTraffic",
                "ModelName": "cli-model",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ]
    )
    server.aws(
        "sagemaker",
        "create-endpoint-config",
        "--endpoint-config-name",
        "cli-config",
        "--production-variants",
        variants,
    )
    configs = json.loads(
        server.aws("sagemaker", "list-endpoint-configs", "--name-contains", "cli-config").stdout
    )
    assert [c["EndpointConfigName"] for c in configs["EndpointConfigs"]] == ["cli-config"]

    missing = server.aws(
        "sagemaker", "describe-endpoint", "--endpoint-name", "cli-nope", check=False
    )
    assert missing.returncode != 0
    assert (
        "An error occurred (ValidationException) when calling the DescribeEndpoint operation: "
        f'Could not find endpoint "{ARN}:endpoint/cli-nope".'
    ) in missing.stderr
    dup = server.aws(
        "sagemaker",
        "create-model",
        "--model-name",
        "cli-model",
        "--primary-container",
        container,
        check=False,
    )
    assert f'Cannot create already existing model "{ARN}:model/cli-model".' in dup.stderr
    bad = server.aws(
        "sagemaker",
        "create-endpoint",
        "--endpoint-name",
        "bad_name!",
        "--endpoint-config-name",
        "cli-config",
        check=False,
    )
    assert (
        "Value 'bad_name!' at 'endpointName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern"
    ) in bad.stderr
    server.aws("sagemaker", "delete-endpoint-config", "--endpoint-config-name", "cli-config")
    server.aws("sagemaker", "delete-model", "--model-name", "cli-model")
    assert (
        json.loads(server.aws("sagemaker", "list-models", "--name-contains", "cli-model").stdout)[
            "Models"
        ]
        == []
    )
