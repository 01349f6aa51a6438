"""A BentoML service with one worker; the request carries the row as a JSON list.

Served with: bentoml serve bentoml_service:Bench --port PORT (model path in $BENCH_MODEL).
"""

from __future__ import annotations

import os

import bentoml
import joblib
import numpy as np

# BENCH_QUIET=1 turns off the access log line BentoML writes per request.
QUIET = os.environ.get("BENCH_QUIET") == "1"


@bentoml.service(workers=1, logging={"access": {"enabled": not QUIET}})
class Bench:
    def __init__(self) -> None:
        self.model = joblib.load(os.environ["BENCH_MODEL"])

    @bentoml.api
    def predict(self, row: list[float]) -> list[float]:
        return self.model.predict(np.asarray([row], dtype=np.float64)).tolist()
