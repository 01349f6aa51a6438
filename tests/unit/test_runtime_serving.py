"""The in-process serving stacks, loaded from real model directories."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from models import (
    breast_cancer,
    csv_rows,
    npy_bytes,
    sklearn_model,
    sklearn_predict,
    xgboost_model,
    xgboost_predict,
)

from cove.instance.serving import codecs
from cove.instance.serving import sklearn as sk_stack
from cove.instance.serving import xgboost as xgb_stack
from cove.instance.serving.base import ModelInvocationError
from cove.instance.serving.context import InvocationContext, enter, leave

X, _ = breast_cancer()


def test_codecs_round_trip_csv_json_npy() -> None:
    arr = np.array([[1.5, 2.0], [3.0, 4.25]])
    assert codecs.decode(b"1.5,2\n3,4.25\n", "text/csv; charset=utf-8").tolist() == arr.tolist()
    assert codecs.decode(b"1.5,2", "text/csv").shape == (1, 2)  # one line is one record
    assert codecs.decode(json.dumps(arr.tolist()), "application/json").tolist() == arr.tolist()
    assert codecs.decode(npy_bytes(arr), "application/x-npy").tolist() == arr.tolist()
    assert json.loads(codecs.encode(np.array([1, 0]), "application/json")) == [1, 0]
    assert codecs.encode(np.array([1, 0]), "text/csv") == b"1\n0\n"
    assert np.load(__import__("io").BytesIO(codecs.encode(arr, "application/x-npy"))).tolist() == (
        arr.tolist()
    )


def test_codecs_refuse_unknown_types() -> None:
    with pytest.raises(ModelInvocationError) as err:
        codecs.decode(b"x", "image/png")
    assert err.value.status == 415
    with pytest.raises(ModelInvocationError) as err:
        codecs.encode([1], "application/xml")
    assert err.value.status == 406


def test_sklearn_defaults(tmp_path: Path) -> None:
    handler = sk_stack.Handler(sklearn_model(tmp_path / "m"), {})
    want = sklearn_predict(X[:3])
    body, ctype = handler.invoke(csv_rows(X[:3]).encode(), "text/csv", "")
    assert (json.loads(body), ctype) == (want, "application/json")  # default accept: JSON
    body, ctype = handler.invoke(json.dumps(X[:3].tolist()).encode(), "application/json", "*/*")
    assert json.loads(body) == want
    body, ctype = handler.invoke(npy_bytes(X[:3]), "application/x-npy", "text/csv")
    assert (body.decode().split(), ctype) == ([str(v) for v in want], "text/csv")
    body, ctype = handler.invoke(csv_rows(X[:2]).encode(), "text/csv", "application/x-npy")
    assert np.load(__import__("io").BytesIO(body)).tolist() == want[:2]


def test_sklearn_default_accept_from_environment(tmp_path: Path) -> None:
    env = {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}
    handler = sk_stack.Handler(sklearn_model(tmp_path / "m"), env)
    assert handler.invoke(csv_rows(X[:1]).encode(), "text/csv", "")[1] == "text/csv"


def test_sklearn_missing_model_file(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    with pytest.raises(FileNotFoundError, match="model.joblib"):
        sk_stack.Handler(tmp_path / "m", {})


HOOKS = """
import json, os, joblib
import numpy as np

def model_fn(model_dir):
    return {"clf": joblib.load(os.path.join(model_dir, "model.joblib"))}

def input_fn(body, content_type):
    assert content_type == "application/json"
    return np.array(json.loads(body)["rows"])

def predict_fn(data, model):
    return model["clf"].predict_proba(data)[:, 1]

def output_fn(prediction, accept, context):
    context.set_custom_attributes("rows=%d;in=%s" % (len(prediction), context.custom_attributes))
    return json.dumps({"p": [round(float(p), 6) for p in prediction]}), "application/vnd.p+json"
"""


def test_inference_script_hooks_and_context(tmp_path: Path) -> None:
    handler = sk_stack.Handler(sklearn_model(tmp_path / "m", HOOKS), {})
    ctx = InvocationContext({"x-amzn-sagemaker-custom-attributes": "trace=1"})
    token = enter(ctx)
    try:
        body, ctype = handler.invoke(
            json.dumps({"rows": X[:2].tolist()}).encode(), "application/json", ""
        )
    finally:
        leave(token)
    assert ctype == "application/vnd.p+json"
    assert len(json.loads(body)["p"]) == 2
    assert ctx.response_headers["X-Amzn-SageMaker-Custom-Attributes"] == "rows=2;in=trace=1"


TRANSFORM = """
def transform_fn(model, body, content_type, accept):
    return "%s|%s|%d" % (content_type, accept, len(body))
"""


def test_transform_fn(tmp_path: Path) -> None:
    handler = sk_stack.Handler(sklearn_model(tmp_path / "m", TRANSFORM), {})
    assert handler.invoke(b"1,2", "text/csv", "text/plain") == (
        b"text/csv|text/plain|3",
        "text/plain",
    )


def test_transform_fn_with_other_hooks_is_refused(tmp_path: Path) -> None:
    script = TRANSFORM + "\ndef input_fn(b, c):\n    return b\n"
    with pytest.raises(ValueError, match="transform_fn"):
        sk_stack.Handler(sklearn_model(tmp_path / "m", script), {})


def test_sagemaker_program_names_the_script(tmp_path: Path) -> None:
    model_dir = sklearn_model(tmp_path / "m")
    (model_dir / "code").mkdir()
    (model_dir / "code" / "serve_me.py").write_text(TRANSFORM)
    handler = sk_stack.Handler(model_dir, {"SAGEMAKER_PROGRAM": "serve_me.py"})
    assert handler.invoke(b"ab", "text/csv", "a/b")[0] == b"text/csv|a/b|2"


@pytest.mark.parametrize("fmt", ["json", "pickle"])
def test_xgboost_formats_and_payloads(tmp_path: Path, fmt: str) -> None:
    handler = xgb_stack.Handler(xgboost_model(tmp_path / "m", fmt), {})
    want = xgboost_predict(X[:3])
    body, ctype = handler.invoke(csv_rows(X[:3]).encode(), "text/csv", "")
    assert ctype == "text/csv"  # SageMaker's XGBoost answers CSV by default
    assert [float(v) for v in body.decode().split(",")] == pytest.approx(want, rel=1e-6)
    libsvm = "\n".join("1 " + " ".join(f"{j}:{v}" for j, v in enumerate(row) if v) for row in X[:3])
    body, _ = handler.invoke(libsvm.encode(), "text/libsvm", "application/json")
    assert json.loads(body) == pytest.approx(want, rel=1e-5)
    body, _ = handler.invoke(json.dumps(X[:3].tolist()).encode(), "application/json", "text/csv")
    assert len(body.decode().split(",")) == 3


def test_xgboost_errors(tmp_path: Path) -> None:
    handler = xgb_stack.Handler(xgboost_model(tmp_path / "m"), {})
    with pytest.raises(ModelInvocationError) as err:
        handler.invoke(b"1,2", "application/x-npy", "")
    assert err.value.status == 415
    with pytest.raises(ModelInvocationError) as err:
        handler.invoke(b"", "text/csv", "")
    assert err.value.status == 400
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="xgboost-model"):
        xgb_stack.Handler(tmp_path / "empty", {})
