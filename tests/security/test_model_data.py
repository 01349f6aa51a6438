"""Models are what S3 holds now, unpack within limits, and leave nothing behind.

Findings: "A stale model keeps serving" (unpacked models were cached by S3 URL for the
server's life) and "a 3 MB tar bomb unpacked to 3 GB and unpacked models are never
deleted" (issue "Contain untrusted model code")."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from botocore.exceptions import WaiterError
from models import (
    SKLEARN_IMAGE,
    breast_cancer,
    csv_rows,
    delete,
    deploy,
    pack,
    sklearn_model,
    unique,
)
from models import upload as upload_model

X, _ = breast_cancer()

ANSWER = """
def predict_fn(data, model):
    return ["{text}"] * len(data)
"""


def answer(srv, endpoint: str) -> list:
    rt = srv.client("sagemaker-runtime")
    resp = rt.invoke_endpoint(EndpointName=endpoint, Body=csv_rows(X[:1]), ContentType="text/csv")
    return json.loads(resp["Body"].read())


def put_model(srv, root: Path, text: str, key: str) -> str:
    archive = pack(sklearn_model(root / text, ANSWER.format(text=text)))
    srv.client("s3").upload_file(str(archive), "models", key)
    return f"s3://models/{key}"


def unpacked(srv) -> list[Path]:
    return [p for p in (srv.data_dir / "models").iterdir() if not p.name.startswith(".")]


def test_overwritten_artifact_is_served_by_updates_and_new_endpoints(make_server, tmp_path):
    srv = make_server()
    sm = srv.client("sagemaker")
    srv.client("s3").create_bucket(Bucket="models")
    url = put_model(srv, tmp_path, "first", "same/model.tar.gz")
    name = deploy(srv, SKLEARN_IMAGE, url)
    assert answer(srv, name) == ["first"]

    put_model(srv, tmp_path, "second", "same/model.tar.gz")  # same URL, new bytes
    sm.create_endpoint_config(EndpointConfigName=f"{name}-v2", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }])
    sm.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-v2")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 240})
    assert answer(srv, name) == ["second"]

    other = deploy(srv, SKLEARN_IMAGE, url)
    assert answer(srv, other) == ["second"]
    assert len(unpacked(srv)) == 1  # both endpoints share the one copy of those bytes

    delete(srv, name)
    delete(srv, other)
    sm.get_waiter("endpoint_deleted").wait(
        EndpointName=other, WaiterConfig={"Delay": 0.5, "MaxAttempts": 120})
    sm.get_waiter("endpoint_deleted").wait(
        EndpointName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 120})
    assert unpacked(srv) == []  # nobody uses them: deleted


def bomb(path: Path, size: int, files: int = 1) -> Path:
    """A small model.tar.gz that unpacks to `size` bytes of zeros over `files` files."""
    with tarfile.open(path, "w:gz") as tar:
        for i in range(files):
            info = tarfile.TarInfo(f"zeros-{i}.bin")
            info.size = size // files
            tar.addfile(info, io.BytesIO(bytes(info.size)))
    return path


def failure_of(srv, url: str) -> str:
    sm = srv.client("sagemaker")
    name = deploy(srv, SKLEARN_IMAGE, url, name=unique("bomb"), wait=False)
    waiter = sm.get_waiter("endpoint_in_service")
    with pytest.raises(WaiterError):  # the waiter raises on Failed; the reason matters
        waiter.wait(EndpointName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 120})
    ep = sm.describe_endpoint(EndpointName=name)
    assert ep["EndpointStatus"] == "Failed", ep
    return ep["FailureReason"]


def test_tar_bomb_fails_the_endpoint_with_a_reason(make_server, tmp_path):
    srv = make_server(env={"COVE_MODEL_MAX_UNPACKED_BYTES": str(64 << 20),
                           "COVE_MODEL_MAX_FILES": "500"})
    archive = bomb(tmp_path / "bomb.tar.gz", 256 << 20)
    assert archive.stat().st_size < 1 << 20  # a quarter GiB in well under a MiB
    reason = failure_of(srv, upload_model(srv, archive))
    assert f"unpacks to more than the {64 << 20} bytes" in reason
    assert "COVE_MODEL_MAX_UNPACKED_BYTES" in reason
    many = failure_of(srv, upload_model(srv, bomb(tmp_path / "many.tar.gz", 1000, files=1000)))
    assert "holds more than the 500 files" in many and "COVE_MODEL_MAX_FILES" in many
    assert unpacked(srv) == []  # nothing of either was kept
