"""The training job process: `python -m cove.jobs.training.worker <job dir>`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from cove.instance.serving.xgboost import Handler as XGBoostHandler
from cove.jobs.training.environment import TrainingEnv, read_failure, read_metrics


def run_worker(root: Path) -> int:
    proc = subprocess.run([sys.executable, "-m", "cove.jobs.training.worker", str(root)],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode


def job(root: Path, algorithm: str, hp: dict[str, str], channels: dict[str, str]) -> Path:
    env = TrainingEnv(root, hp, {name: {"ContentType": "text/csv"} for name in channels})
    env.write_config(algorithm)
    for name, text in channels.items():
        env.channel_dir(name).mkdir(parents=True, exist_ok=True)
        (env.channel_dir(name) / "part-0.csv").write_text(text)
    return root


def xor_csv(n: int = 200) -> str:
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)
    return "\n".join(f"{label},{a},{b}" for label, (a, b) in zip(y, x, strict=True))


def test_xgboost_model_is_served_by_the_xgboost_stack(tmp_path: Path) -> None:
    root = job(tmp_path, "xgboost",
               {"objective": "binary:logistic", "num_round": "20", "max_depth": "3"},
               {"train": xor_csv(), "validation": xor_csv(50)})
    assert run_worker(root) == 0
    metrics = read_metrics(root)
    assert metrics["validation:logloss"] < 0.3 and "train:logloss" in metrics
    handler = XGBoostHandler(root / "model", {})
    body, _ = handler.invoke(b"0.5,0.5\n0.5,-0.5", "text/csv", "text/csv")
    low, high = (float(v) for v in body.decode().split(","))
    assert low < 0.5 < high


def test_missing_train_channel_fails_with_reason(tmp_path: Path) -> None:
    root = job(tmp_path, "linear-learner", {"predictor_type": "binary_classifier"},
               {"validation": "1,2.0\n0,1.0\n"})
    assert run_worker(root) == 1
    assert read_failure(root).startswith("ClientError: Missing required channel: train")


def test_unknown_channel_and_bad_hyperparameter(tmp_path: Path) -> None:
    root = job(tmp_path / "a", "xgboost", {"num_round": "2"},
               {"train": xor_csv(), "extra": "1,2\n"})
    assert run_worker(root) == 1
    assert read_failure(root).startswith("ClientError: Extraneous channel found: extra")

    root = job(tmp_path / "b", "xgboost", {"num_round": "2", "objective": "multi:softmax"},
               {"train": xor_csv()})
    assert run_worker(root) == 1
    assert "Missing required hyperparameter: num_class" in read_failure(root)
