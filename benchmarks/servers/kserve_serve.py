"""KServe's Python model server with a custom Model on the V1 protocol.

Usage: kserve_serve.py MODEL_PATH HTTP_PORT (BENCH_QUIET=1: no per-request logs)
"""

from __future__ import annotations

import logging
import os
import sys

import joblib
import kserve
import numpy as np


class Bench(kserve.Model):
    def __init__(self, model_path: str) -> None:
        super().__init__("bench")
        self.model_path = model_path
        self.model = None

    def load(self) -> bool:
        self.model = joblib.load(self.model_path)
        self.ready = True
        return self.ready

    def predict(self, payload: dict, headers: dict | None = None) -> dict:
        rows = np.asarray(payload["instances"], dtype=np.float64)
        return {"predictions": self.model.predict(rows).tolist()}


if __name__ == "__main__":
    quiet = os.environ.get("BENCH_QUIET") == "1"
    model = Bench(sys.argv[1])
    model.load()
    server = kserve.ModelServer(
        http_port=int(sys.argv[2]), workers=1, enable_grpc=False, enable_latency_logging=not quiet
    )
    if quiet:  # drop the per-request log lines KServe ships with
        for name in ("uvicorn.access", "kserve.trace"):
            logging.getLogger(name).setLevel(logging.WARNING)
    server.start([model])
