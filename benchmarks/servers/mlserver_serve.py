"""MLServer with its scikit-learn runtime, inference in-process (parallel_workers=0).

Usage: mlserver_serve.py MODEL_PATH HTTP_PORT GRPC_PORT WORK_DIR
Writes settings.json and model-settings.json into WORK_DIR, then becomes `mlserver start`.
MLServer writes no per-request log line unless `debug` is on (its access log follows
`debug`), so there is nothing to quiet. With BENCH_BATCH, adaptive batching is on: its
`max_batch_size` and `max_batch_time` go into model-settings.json.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from peer_env import batch_settings

model_path, http_port, grpc_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
repo = Path(sys.argv[4])
repo.mkdir(parents=True, exist_ok=True)
settings = {
    "host": "127.0.0.1",
    "http_port": http_port,
    "grpc_port": grpc_port,
    "parallel_workers": 0,  # a worker pool only adds IPC on one core
    "metrics_endpoint": None,  # no metrics server on a third port
    "debug": False,  # no access log (it is on only in debug mode)
}
(repo / "settings.json").write_text(json.dumps(settings))
model_settings = {
    "name": "bench",
    "implementation": "mlserver_sklearn.SKLearnModel",
    "parameters": {"uri": model_path},
    # Adaptive batching is configured per model, in model-settings.json:
    # https://docs.seldon.ai/mlserver/user-guide/adaptive-batching (field reference:
    # https://docs.seldon.ai/mlserver/api-reference/modelsettings, max_batch_time in seconds)
    **(batch_settings() or {}),
}
(repo / "model-settings.json").write_text(json.dumps(model_settings))
mlserver = str(Path(sys.executable).parent / "mlserver")
os.execv(mlserver, [mlserver, "start", str(repo)])
