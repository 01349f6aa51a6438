"""SageMaker-style invocation metrics in the Prometheus text format on /metrics."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError
from models import (
    SKLEARN_IMAGE,
    breast_cancer,
    csv_rows,
    delete,
    deploy,
    pack,
    sklearn_model,
    upload,
)

X, _ = breast_cancer()


def scrape(server) -> str:
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return resp.read().decode()


def value(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{re.escape(name)}{{{re.escape(wanted)}}} (\S+)$", text, re.M)
    assert match, f"{name}{{{wanted}}} not in metrics:\n{text}"
    return float(match.group(1))


@pytest.fixture(scope="module")
def endpoint(server, tmp_path_factory):
    url = upload(server, pack(sklearn_model(tmp_path_factory.mktemp("metrics") / "m")))
    name = deploy(server, SKLEARN_IMAGE, url)
    yield name
    delete(server, name)


def test_invocations_latencies_and_errors_are_counted(server, endpoint) -> None:
    rt = server.client("sagemaker-runtime")
    for i in range(5):
        rt.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(X[i:i+1]))
    with pytest.raises(ClientError):  # the model answers 415: a 4xx from the model
        rt.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=b"x")

    text = scrape(server)
    labels = {"endpoint": endpoint, "variant": "AllTraffic"}
    assert value(text, "cove_invocations_total", **labels) == 6
    assert value(text, "cove_invocation_4xx_errors_total", **labels) == 1
    assert value(text, "cove_invocation_5xx_errors_total", **labels) == 0
    assert value(text, "cove_model_latency_microseconds_count", **labels) == 5
    model_us = value(text, "cove_model_latency_microseconds_sum", **labels)
    overhead_us = value(text, "cove_overhead_latency_microseconds_sum", **labels)
    assert 0 < model_us < 5 * 1e6 and 0 < overhead_us < 5 * 1e6
    inf = value(text, "cove_model_latency_microseconds_bucket", **labels, le="+Inf")
    assert inf == 5


def test_instance_calls_cpu_and_memory_with_its_az(server, endpoint) -> None:
    # per instance: `instance_id`, not `instance`, which Prometheus sets on every series
    # it scrapes to the target's address (a clashing one becomes `exported_instance`:
    # https://prometheus.io/docs/prometheus/latest/configuration/configuration/, honor_labels)
    rt = server.client("sagemaker-runtime")
    before = scrape(server)
    labels = {"endpoint": endpoint, "variant": "AllTraffic", "instance_id": "AllTraffic-1",
              "availability_zone": "us-east-1a"}  # fmt: skip
    served = value(before, "cove_instance_invocations_total", **labels)
    for i in range(3):
        rt.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(X[i:i+1]))
    text = scrape(server)
    assert value(text, "cove_instance_invocations_total", **labels) == served + 3
    assert value(text, "cove_instance_cpu_seconds_total", **labels) > 0
    assert value(text, "cove_instance_memory_bytes", **labels) > 10 * 2**20
    assert 'instance="' not in text


def test_signed_scrape_also_works_and_a_bad_signature_does_not(server) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key, secret = server.credentials()
    for secret_used, status in ((secret, 200), ("wrong", 403)):
        req = AWSRequest(method="GET", url=f"{server.url}/metrics")
        SigV4Auth(Credentials(key, secret_used), "sagemaker", "us-east-1").add_auth(req)
        prepared = req.prepare()
        http = urllib.request.Request(prepared.url, headers=dict(prepared.headers))
        try:
            with urllib.request.urlopen(http, timeout=10) as resp:
                got = resp.status
        except urllib.error.HTTPError as err:
            got = err.code
        assert got == status
