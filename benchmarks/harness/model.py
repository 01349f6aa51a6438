"""The one model every server serves: LogisticRegression on sklearn's bundled breast-cancer data."""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression


@dataclass(frozen=True)
class Artifact:
    joblib_path: Path  # model.joblib, loaded by the floor and the peers
    tarball_path: Path  # model.tar.gz with model.joblib at its root, uploaded to Cove
    row: list[float]  # the 30 features sent with every request
    expected: float  # the in-process prediction for `row`

    @property
    def csv_row(self) -> bytes:
        return ",".join(repr(v) for v in self.row).encode()


def build(out_dir: Path) -> Artifact:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_breast_cancer()
    # max_iter high enough that lbfgs converges on the unscaled features (no warning noise).
    model = LogisticRegression(max_iter=10_000).fit(data.data, data.target)
    joblib_path = out_dir / "model.joblib"
    joblib.dump(model, joblib_path)
    tarball_path = out_dir / "model.tar.gz"
    with tarfile.open(tarball_path, "w:gz") as tar:
        tar.add(joblib_path, arcname="model.joblib")
    row = [float(v) for v in data.data[0]]
    # Predict from the reloaded file, exactly what the servers do.
    expected = float(joblib.load(joblib_path).predict(np.asarray([row]))[0])
    return Artifact(joblib_path, tarball_path, row, expected)
