"""LitServe with one CPU worker; the request carries the row as a JSON list.

Usage: litserve_serve.py MODEL_PATH PORT (BENCH_QUIET=0: its per-request logs as shipped;
BENCH_BATCH: batching on, with the LitAPI's max_batch_size and batch_timeout)
"""

from __future__ import annotations

import sys

import joblib
import litserve as ls
import numpy as np
from peer_env import batch_settings, quiet


class Bench(ls.LitAPI):
    """One request, one row: predict() gets what decode_request() made of one request."""

    def __init__(self, model_path: str, **batching: int | float) -> None:
        super().__init__(**batching)
        self.model_path = model_path

    def setup(self, device: str) -> None:
        self.model = joblib.load(self.model_path)

    def decode_request(self, request: dict) -> np.ndarray:
        return np.asarray(request["input"], dtype=np.float64)

    def predict(self, row: np.ndarray) -> float:
        return self.model.predict(row.reshape(1, -1)).tolist()[0]

    def encode_response(self, output: float) -> dict:
        return {"prediction": output}


class BatchedBench(Bench):
    """Batching as LitServe documents it: the LitAPI gets max_batch_size and batch_timeout
    (seconds), batch() stacks the decoded requests, predict() runs once on them and
    unbatch() hands each request its own answer.
    https://lightning.ai/docs/litserve/features/batching
    """

    def batch(self, rows: list[np.ndarray]) -> np.ndarray:
        return np.stack(rows)

    def predict(self, rows: np.ndarray) -> list[float]:
        return self.model.predict(rows).tolist()

    def unbatch(self, outputs: list[float]) -> list[float]:
        return outputs


if __name__ == "__main__":
    batching = batch_settings()
    api = BatchedBench(sys.argv[1], **batching) if batching else Bench(sys.argv[1])
    server = ls.LitServer(api, accelerator="cpu", workers_per_device=1)
    # log_level "warning" leaves out uvicorn's access line per request: LitServer.run's own
    # documentation (its docstring in litserve 0.2.19, litserve/server.py) lists it as "good
    # for production" and uses it in its "High-performance production setup" example.
    server.run(host="127.0.0.1", port=int(sys.argv[2]), num_api_servers=1,
               generate_client_file=False, log_level="warning" if quiet() else "info")
