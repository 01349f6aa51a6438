"""Adaptive batching inside an instance: the batch wire format, and that a batch answers
every request byte for byte as it would have been answered alone, failures included."""

from __future__ import annotations

import json

import numpy as np
import pytest
from models import breast_cancer, csv_rows, npy_bytes, sklearn_model

from cove.instance.serving import sklearn as sk_stack
from cove.instance.serving.batch import (
    BatchItem,
    BatchOutcome,
    decode_items,
    decode_outcomes,
    encode_items,
    encode_outcomes,
    run_batch,
    run_one,
)
from cove.instance.serving.context import InvocationContext
from cove.runtime.lane import policy_from

X, _ = breast_cancer()
CSV, JSON = "text/csv", "application/json"

ROW_COUNTER = """
import numpy as np
calls = []

def predict_fn(data, model):
    calls.append(len(data))
    return model.predict(data)
"""


def alone(handler, item: BatchItem) -> BatchOutcome:
    headers = {"content-type": item.content_type, "accept": item.accept}
    return run_one(handler, item, InvocationContext(request_headers=headers))


@pytest.fixture(scope="module")
def handler(tmp_path_factory):
    return sk_stack.Handler(sklearn_model(tmp_path_factory.mktemp("b") / "m", ROW_COUNTER), {})


def test_wire_format_round_trips() -> None:
    items = [BatchItem(CSV, JSON, None, b"1,2"), BatchItem("", "", "attr=1", b""),
             BatchItem(JSON, CSV, None, b"\n[1]\n")]
    assert decode_items(encode_items(items)) == items
    outs = [BatchOutcome(200, JSON, b"[1]"), BatchOutcome(415, "text/plain", b"no", "x")]
    assert decode_outcomes(encode_outcomes(outs)) == outs
    with pytest.raises(ValueError):
        decode_items(b'[["a","b",null,5]]\nabc')


def test_batch_answers_equal_unbatched_answers(handler) -> None:
    items = [
        BatchItem(CSV, "", None, csv_rows(X[0:1]).encode()),
        BatchItem(CSV, CSV, None, csv_rows(X[1:4]).encode()),  # several rows, CSV out
        BatchItem(JSON, JSON, None, json.dumps(X[4:6].tolist()).encode()),
        BatchItem("application/x-npy", "application/x-npy", None, npy_bytes(X[6:7])),
    ]
    expected = [alone(handler, i) for i in items]
    calls = handler.predict_fn.__globals__["calls"]  # the inference script's list
    calls.clear()
    got = run_batch(handler, items, "")
    assert got == expected
    # the CSV and JSON inputs decode to float32, the npy one stays float64: two predicts
    assert sorted(calls) == [1, 6]


def test_a_bad_request_fails_alone(handler) -> None:
    items = [
        BatchItem(CSV, "", None, csv_rows(X[0:1]).encode()),
        BatchItem(CSV, "", None, b"1.0,2.0,3.0"),  # 3 features: the stacked predict fails
        BatchItem(CSV, "", None, b"not,a,number"),  # fails to decode
        BatchItem("image/png", "", None, b"\x89PNG"),  # unsupported content type
        BatchItem(CSV, "", None, csv_rows(X[1:3]).encode()),
    ]
    got = run_batch(handler, items, "")
    assert got == [alone(handler, i) for i in items]
    assert [o.status for o in got] == [200, 500, 500, 415, 200]
    assert json.loads(got[4].body) == handler.model.predict(X[1:3].astype(np.float32)).tolist()


def test_transform_fn_models_run_request_by_request(tmp_path) -> None:
    script = """
def transform_fn(model, data, content_type, accept):
    return "rows=%d" % len(data.splitlines()), "text/plain"
"""
    h = sk_stack.Handler(sklearn_model(tmp_path / "m", script), {})
    items = [BatchItem(CSV, "", None, b"1\n2"), BatchItem(CSV, "", None, b"3")]
    assert [o.body for o in run_batch(h, items, "")] == [b"rows=2", b"rows=1"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"COVE_MAX_BATCH_SIZE": "zero"}, "must be an integer"),
        ({"COVE_MAX_BATCH_SIZE": "0"}, "between 1 and 1024"),
        ({"COVE_MAX_BATCH_SIZE": "8", "COVE_MAX_BATCH_DELAY_MS": "-1"}, "between 0 and 1000"),
    ],
)
def test_policy_errors_say_what_to_fix(env, message) -> None:
    with pytest.raises(ValueError, match=message):
        policy_from(env)


def test_policy_defaults_to_off() -> None:
    assert not policy_from({}).enabled
    policy = policy_from({"COVE_MAX_BATCH_SIZE": "32", "COVE_MAX_BATCH_DELAY_MS": "2"})
    assert policy.enabled and policy.max_size == 32 and policy.max_delay == 0.002
