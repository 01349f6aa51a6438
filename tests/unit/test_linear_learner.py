"""The linear learner: training on real data, the model artifact, and its serving stack."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from cove.formats import recordio
from cove.formats.linear_model import LinearModel
from cove.instance.serving.base import ModelInvocationError
from cove.instance.serving.linear_learner import Handler
from cove.jobs.training.algorithms import linear_learner, metrics
from cove.jobs.training.environment import TrainingEnv
from cove.jobs.training.errors import ClientError


def make_env(root: Path, hp: dict[str, str], channels: dict[str, np.ndarray]) -> TrainingEnv:
    env = TrainingEnv(root, hp, {name: {"ContentType": "text/csv"} for name in channels})
    env.write_config("linear-learner")
    for name, rows in channels.items():
        env.channel_dir(name).mkdir(parents=True, exist_ok=True)
        np.savetxt(env.channel_dir(name) / f"{name}.csv", rows, delimiter=",")
    return env


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    data = load_breast_cancer()
    rows = np.column_stack([1 - data.target, data.data])  # malignant = 1
    rows = rows[np.random.default_rng(3).permutation(len(rows))]
    return rows[:455], rows[455:]


def test_binary_classifier_learns_breast_cancer(tmp_path: Path, cancer) -> None:
    train, validation = cancer
    env = make_env(
        tmp_path,
        {"predictor_type": "binary_classifier"},
        {"train": train, "validation": validation},
    )
    linear_learner.train(env)
    assert env.metrics["validation:binary_classification_accuracy"] >= 0.9
    assert env.metrics["validation:roc_auc_score"] >= 0.95
    assert {
        "train:objective_loss",
        "validation:objective_loss",
        "validation:precision",
        "validation:recall",
    } <= env.metrics.keys()
    model = LinearModel.load(env.model_dir)
    assert model.feature_dim == 30
    labels = model.predicted_label(model.score(validation[:, 1:]))
    assert np.mean(labels == validation[:, 0]) >= 0.9


def test_regressor_and_multiclass(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 10 + rng.normal(scale=0.1, size=400)
    env = make_env(
        tmp_path / "reg",
        {"predictor_type": "regressor", "epochs": "30", "mini_batch_size": "50"},
        {"train": np.column_stack([y, x])},
    )
    linear_learner.train(env)
    assert env.metrics["train:objective_loss"] < 0.5

    centers = np.array([[0, 0], [4, 4], [-4, 4]])
    labels = rng.integers(0, 3, size=300)
    points = centers[labels] + rng.normal(size=(300, 2))
    env = make_env(
        tmp_path / "multi",
        {"predictor_type": "multiclass_classifier", "num_classes": "3", "mini_batch_size": "32"},
        {
            "train": np.column_stack([labels, points]),
            "validation": np.column_stack([labels, points])[:100],
        },
    )
    linear_learner.train(env)
    assert env.metrics["validation:multiclass_accuracy"] > 0.9
    handler = Handler(env.model_dir, {})
    body, kind = handler.invoke(b"4,4\n-4,4", "text/csv", "application/json")
    predictions = json.loads(body)["predictions"]
    assert [p["predicted_label"] for p in predictions] == [1, 2]
    assert len(predictions[0]["score"]) == 3 and abs(sum(predictions[0]["score"]) - 1) < 1e-9


@pytest.mark.parametrize(
    ("hp", "rows", "message"),
    [
        ({"predictor_type": "binary_classifier"}, [[2, 1.0, 2.0]], "has label 2"),
        (
            {"predictor_type": "binary_classifier", "feature_dim": "3"},
            [[1, 1.0, 2.0]],
            "feature_dim is 3 but the train channel has 2 features",
        ),
        (
            {"predictor_type": "multiclass_classifier"},
            [[1, 1.0, 2.0]],
            "Missing required hyperparameter: num_classes",
        ),
        (
            {"predictor_type": "regressor", "loss": "logistic"},
            [[1, 1.0, 2.0]],
            "loss: logistic cannot be used with predictor_type regressor",
        ),
    ],
)
def test_configuration_errors(tmp_path: Path, hp: dict, rows: list, message: str) -> None:
    env = make_env(tmp_path, hp, {"train": np.array(rows, dtype=float)})
    with pytest.raises(ClientError, match=message):
        linear_learner.train(env)


def test_header_row_is_reported(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"predictor_type": "regressor"}, {})
    env.channel_dir("train").mkdir(parents=True)
    (env.channel_dir("train") / "data.csv").write_text("label,a,b\n1,2,3\n")
    env.channels = {"train": {}}
    with pytest.raises(ClientError, match="line 1.*must not have a header row"):
        linear_learner.train(env)


def test_threshold_selection_and_auc() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.1])
    labels = np.array([1, 1, 0, 1, 0, 0])
    threshold, accuracy = metrics.best_threshold(scores, labels, "accuracy")
    assert threshold == 0.8 and accuracy == pytest.approx(5 / 6)
    threshold, recall = metrics.best_threshold(
        scores, labels, "recall_at_target_precision", target_precision=0.75
    )
    assert threshold == 0.4 and recall == 1.0
    assert metrics.roc_auc(scores, labels) == pytest.approx(8 / 9)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, cancer) -> Handler:
    train, _ = cancer
    env = make_env(
        tmp_path_factory.mktemp("ll"), {"predictor_type": "binary_classifier"}, {"train": train}
    )
    linear_learner.train(env)
    return Handler(env.model_dir, {})


SEED_ROW = (
    "13.49,22.3,86.91,561.0,0.08752,0.07697999999999999,0.047510000000000004,"
    "0.033839999999999995,0.1809,0.057179999999999995,0.2338,1.3530000000000002,1.735,20.2,"
    "0.004455,0.013819999999999999,0.02095,0.01184,0.01641,0.001956,15.15,31.82,99.0,698.8,"
    "0.1162,0.1711,0.2282,0.1282,0.2871,0.06917000000000001"
)


def test_serving_formats(served: Handler) -> None:
    features = [float(v) for v in SEED_ROW.split(",")]
    body, kind = served.invoke(SEED_ROW.encode(), "text/csv", "*/*")
    assert kind == "application/json"
    [prediction] = json.loads(body)["predictions"]
    assert prediction["predicted_label"] == 0 and 0 <= prediction["score"] < 0.5

    requests = [
        {"instances": [{"features": features}, {"features": features}]},
        {"instances": [{"data": {"features": {"values": features}}}]},
        {"features": features},
        {"data": {"features": {"values": features}}},
        {"features": {"keys": list(range(30)), "values": features, "shape": [30]}},
    ]
    for request in requests:
        body, _ = served.invoke(json.dumps(request).encode(), "application/json", "")
        labels = {p["predicted_label"] for p in json.loads(body)["predictions"]}
        assert labels == {0}, request
    lines = f'{{"features": {features}}}\n{{"features": {features}}}\n'.encode()
    body, kind = served.invoke(lines, "application/jsonlines", "application/jsonlines")
    assert kind == "application/jsonlines" and len(body.decode().splitlines()) == 2

    many = "\n".join([SEED_ROW] * 3).encode()
    body, _ = served.invoke(many, "text/csv; charset=utf-8", "application/json")
    assert len(json.loads(body)["predictions"]) == 3


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status", "message"),
    [
        (b"1,2,3", "text/csv", "application/json", 400, "expects 30 features"),
        (b"a,b", "text/csv", "application/json", 400, "Could not parse"),
        (b"", "text/csv", "application/json", 400, "empty"),
        (
            b"\x0a\x01",
            "application/x-recordio-protobuf",
            "application/json",
            400,
            "truncated RecordIO header",
        ),
        (b"\x93NUMPY", "application/x-npy", "application/json", 415, "text/csv"),
        (SEED_ROW.encode(), "text/csv", "text/csv", 406, "application/json"),
        (b'{"instances": [{"x": 1}]}', "application/json", "application/json", 400, '"features"'),
    ],
)
def test_serving_errors(
    served: Handler, body: bytes, content_type: str, accept: str, status: int, message: str
) -> None:
    with pytest.raises(ModelInvocationError) as err:
        served.invoke(body, content_type, accept)
    assert err.value.status == status and message in err.value.message


def test_loading_a_sagemaker_mxnet_artifact_says_why(tmp_path: Path) -> None:
    (tmp_path / "model_algo-1").write_bytes(b"PK")
    with pytest.raises(RuntimeError, match="MXNet-format"):
        Handler(tmp_path, {})


def sdk_record(features: list[float], label: float) -> bytes:
    """One record as the SageMaker SDK's write_numpy_to_dense_tensor writes float64 rows,
    encoded by hand from the protobuf wire format (an independent check of the decoder)."""

    def field(number: int, payload: bytes) -> bytes:
        size, length = len(payload), b""
        while size >= 0x80:  # lengths are varints: 7 bits a byte, low bits first
            length += bytes([size & 0x7F | 0x80])
            size >>= 7
        return bytes([number << 3 | 2]) + length + bytes([size]) + payload

    def values_entry(numbers: list[float]) -> bytes:
        tensor = field(1, struct.pack(f"<{len(numbers)}d", *numbers))  # Float64Tensor.values
        return field(1, b"values") + field(2, field(3, tensor))  # Value.float64_tensor = 3

    message = field(1, values_entry(features)) + field(2, values_entry([label]))
    padding = b"\0" * (-len(message) % 4)
    return struct.pack("<II", 0xCED7230A, len(message)) + message + padding


def test_recordio_training_and_serving(tmp_path: Path, cancer) -> None:
    train, validation = cancer
    env = make_env(tmp_path, {"predictor_type": "binary_classifier"}, {})
    env.channels = {"train": {}, "validation": {}}  # no ContentType: RecordIO is sniffed
    for name, rows in (("train", train), ("validation", validation)):
        env.channel_dir(name).mkdir(parents=True, exist_ok=True)
        data = b"".join(sdk_record(list(r[1:]), r[0]) for r in rows)
        (env.channel_dir(name) / "shard-0").write_bytes(data)
    linear_learner.train(env)
    assert env.metrics["validation:binary_classification_accuracy"] >= 0.9

    handler = Handler(env.model_dir, {})
    features = validation[:3, 1:]
    body, kind = handler.invoke(
        recordio.encode_feature_records(features),
        "application/x-recordio-protobuf",
        "application/x-recordio-protobuf",
    )
    assert kind == "application/x-recordio-protobuf"
    answers = recordio.read_records(body)
    expected = json.loads(handler.invoke(to_csv(features), "text/csv", "")[0])["predictions"]
    assert len(answers) == 3
    for answer, want in zip(answers, expected, strict=True):
        assert answer.label["predicted_label"].values[0] == want["predicted_label"]
        assert answer.label["score"].values[0] == pytest.approx(want["score"], rel=1e-6)


def to_csv(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode()
