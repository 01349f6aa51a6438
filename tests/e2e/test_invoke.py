"""InvokeEndpoint end to end: real models behind real endpoints, driven by boto3 and the
AWS CLI against a live `cove server` (COVE_MODEL_TIMEOUT=3)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import ClientError
from models import (
    SKLEARN_IMAGE,
    XGBOOST_ALGO_IMAGE,
    XGBOOST_IMAGE,
    breast_cancer,
    byoc_server,
    csv_rows,
    delete,
    deploy,
    npy_bytes,
    pack,
    sklearn_model,
    sklearn_predict,
    unique,
    upload,
    xgboost_model,
    xgboost_predict,
)

X, _ = breast_cancer()
ACCOUNT = "000000000000"


def error_of(exc: ClientError) -> tuple[str, str, int]:
    err = exc.response["Error"]
    return err["Code"], err["Message"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def sklearn_endpoint(server, tmp_path_factory):
    root = tmp_path_factory.mktemp("sk")
    url = upload(server, pack(sklearn_model(root / "model")))
    name = deploy(server, SKLEARN_IMAGE, url)
    yield name
    delete(server, name)


def test_invoke_sklearn_with_boto3(server, sklearn_endpoint) -> None:
    rt = server.client("sagemaker-runtime")
    resp = rt.invoke_endpoint(
        EndpointName=sklearn_endpoint, ContentType="text/csv", Body=csv_rows(X[:5])
    )
    assert json.loads(resp["Body"].read()) == sklearn_predict(X[:5])
    assert resp["ContentType"] == "application/json"
    assert resp["InvokedProductionVariant"] == "AllTraffic"
    assert "CustomAttributes" not in resp  # the default handlers set none

    resp = rt.invoke_endpoint(
        EndpointName=sklearn_endpoint,
        ContentType="application/x-npy",
        Accept="text/csv",
        Body=npy_bytes(X[10:14]),
        CustomAttributes="trace-id=abc",
        InferenceId="inf-1",
    )
    assert resp["ContentType"] == "text/csv"
    assert resp["Body"].read().decode().split() == [str(v) for v in sklearn_predict(X[10:14])]

    resp = rt.invoke_endpoint(
        EndpointName=sklearn_endpoint.upper(),  # names are case-insensitive
        ContentType="application/json",
        Accept="application/x-npy",
        Body=json.dumps(X[:2].tolist()),
    )
    got = np.load(__import__("io").BytesIO(resp["Body"].read()))
    assert got.tolist() == sklearn_predict(X[:2])


def test_invoke_sklearn_with_aws_cli(server, sklearn_endpoint, tmp_path: Path) -> None:
    payload = tmp_path / "in.csv"
    payload.write_text(csv_rows(X[20:23]))
    out = tmp_path / "out.json"
    proc = server.aws(
        "sagemaker-runtime",
        "invoke-endpoint",
        "--endpoint-name",
        sklearn_endpoint,
        "--content-type",
        "text/csv",
        "--body",
        f"fileb://{payload}",
        str(out),
    )
    meta = json.loads(proc.stdout)
    assert meta["ContentType"] == "application/json"
    assert meta["InvokedProductionVariant"] == "AllTraffic"
    assert json.loads(out.read_text()) == sklearn_predict(X[20:23])


def test_invoke_errors(server, sklearn_endpoint, tmp_path: Path) -> None:
    rt = server.client("sagemaker-runtime")
    with pytest.raises(ClientError) as exc:
        rt.invoke_endpoint(EndpointName="no-such-endpoint", Body=b"1")
    assert error_of(exc.value) == (
        "ValidationError",
        f"Endpoint no-such-endpoint of account {ACCOUNT} not found.",
        400,
    )

    with pytest.raises(ClientError) as exc:
        rt.invoke_endpoint(
            EndpointName=sklearn_endpoint,
            Body=b"1",
            ContentType="text/csv",
            TargetVariant="Nope",
        )
    code, message, _ = error_of(exc.value)
    assert code == "ValidationError" and "Nope" in message

    big = b"0" * (6 * 1024 * 1024 + 1)
    with pytest.raises(ClientError) as exc:
        rt.invoke_endpoint(EndpointName=sklearn_endpoint, Body=big, ContentType="text/csv")
    code, message, status = error_of(exc.value)
    assert (code, status) == ("ValidationError", 413) and "6291456" in message

    # the model itself fails: 3 features where it expects 30
    with pytest.raises(ClientError) as exc:
        rt.invoke_endpoint(EndpointName=sklearn_endpoint, Body=b"1,2,3", ContentType="text/csv")
    err = exc.value.response
    assert err["Error"]["Code"] == "ModelError"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert err["OriginalStatusCode"] == 500
    assert "expecting 30 features" in err["OriginalMessage"]
    assert err["LogStreamArn"].startswith(f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:")
    # an unsupported content type is the model's 415, reported as ModelError too
    with pytest.raises(ClientError) as exc:
        rt.invoke_endpoint(EndpointName=sklearn_endpoint, Body=b"x", ContentType="image/png")
    assert exc.value.response["OriginalStatusCode"] == 415

    # the AWS CLI shows the same error
    payload = tmp_path / "in.csv"
    payload.write_text("1,2,3")
    proc = server.aws(
        "sagemaker-runtime",
        "invoke-endpoint",
        "--endpoint-name",
        sklearn_endpoint,
        "--content-type",
        "text/csv",
        "--body",
        f"fileb://{payload}",
        str(tmp_path / "o"),
        check=False,
    )
    assert proc.returncode != 0 and "ModelError" in proc.stderr


SLOW_LOAD = """
import os, time, joblib
def model_fn(model_dir):
    time.sleep(4)
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""


def test_endpoint_not_in_service(server, tmp_path: Path) -> None:
    url = upload(server, pack(sklearn_model(tmp_path / "slow", SLOW_LOAD)))
    name = deploy(server, SKLEARN_IMAGE, url, wait=False)
    rt = server.client("sagemaker-runtime")
    try:
        with pytest.raises(ClientError) as exc:
            rt.invoke_endpoint(EndpointName=name, Body=csv_rows(X[:1]), ContentType="text/csv")
        code, message, _ = error_of(exc.value)
        assert code == "ValidationError" and "Creating" in message
        server.client("sagemaker").get_waiter("endpoint_in_service").wait(
            EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        resp = rt.invoke_endpoint(EndpointName=name, Body=csv_rows(X[:1]), ContentType="text/csv")
        assert json.loads(resp["Body"].read()) == sklearn_predict(X[:1])
    finally:
        delete(server, name)


HOOKS = """
import json, os, time, joblib
import numpy as np

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def input_fn(body, content_type):
    doc = json.loads(body)
    if doc.get("hang"):
        time.sleep(30)
    if doc.get("refuse"):
        from cove.instance.serving.base import ModelInvocationError
        raise ModelInvocationError(422, "refused: " + doc["refuse"])
    return np.array(doc["instances"])

def predict_fn(data, model):
    return model.predict_proba(data)[:, 1]

def output_fn(prediction, accept, context):
    attrs = context.custom_attributes
    if attrs:
        context.set_custom_attributes("echo:" + attrs)
    return json.dumps({"scores": [round(float(p), 4) for p in prediction]}), "application/json"
"""


def test_inference_script_custom_attributes_and_hang(server, tmp_path: Path) -> None:
    url = upload(server, pack(sklearn_model(tmp_path / "hooks", HOOKS)))
    name = deploy(server, "sklearn", url)
    rt = server.client("sagemaker-runtime")
    body = json.dumps({"instances": X[:3].tolist()})
    try:
        resp = rt.invoke_endpoint(
            EndpointName=name,
            Body=body,
            ContentType="application/json",
            CustomAttributes="c000b4f9-df62-4c85-a0bf-7c525f9104a4",
        )
        assert len(json.loads(resp["Body"].read())["scores"]) == 3
        assert resp["CustomAttributes"] == "echo:c000b4f9-df62-4c85-a0bf-7c525f9104a4"

        with pytest.raises(ClientError) as exc:
            rt.invoke_endpoint(
                EndpointName=name, Body=json.dumps({"refuse": "no"}), ContentType="application/json"
            )
        assert exc.value.response["OriginalStatusCode"] == 422
        assert exc.value.response["OriginalMessage"] == "refused: no"

        started = time.monotonic()
        with pytest.raises(ClientError) as exc:
            rt.invoke_endpoint(
                EndpointName=name, Body=json.dumps({"hang": True}), ContentType="application/json"
            )
        assert exc.value.response["Error"]["Code"] == "ModelError"
        assert "timed out" in exc.value.response["Error"]["Message"]
        assert 2.5 < time.monotonic() - started < 15  # COVE_MODEL_TIMEOUT=3
        # the hung instance is recycled; the endpoint serves again
        resp = rt.invoke_endpoint(EndpointName=name, Body=body, ContentType="application/json")
        assert len(json.loads(resp["Body"].read())["scores"]) == 3
    finally:
        delete(server, name)


def test_xgboost_framework_and_builtin_variants(server, tmp_path: Path) -> None:
    framework = upload(server, pack(xgboost_model(tmp_path / "json", "json")))
    builtin = upload(server, pack(xgboost_model(tmp_path / "pickle", "pickle")))
    sm = server.client("sagemaker")
    name = unique("xgb")
    for model, image, url in (
        (f"{name}-fw", XGBOOST_IMAGE, framework),
        (f"{name}-algo", XGBOOST_ALGO_IMAGE, builtin),
    ):
        sm.create_model(
            ModelName=model,
            PrimaryContainer={"Image": image, "ModelDataUrl": url},
            ExecutionRoleArn="arn:aws:iam::000000000000:role/cove",
        )
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "Framework",
                "ModelName": f"{name}-fw",
                "InstanceType": "ml.c5.large",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": 1,
            },
            {
                "VariantName": "Builtin",
                "ModelName": f"{name}-algo",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": 1,
            },
        ],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    rt = server.client("sagemaker-runtime")
    want = xgboost_predict(X[:4])
    try:
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        for variant in ("Framework", "Builtin"):
            resp = rt.invoke_endpoint(
                EndpointName=name,
                Body=csv_rows(X[:4]),
                ContentType="text/csv",
                TargetVariant=variant,
            )
            assert resp["InvokedProductionVariant"] == variant
            assert resp["ContentType"] == "text/csv"
            got = [float(v) for v in resp["Body"].read().decode().split(",")]
            assert got == pytest.approx(want, rel=1e-6)
        libsvm = "\n".join(" ".join(f"{j}:{v}" for j, v in enumerate(r)) for r in X[:2])
        resp = rt.invoke_endpoint(
            EndpointName=name, Body=libsvm, ContentType="text/libsvm", Accept="application/json"
        )
        assert json.loads(resp["Body"].read()) == pytest.approx(want[:2], rel=1e-5)
        # equal weights: both variants take traffic
        seen = {
            rt.invoke_endpoint(EndpointName=name, Body=csv_rows(X[:1]), ContentType="text/csv")[
                "InvokedProductionVariant"
            ]
            for _ in range(40)
        }
        assert seen == {"Framework", "Builtin"}
    finally:
        delete(server, name)
        for model in (f"{name}-fw", f"{name}-algo"):
            sm.delete_model(ModelName=model)


def test_bring_your_own_container(server, tmp_path: Path) -> None:
    exe = byoc_server(tmp_path / "bin" / "echo-server")
    model_dir = tmp_path / "byoc-model"
    model_dir.mkdir()
    (model_dir / "greeting.txt").write_text("hello")
    url = upload(server, pack(model_dir))
    name = deploy(server, f"file://{exe}", url, environment={"MODE": "loud"})
    rt = server.client("sagemaker-runtime")
    try:
        resp = rt.invoke_endpoint(
            EndpointName=name, Body=b"abc", ContentType="text/plain", CustomAttributes="k=v"
        )
        assert resp["Body"].read() == b"hello ABC loud"
        assert resp["ContentType"] == "text/x-echo"
        assert resp["CustomAttributes"] == "seen=k=v"
        with pytest.raises(ClientError) as exc:
            rt.invoke_endpoint(EndpointName=name, Body=b"fail", ContentType="text/plain")
        err = exc.value.response
        assert (err["Error"]["Code"], err["OriginalStatusCode"]) == ("ModelError", 503)
        assert err["OriginalMessage"] == "busy: try later"
        assert (
            'Received server error (503) from primary with message "busy: try later"'
            in (err["Error"]["Message"])
        )
    finally:
        delete(server, name)


def test_images_and_models_that_cannot_run_fail_the_endpoint(server, tmp_path: Path) -> None:
    sm = server.client("sagemaker")
    broken = "def model_fn(model_dir):\n    raise RuntimeError('weights are corrupt')\n"
    url = upload(server, pack(sklearn_model(tmp_path / "broken", broken)))
    cases = [
        (
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1-cpu-py310",
            url,
            "is not one Cove can run",
        ),
        ("sklearn", url, "RuntimeError: weights are corrupt"),
        ("sklearn", "s3://cove-test-models/no/such/model.tar.gz", "no/such/model.tar.gz"),
    ]
    names = [deploy(server, image, u, wait=False) for image, u, _ in cases]
    try:
        for name, (_, _, reason) in zip(names, cases, strict=True):
            deadline = time.time() + 60
            while (desc := sm.describe_endpoint(EndpointName=name))["EndpointStatus"] not in (
                "Failed",
                "InService",
            ) and time.time() < deadline:
                time.sleep(0.5)
            assert desc["EndpointStatus"] == "Failed"
            assert reason in desc["FailureReason"], desc["FailureReason"]
            with pytest.raises(ClientError) as exc:
                server.client("sagemaker-runtime").invoke_endpoint(EndpointName=name, Body=b"1")
            assert "not in service" in error_of(exc.value)[1]
    finally:
        for name in names:
            delete(server, name)


def _signed_bytes(server, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One SigV4-signed HTTP/1.1 request as raw bytes, for writing several back to back."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key, secret = server.credentials()
    req = AWSRequest(method="POST", url=server.url + path, data=body, headers=headers)
    SigV4Auth(Credentials(key, secret), "sagemaker", "us-east-1").add_auth(req)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v.decode() if isinstance(v, bytes) else v}" for k, v in req.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _read_response(stream) -> tuple[int, bytes]:
    status = int(stream.readline().split()[1])
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, stream.read(length)


def test_pipelined_requests_are_answered_in_order(server, sklearn_endpoint) -> None:
    """Invocations answered through callbacks and control-plane calls answered by a
    coroutine, written back to back on one connection, come back in the order sent."""
    import socket

    path = f"/endpoints/{sklearn_endpoint}/invocations"
    csv = {"Content-Type": "text/csv"}
    listing = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "SageMaker.ListEndpoints"}
    requests = [
        _signed_bytes(server, path, csv_rows(X[0:3]).encode(), csv),
        _signed_bytes(server, "/", b"{}", listing),
        _signed_bytes(server, path, csv_rows(X[3:8]).encode(), csv),
        _signed_bytes(server, path, b"1.0,2.0", csv),  # 2 features: the model's error
        _signed_bytes(server, path, csv_rows(X[8:9]).encode(), csv),
    ]
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"".join(requests))
        stream = sock.makefile("rb")
        answers = [_read_response(stream) for _ in requests]
    assert answers[0] == (200, json.dumps(sklearn_predict(X[0:3])).encode())
    assert answers[1][0] == 200 and "Endpoints" in json.loads(answers[1][1])
    assert answers[2] == (200, json.dumps(sklearn_predict(X[3:8])).encode())
    assert answers[3][0] == 424
    assert json.loads(answers[3][1])["OriginalStatusCode"] == 500
    assert answers[4] == (200, json.dumps(sklearn_predict(X[8:9])).encode())


def test_every_header_the_model_declares_is_checked(server, sklearn_endpoint) -> None:
    # The binding comes from botocore's model: InvokeEndpoint's header members have
    # length limits (e.g. InferenceId at most 64 characters, TargetModel 1024; SageMaker
    # Runtime API reference, InvokeEndpoint, Request Syntax); botocore's client checks
    # only minimum lengths, so the server is the one that refuses these.
    rt = server.client("sagemaker-runtime")
    for member, value in (("InferenceId", "i" * 65), ("TargetModel", "m" * 1025)):
        with pytest.raises(ClientError) as exc:
            rt.invoke_endpoint(EndpointName=sklearn_endpoint, Body=b"1", ContentType="text/csv",
                               **{member: value})
        code, message, status = error_of(exc.value)
        wire_name = member[0].lower() + member[1:]  # AWS names members camelCase there
        assert (code, status) == ("ValidationError", 400) and f"'{wire_name}'" in message
