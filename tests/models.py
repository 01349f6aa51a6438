"""Model fixtures any test can build: real scikit-learn / XGBoost models on sklearn's bundled
breast-cancer data, packed as SageMaker model.tar.gz, plus helpers to upload them and to
deploy them through the real SageMaker API of a running Cove server."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
import tarfile
import textwrap
import uuid
from pathlib import Path
from typing import Any

import numpy as np

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
XGBOOST_ALGO_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:1"
ROLE = "arn:aws:iam::000000000000:role/cove"


@functools.cache
def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    return x, y


def csv_rows(rows: np.ndarray) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in np.atleast_2d(rows))


@functools.cache
def _logistic_regression() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = breast_cancer()
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)


def sklearn_model(model_dir: Path, script: str | None = None) -> Path:
    """A directory laid out like /opt/ml/model: model.joblib (+ code/inference.py)."""
    import joblib

    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(_logistic_regression(), model_dir / "model.joblib")
    if script is not None:
        (model_dir / "code").mkdir(exist_ok=True)
        (model_dir / "code" / "inference.py").write_text(textwrap.dedent(script))
    return model_dir


def sklearn_predict(rows: np.ndarray) -> list[int]:
    return [int(v) for v in _logistic_regression().predict(np.atleast_2d(rows))]


@functools.cache
def _booster() -> Any:
    import xgboost as xgb

    x, y = breast_cancer()
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3}
    return xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=10)


def xgboost_model(model_dir: Path, fmt: str = "json") -> Path:
    """`xgboost-model` as XGBoost JSON (`fmt="json"`) or a pickled Booster (`"pickle"`)."""
    import pickle

    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / "xgboost-model"
    if fmt == "pickle":
        path.write_bytes(pickle.dumps(_booster()))
    else:
        _booster().save_model(str(model_dir / "xgboost-model.json"))
        (model_dir / "xgboost-model.json").rename(path)
    return model_dir


def xgboost_predict(rows: np.ndarray) -> list[float]:
    import xgboost as xgb

    return [float(v) for v in _booster().predict(xgb.DMatrix(np.atleast_2d(rows)))]


def pack(model_dir: Path, archive: Path | None = None) -> Path:
    """model.tar.gz with the directory's contents at the archive's top level."""
    archive = archive or model_dir.parent / f"{model_dir.name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for item in sorted(model_dir.iterdir()):
            tar.add(item, arcname=item.name)
    return archive


BYOC_SERVER = '''\
#!{python}
"""A bring-your-own-container server: `serve` answers /ping and /invocations on
SAGEMAKER_BIND_TO_PORT. POST bodies: 'fail' -> 503, 'crash' -> exit, else echo upper-cased
with the model dir's greeting file and the custom attributes."""
import os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

assert sys.argv[1:] == ["serve"], sys.argv
model_dir = os.environ["SM_MODEL_DIR"]
greeting = open(os.path.join(model_dir, "greeting.txt")).read().strip()

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def _send(self, status, body, ctype="text/plain", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self._send(200 if self.path == "/ping" else 404, b"")
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if body == b"fail":
            return self._send(503, b"busy: try later")
        if body == b"crash":
            os._exit(3)
        attrs = self.headers.get("X-Amzn-SageMaker-Custom-Attributes")
        extra = [("X-Amzn-SageMaker-Custom-Attributes", "seen=" + attrs)] if attrs else []
        out = (greeting + " " + body.decode().upper() + " " + os.environ.get("MODE", "")).encode()
        self._send(200, out, "text/x-echo", extra)

ThreadingHTTPServer(("127.0.0.1", int(os.environ["SAGEMAKER_BIND_TO_PORT"])), H).serve_forever()
'''


def byoc_server(path: Path) -> Path:
    """An executable that serves the SageMaker container contract (see BYOC_SERVER)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BYOC_SERVER.format(python=sys.executable))
    os.chmod(path, 0o755)
    return path


# -- through a running server ---------------------------------------------------------
def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def upload(server: Any, archive: Path, bucket: str = "cove-test-models") -> str:
    """Put a model archive into the server's object store; returns its s3:// URI."""
    s3 = server.client("s3")
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    except Exception as exc:  # BucketAlreadyExists on some S3 implementations
        if "BucketAlready" not in str(exc):
            raise
    key = f"{unique('model')}/model.tar.gz"
    s3.upload_file(str(archive), bucket, key)
    return f"s3://{bucket}/{key}"


def deploy(
    server: Any,
    image: str,
    model_data_url: str | None,
    *,
    name: str | None = None,
    variants: list[dict[str, Any]] | None = None,
    environment: dict[str, str] | None = None,
    wait: bool = True,
    role: str = ROLE,
) -> str:
    """CreateModel -> CreateEndpointConfig -> CreateEndpoint (-> wait InService).

    `variants` are ProductionVariants without ModelName (each gets this model); the
    default is one ml.m5.large instance named AllTraffic. Returns the endpoint name.
    """
    sm = server.client("sagemaker")
    name = name or unique("ep")
    container: dict[str, Any] = {"Image": image}
    if model_data_url:
        container["ModelDataUrl"] = model_data_url
    if environment:
        container["Environment"] = environment
    sm.create_model(ModelName=name, PrimaryContainer=container, ExecutionRoleArn=role)
    variants = variants or [{"VariantName": "AllTraffic"}]
    production = [
        {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1, "ModelName": name, **v}
        for v in variants
    ]
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=production)
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    if wait:
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    return name


def delete(server: Any, name: str) -> None:
    sm = server.client("sagemaker")
    for call, kw in (
        (sm.delete_endpoint, {"EndpointName": name}),
        (sm.delete_endpoint_config, {"EndpointConfigName": name}),
        (sm.delete_model, {"ModelName": name}),
    ):
        with contextlib.suppress(Exception):  # best-effort cleanup
            call(**kw)


def npy_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()
