"""KServe's Python model server with a custom Model on the V1 protocol.

Usage: kserve_serve.py MODEL_PATH HTTP_PORT (BENCH_QUIET=0: its per-request output as shipped)

KServe's adaptive batching is not in this server: it is the model agent sidecar that
Kubernetes injects into an InferenceService pod (`batcher: maxBatchSize/maxLatency`,
https://kserve.github.io/website/docs/model-serving/predictive-inference/batcher), so
KServe runs unbatched only.
"""

from __future__ import annotations

import copy
import sys
import warnings

import joblib
import kserve
import kserve.logging
import numpy as np
from peer_env import quiet


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


def quiet_log_config() -> dict:
    """KServe's own logging config with its two per-request loggers raised to WARNING:
    uvicorn's access log and kserve.trace (request timings). The config is what
    kserve.logging.configure_logging / --log_config_file take, see the Python runtime API:
    https://kserve.github.io/website/latest/python_runtime_api/docs/api
    """
    config = copy.deepcopy(kserve.logging.KSERVE_LOG_CONFIG)
    for name in ("uvicorn.access", kserve.logging.KSERVE_TRACE_LOGGER_NAME):
        config["loggers"][name]["level"] = "WARNING"
    return config


if __name__ == "__main__":
    silent = quiet()
    if silent:  # before ModelServer, which then keeps this configuration
        kserve.logging.configure_logging(quiet_log_config())
        # Not a log but as good as one: KServe's V1 endpoints answer with FastAPI's
        # ORJSONResponse, which the FastAPI pip installs with it deprecates, and FastAPI's
        # own per-request warnings.catch_warnings() re-arms the warning, so two lines go
        # to stderr per request. Python's warnings filter drops it:
        # https://docs.python.org/3/library/warnings.html#the-warnings-filter
        warnings.filterwarnings("ignore", message="ORJSONResponse is deprecated")
    model = Bench(sys.argv[1])
    model.load()
    # enable_latency_logging (default True) is the per-request latency line; same API page.
    server = kserve.ModelServer(
        http_port=int(sys.argv[2]), workers=1, enable_grpc=False, enable_latency_logging=not silent
    )
    server.start([model])
