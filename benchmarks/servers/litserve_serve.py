"""LitServe with one CPU worker; the request carries the row as a JSON list.

Usage: litserve_serve.py MODEL_PATH PORT (BENCH_QUIET=1: no per-request logs)
"""

from __future__ import annotations

import os
import sys

import joblib
import litserve as ls
import numpy as np


class Bench(ls.LitAPI):
    def __init__(self, model_path: str) -> None:
        super().__init__()
        self.model_path = model_path

    def setup(self, device: str) -> None:
        self.model = joblib.load(self.model_path)

    def decode_request(self, request: dict) -> np.ndarray:
        return np.asarray([request["input"]], dtype=np.float64)

    def predict(self, rows: np.ndarray) -> list:
        return self.model.predict(rows).tolist()

    def encode_response(self, output: list) -> dict:
        return {"prediction": output[0]}


if __name__ == "__main__":
    server = ls.LitServer(Bench(sys.argv[1]), accelerator="cpu", workers_per_device=1)
    server.run(host="127.0.0.1", port=int(sys.argv[2]), num_api_servers=1,
               generate_client_file=False,
               log_level="warning" if os.environ.get("BENCH_QUIET") == "1" else "info")
