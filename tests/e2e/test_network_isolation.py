"""EnableNetworkIsolation is real for endpoint instances (issue #12 part 8): the model's
code runs with no network interface but loopback, reaches nothing (not the server's port,
not any other address), and finds no credentials: none in its environment, no container
credentials endpoint, no instance metadata service, no ~/.aws. Its private channel to
the server is the Unix socket it is served on, so it still answers invocations.

AWS: "If you enable network isolation, no inbound or outbound network calls can be made to
or from the model container, including calls to or from other AWS services. Additionally,
no AWS credentials are made available to the container runtime environment." (SageMaker
Developer Guide, "Run training and inference containers in internet-free mode",
https://docs.aws.amazon.com/sagemaker/latest/dg/mkt-algo-model-internet-free.html; the
same words in Security Hub's control SageMaker.5.)

The same model without isolation reaches the server's port and holds its role's grant, so
the checks below can fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import CoveServer
from tests.models import ROLE, byoc_server, delete, pack, sklearn_model, unique, upload

# What the model's code finds, answered as JSON. Off-machine addresses (1.1.1.1, the
# metadata service's 169.254.169.254) are tried only from a namespace whose one interface
# is loopback, where the kernel refuses them without sending anything: this machine's
# tests never send traffic anywhere but itself.
PROBE = """
import errno, json, os, socket

def model_fn(model_dir):
    return None

def _connect(host, port):
    try:
        with socket.create_connection((host, port), timeout=2):
            return "connected"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc)) if exc.errno else type(exc).__name__

def _routes():
    with open("/proc/net/route") as f:
        return [line.split()[:2] for line in f.readlines()[1:]]

def transform_fn(model, data, content_type, accept):
    targets = json.loads(data)["targets"]
    interfaces = sorted(name for _, name in socket.if_nameindex())
    out = {"interfaces": interfaces, "routes": _routes()}
    out["connect"] = {f"{h}:{p}": _connect(h, p) for h, p in targets}
    if interfaces == ["lo"]:
        for host, port in (("1.1.1.1", 443), ("169.254.169.254", 80)):
            out["connect"][f"{host}:{port}"] = _connect(host, port)
        import boto3
        out["boto3_credentials"] = repr(boto3.Session().get_credentials())
    out["aws_env"] = sorted(k for k in os.environ if k.startswith("AWS_"))
    out["aws_dirs"] = [p for p in (os.path.expanduser("~/.aws"), "/root/.aws")
                       if os.path.exists(p)]
    return json.dumps(out)
"""


@pytest.fixture(scope="module")
def probe_url(server: CoveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    return upload(server, pack(sklearn_model(tmp_path_factory.mktemp("probe") / "m", PROBE)))


def deploy(server: CoveServer, model_url: str, **model: Any) -> str:
    sm = server.client("sagemaker")
    name = unique("iso")
    sm.create_model(
        ModelName=name,
        PrimaryContainer={"Image": "sklearn", "ModelDataUrl": model_url},
        ExecutionRoleArn=ROLE,
        **model,
    )
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1}])  # fmt: skip
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 240}
    )
    return name


def probe(server: CoveServer, name: str) -> dict[str, Any]:
    body = json.dumps({"targets": [["127.0.0.1", server.port], ["localhost", server.port]]})
    answer = server.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=name, ContentType="application/json", Body=body
    )
    return json.loads(answer["Body"].read())


def test_an_isolated_instance_reaches_nothing_and_finds_no_credentials(
    server: CoveServer, probe_url: str
) -> None:
    name = deploy(server, probe_url, EnableNetworkIsolation=True)
    try:
        assert server.client("sagemaker").describe_model(ModelName=name)[
            "EnableNetworkIsolation"
        ] is True
        found = probe(server, name)
    finally:
        delete(server, name)
    assert found["interfaces"] == ["lo"]
    assert found["routes"] == []  # no route anywhere, not even a default one
    port = server.port
    assert found["connect"] == {
        f"127.0.0.1:{port}": "ECONNREFUSED",  # its own loopback: nothing listens there
        f"localhost:{port}": "ECONNREFUSED",
        "1.1.1.1:443": "ENETUNREACH",
        "169.254.169.254:80": "ENETUNREACH",  # no instance metadata service
    }
    assert found["boto3_credentials"] == "None"  # botocore's whole provider chain
    assert found["aws_env"] == []  # no keys, no container-credentials grant, no endpoint
    assert found["aws_dirs"] == []


def test_the_same_model_without_isolation_reaches_the_server(
    server: CoveServer, probe_url: str
) -> None:
    name = deploy(server, probe_url)
    try:
        found = probe(server, name)
    finally:
        delete(server, name)
    assert found["interfaces"] != ["lo"]
    assert found["connect"][f"127.0.0.1:{server.port}"] == "connected"
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in found["aws_env"]
    assert "AWS_CONTAINER_AUTHORIZATION_TOKEN" in found["aws_env"]


def test_an_endpoint_configs_isolation_isolates_its_models(
    server: CoveServer, probe_url: str
) -> None:
    sm = server.client("sagemaker")
    name = unique("iso-config")
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": "sklearn", "ModelDataUrl": probe_url})  # fmt: skip
    sm.create_endpoint_config(EndpointConfigName=name, EnableNetworkIsolation=True,
                              ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1}])  # fmt: skip
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    try:
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 240}
        )
        found = probe(server, name)
    finally:
        delete(server, name)
    assert found["interfaces"] == ["lo"] and found["aws_env"] == []


def test_isolation_cannot_go_with_a_serverless_variant(server: CoveServer, probe_url: str) -> None:
    # Serverless endpoints do not support network isolation (SageMaker Developer Guide,
    # "Deploy models with Amazon SageMaker Serverless Inference", feature exclusions).
    sm = server.client("sagemaker")
    name = unique("iso-serverless")
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, EnableNetworkIsolation=True,
                    PrimaryContainer={"Image": "sklearn", "ModelDataUrl": probe_url})  # fmt: skip
    with pytest.raises(ClientError) as info:
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": name,
            "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}}])  # fmt: skip
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "serverless endpoints do not support network isolation" in str(info.value)


def test_a_command_image_with_isolation_fails_closed(
    server: CoveServer, tmp_path: Path
) -> None:
    sm = server.client("sagemaker")
    name = unique("iso-byoc")
    exe = byoc_server(tmp_path / "serve")
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, EnableNetworkIsolation=True,
                    PrimaryContainer={"Image": str(exe)})  # fmt: skip
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1}])  # fmt: skip
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    try:
        with pytest.raises(Exception):  # noqa: B017 - the waiter's failure
            sm.get_waiter("endpoint_in_service").wait(
                EndpointName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 120}
            )
        out = sm.describe_endpoint(EndpointName=name)
    finally:
        delete(server, name)
    assert out["EndpointStatus"] == "Failed"
    assert out["FailureReason"].startswith("EnableNetworkIsolation is set and image ")
