"""Right after a restart an InService endpoint is still being brought back: a call then
waits for it (within the model timeout) or gets a retryable 503, never the
non-retryable 400 that contradicts DescribeEndpoint's InService.

Finding: "during the seconds after a restart an InService endpoint answers a
non-retryable 400" (issue "Contain untrusted model code"). InvokeEndpoint's errors include
ServiceUnavailable, HTTP 503, "The service is unavailable. Try your call again."
(SageMaker Runtime API reference, InvokeEndpoint, Errors; the same shape and status in
botocore's sagemaker-runtime model); botocore retries 503 answers."""

from __future__ import annotations

import json
import time

from botocore.config import Config
from botocore.exceptions import ClientError
from models import SKLEARN_IMAGE, breast_cancer, csv_rows, deploy, pack, sklearn_model, upload

X, _ = breast_cancer()
NO_RETRY = Config(retries={"total_max_attempts": 1}, read_timeout=120)

SLOW_LOAD = """
import os, time, joblib

def model_fn(model_dir):
    time.sleep(float(os.environ.get("LOAD_SECONDS", "0")))
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""


def restarted(make_server, tmp_path, env: dict[str, str]):
    srv = make_server(env=env)
    url = upload(srv, pack(sklearn_model(tmp_path / "m", SLOW_LOAD)))
    name = deploy(srv, SKLEARN_IMAGE, url, environment={"LOAD_SECONDS": "3"})
    srv.stop()
    srv.start(until_serving=False)  # the port is open; the endpoint is not back yet
    return srv, name


def invoke(srv, name: str):
    rt = srv.client("sagemaker-runtime", config=NO_RETRY)
    return rt.invoke_endpoint(EndpointName=name, Body=csv_rows(X[:1]), ContentType="text/csv")


def test_a_call_during_restore_waits_for_the_endpoint(make_server, tmp_path) -> None:
    srv, name = restarted(make_server, tmp_path, {})
    assert "Cove is serving" not in srv.log().split("Cove stopped")[-1]
    started = time.monotonic()
    resp = invoke(srv, name)
    assert json.loads(resp["Body"].read()) in ([0], [1])
    assert time.monotonic() - started > 1  # it really arrived while the model loaded
    ep = srv.client("sagemaker").describe_endpoint(EndpointName=name)
    assert ep["EndpointStatus"] == "InService"


def test_a_call_that_outwaits_the_model_timeout_gets_a_retryable_503(make_server, tmp_path):
    srv, name = restarted(make_server, tmp_path, {"COVE_MODEL_TIMEOUT": "1"})
    try:
        invoke(srv, name)
        raise AssertionError("the call was answered before the endpoint was back")
    except ClientError as exc:
        err = exc.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert err["Error"]["Code"] == "ServiceUnavailable"
    # once it is back it serves, with the retries botocore makes by default
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            assert json.loads(invoke(srv, name)["Body"].read()) in ([0], [1])
            return
        except ClientError:
            time.sleep(0.5)
    raise AssertionError("the endpoint never came back")
