"""BentoML services with one worker; the request carries the row as a JSON list.

Served with: bentoml serve bentoml_service:Bench --port PORT (model path in $BENCH_MODEL),
or bentoml_service:BatchedBench (adaptive batching, its settings in $BENCH_BATCH).
"""

from __future__ import annotations

import os

import bentoml
import joblib
import numpy as np
from peer_env import batch_settings, quiet

# BentoML logs every request by default; logging.access.enabled turns that off:
# https://docs.bentoml.com/en/latest/build-with-bentoml/observability/logging.html
SERVICE = {"workers": 1, "logging": {"access": {"enabled": not quiet()}}}


def _model() -> object:
    return joblib.load(os.environ["BENCH_MODEL"])


@bentoml.service(**SERVICE)
class Bench:
    def __init__(self) -> None:
        self.model = _model()

    @bentoml.api
    def predict(self, row: list[float]) -> list[float]:
        return self.model.predict(np.asarray([row], dtype=np.float64)).tolist()


@bentoml.service(**SERVICE)
class BatchedBench:
    """Adaptive batching as BentoML documents it: a batchable API takes a batch (here each
    request's list of rows, one row), and max_batch_size / max_latency_ms bound it:
    https://docs.bentoml.com/en/latest/get-started/adaptive-batching.html
    """

    def __init__(self) -> None:
        self.model = _model()

    @bentoml.api(batchable=True, **(batch_settings() or {}))
    def predict(self, rows: list[list[float]]) -> list[float]:
        return self.model.predict(np.asarray(rows, dtype=np.float64)).tolist()
