"""Endpoint config + models -> VariantSpecs, and what Cove refuses to deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cove.config import Settings
from cove.control.records import VariantRecord
from cove.control.variants import build_records, check_variants, fleet_specs
from cove.errors import AwsError
from cove.runtime.contract import VpcPlacement
from cove.storage.db import open_engine
from cove.storage.resources import ResourceStore


@pytest.fixture
def store(tmp_path: Path) -> ResourceStore:
    return ResourceStore(open_engine(f"sqlite:///{tmp_path / 'db'}"))


def model(store: ResourceStore, name: str, **doc: Any) -> None:
    store.create("model", name, f"arn:model/{name}", doc)


def variant(**kw: Any) -> dict[str, Any]:
    return {
        "VariantName": "v",
        "ModelName": "m",
        "InstanceType": "ml.c5.xlarge",
        "InitialInstanceCount": 2,
        **kw,
    }


def test_mapping_from_model_data_source_and_weights(store: ResourceStore) -> None:
    source = {
        "S3DataSource": {
            "S3Uri": "s3://b/prefix/",
            "S3DataType": "S3Prefix",
            "CompressionType": "None",
        }
    }
    model(
        store,
        "m",
        Containers=[{"Image": "xgboost", "ModelDataSource": source, "Environment": {"K": "V"}}],
    )
    records = build_records(
        store, Settings(), {"ProductionVariants": [variant(InitialVariantWeight=0.25)]}
    )
    [spec] = fleet_specs(records)
    assert (spec.variant_name, spec.model_name, spec.image) == ("v", "m", "xgboost")
    assert spec.model_data_url == "s3://b/prefix/"
    assert spec.environment == {"K": "V"}
    assert (spec.instance_type, spec.instance_count, spec.weight) == ("ml.c5.xlarge", 2, 0.25)


def test_a_models_vpc_config_places_its_instances_and_survives_the_record(
    store: ResourceStore,
) -> None:
    vpc = {"Subnets": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]}
    model(store, "m", PrimaryContainer={"Image": "sklearn"}, VpcConfig=vpc)
    [record] = build_records(store, Settings(), {"ProductionVariants": [variant()]})
    assert record.spec.vpc == VpcPlacement(("subnet-1", "subnet-2"), ("sg-1",))
    assert VariantRecord.from_doc(record.to_doc()).spec == record.spec


@pytest.mark.parametrize(
    ("model_isolated", "config_isolated", "isolated"),
    [(False, False, False), (True, False, True), (False, True, True)],
)
def test_network_isolation_is_the_models_or_the_configs(
    store: ResourceStore, model_isolated: bool, config_isolated: bool, isolated: bool
) -> None:
    model(store, "m", PrimaryContainer={"Image": "sklearn"}, EnableNetworkIsolation=model_isolated)
    config = {"ProductionVariants": [variant()], "EnableNetworkIsolation": config_isolated}
    [spec] = fleet_specs(build_records(store, Settings(), config))
    assert spec.network_isolation is isolated


def test_serverless_runs_as_one_instance(store: ResourceStore) -> None:
    model(store, "m", PrimaryContainer={"Image": "sklearn", "ModelDataUrl": "s3://b/m.tar.gz"})
    pv = {
        "VariantName": "v",
        "ModelName": "m",
        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
    }
    check_variants([pv])
    [spec] = fleet_specs(build_records(store, Settings(), {"ProductionVariants": [pv]}))
    assert spec.instance_count == 1 and spec.weight == 1.0


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ({"Containers": [{"Image": "a"}, {"Image": "b"}]}, "inference pipelines"),
        ({"PrimaryContainer": {"ModelPackageName": "pkg"}}, "ModelPackageName"),
    ],
)
def test_refuses_what_it_cannot_run(store: ResourceStore, doc: dict, words: str) -> None:
    model(store, "m", **doc)
    with pytest.raises(AwsError) as info:
        build_records(store, Settings(), {"ProductionVariants": [variant()]})
    assert info.value.code == "ValidationException"
    assert info.value.message.startswith('Cove cannot deploy model "m" yet: ')
    assert words in info.value.message


@pytest.mark.parametrize(
    ("variants", "words"),
    [
        ([variant(), variant()], "duplicated"),
        ([variant(InstanceType=None)], "InstanceType and InitialInstanceCount"),
        (
            [variant(ServerlessConfig={"MemorySizeInMB": 1024, "MaxConcurrency": 1})],
            "ServerlessConfig together with",
        ),
        ([variant(InitialVariantWeight=0)], "weight above 0"),
    ],
)
def test_config_rules(variants: list[dict], words: str) -> None:
    with pytest.raises(AwsError) as info:
        check_variants(variants)
    assert words in info.value.message
