"""Adaptive batching end to end: concurrent InvokeEndpoint calls to a batching endpoint get
the same bytes as from an unbatched one, and a bad request fails alone."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError, WaiterError
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

# The model is sandboxed: it reports each batch's size in its own log, as a SageMaker
# model would in CloudWatch.
RECORDING = """
def predict_fn(data, model):
    print("batch-rows %d" % len(data), flush=True)
    return model.predict(data)
"""


@pytest.fixture(scope="module")
def endpoints(server, tmp_path_factory):
    root = tmp_path_factory.mktemp("batching")
    url = upload(server, pack(sklearn_model(root / "m", RECORDING)))
    batched = deploy(server, SKLEARN_IMAGE, url, environment={
        "COVE_MAX_BATCH_SIZE": "16", "COVE_MAX_BATCH_DELAY_MS": "50",
    })
    plain = deploy(server, SKLEARN_IMAGE, url)
    log = server.data_dir / "logs" / "endpoints" / batched / "AllTraffic-1.log"
    yield batched, plain, log
    delete(server, batched)
    delete(server, plain)


def outcome(rt, endpoint: str, body: str) -> tuple:
    try:
        resp = rt.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
    except ClientError as exc:
        r = exc.response
        return ("error", r["Error"]["Code"], r.get("OriginalStatusCode"), r.get("OriginalMessage"))
    return ("ok", resp["ContentType"], resp["Body"].read())


def test_concurrent_requests_are_batched_and_answered_as_alone(server, endpoints) -> None:
    batched, plain, log = endpoints
    bodies = [csv_rows(X[i : i + 1 + i % 3]) for i in range(31)]
    bodies.insert(13, "1.0,2.0,3.0")  # wrong feature count: its own ModelError
    expected = [outcome(server.client("sagemaker-runtime"), plain, b) for b in bodies]
    start = len(log.read_text())
    # clients made up front and a barrier: the requests really arrive together
    clients = [server.client("sagemaker-runtime") for _ in bodies]
    barrier = threading.Barrier(len(bodies))

    def call(i: int) -> tuple:
        barrier.wait(timeout=60)
        return outcome(clients[i], batched, bodies[i])

    with ThreadPoolExecutor(len(bodies)) as pool:
        got = list(pool.map(call, range(len(bodies))))
    assert got == expected
    assert expected[13][:3] == ("error", "ModelError", 500)
    assert all(e[0] == "ok" for i, e in enumerate(expected) if i != 13)
    sizes = [int(line.split()[1]) for line in log.read_text()[start:].splitlines()
             if line.startswith("batch-rows ")]
    assert max(sizes) > 3, f"no request was batched with another: {sizes}"


def test_batching_knobs_are_validated(server, tmp_path) -> None:
    url = upload(server, pack(sklearn_model(tmp_path / "m")))
    name = deploy(server, SKLEARN_IMAGE, url, environment={"COVE_MAX_BATCH_SIZE": "lots"},
                  wait=False)
    sm = server.client("sagemaker")
    with pytest.raises(WaiterError):  # the waiter stops on Failed
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    desc = sm.describe_endpoint(EndpointName=name)
    assert desc["EndpointStatus"] == "Failed"
    assert "COVE_MAX_BATCH_SIZE must be an integer" in desc["FailureReason"]
    delete(server, name)
