"""A request that crashes its instance is not tried on another, and calls queued behind
a hung instance move to an idle one.

Findings: "a request that crashes its instance is retried on the other and crashes it
too" and "a hung instance kept 32 requests waiting 60 s while the other instance sat
idle" (issue "Contain untrusted model code")."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from models import SKLEARN_IMAGE, delete, deploy, pack, sklearn_model, upload

NO_RETRY = Config(retries={"total_max_attempts": 1}, read_timeout=120)

MOODY = """
import os, time

def transform_fn(model, data, content_type, accept):
    body = data.decode() if isinstance(data, bytes) else str(data)
    if body == "crash":
        os._exit(3)
    if body == "hang":
        time.sleep(30)
    return body.upper()
"""


@pytest.fixture
def moody(make_server, tmp_path):
    srv = make_server(env={"COVE_MODEL_TIMEOUT": "20"})
    url = upload(srv, pack(sklearn_model(tmp_path / "m", MOODY)))
    name = deploy(srv, SKLEARN_IMAGE, url, variants=[
        {"VariantName": "AllTraffic", "InitialInstanceCount": 2, "InstanceType": "ml.t2.medium"},
    ])
    yield srv, name
    delete(srv, name)


def starts(srv, name: str) -> int:
    """How many times its instances started serving, from their logs."""
    logs = (srv.data_dir / "logs" / "endpoints" / name).glob("*.log")
    return sum(log.read_text().count("serving cove.") for log in logs)


def call(srv, name: str, body: str) -> str:
    rt = srv.client("sagemaker-runtime", config=NO_RETRY)
    resp = rt.invoke_endpoint(EndpointName=name, Body=body, ContentType="text/plain")
    return resp["Body"].read().decode()


def test_a_request_that_crashes_its_instance_is_not_retried(moody) -> None:
    srv, name = moody
    assert starts(srv, name) == 2
    with pytest.raises(ClientError) as err:
        call(srv, name, "crash")
    assert err.value.response["Error"]["Code"] == "ModelError"
    assert "closed the connection without answering" in str(err.value)
    deadline = time.monotonic() + 30
    while starts(srv, name) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)
    assert starts(srv, name) == 3  # the crashed one came back; the other never crashed
    assert call(srv, name, "fine") == "FINE"


def test_calls_queued_behind_a_hung_instance_move_to_the_idle_one(moody) -> None:
    srv, name = moody
    with ThreadPoolExecutor(17) as pool:
        hung = pool.submit(call, srv, name, "hang")
        time.sleep(0.5)  # the hang is in flight on one instance
        started = time.monotonic()
        quick = [pool.submit(call, srv, name, f"call {i}") for i in range(16)]
        answers = [f.result(timeout=60) for f in quick]
        elapsed = time.monotonic() - started
        assert answers == [f"CALL {i}" for i in range(16)]
        assert elapsed < 8, f"queued calls waited {elapsed:.1f} s behind the hung instance"
        with pytest.raises(ClientError):  # the hung call itself times out
            hung.result(timeout=60)
