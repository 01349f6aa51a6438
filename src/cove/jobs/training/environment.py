"""The job directory a training process sees, laid out like a SageMaker container's
/opt/ml: input/config/{hyperparameters,inputdataconfig}.json, input/data/<channel>/,
model/ (becomes model.tar.gz), output/failure and output/metrics.json."""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cove.host.untrusted_files import read_text

HYPERPARAMETERS = "input/config/hyperparameters.json"
INPUT_DATA_CONFIG = "input/config/inputdataconfig.json"
ALGORITHM = "input/config/algorithm.json"
DATA = "input/data"
MODEL = "model"
FAILURE = "output/failure"
METRICS = "output/metrics.json"


@dataclass
class TrainingEnv:
    root: Path
    hyperparameters: dict[str, str] = field(default_factory=dict)
    # channel name -> its InputDataConfig entry (ContentType, CompressionType, ...)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> TrainingEnv:
        return cls(
            root=root,
            hyperparameters=_read_json(root / HYPERPARAMETERS),
            channels=_read_json(root / INPUT_DATA_CONFIG),
        )

    def write_config(self, algorithm: str) -> None:
        for rel, doc in (
            (HYPERPARAMETERS, self.hyperparameters),
            (INPUT_DATA_CONFIG, self.channels),
            (ALGORITHM, {"algorithm": algorithm}),
        ):
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(doc, indent=2))
        for rel in (DATA, MODEL, "output"):
            (self.root / rel).mkdir(parents=True, exist_ok=True)

    @property
    def algorithm(self) -> str:
        return _read_json(self.root / ALGORITHM)["algorithm"]

    def channel_dir(self, name: str) -> Path:
        return self.root / DATA / name

    def content_type(self, name: str) -> str | None:
        return self.channels.get(name, {}).get("ContentType")

    def compressed(self, name: str) -> bool:
        return self.channels.get(name, {}).get("CompressionType") == "Gzip"

    @property
    def scratch(self) -> Path:
        """Where the algorithm may write working files (the job's private /tmp)."""
        return Path(tempfile.gettempdir())

    @property
    def model_dir(self) -> Path:
        return self.root / MODEL

    def log(self, message: str) -> None:
        stamp = time.strftime("%m/%d/%Y %H:%M:%S")
        print(f"[{stamp} INFO] {message}", flush=True)

    def metric(self, name: str, value: float) -> None:
        """Record a final metric (FinalMetricDataList) and log it as SageMaker does."""
        value = float(value)
        if math.isfinite(value):
            self.metrics[name] = value
            print(f"#metrics {json.dumps({'Name': name, 'Value': value})}", flush=True)

    def write_metrics(self) -> None:
        path = self.root / METRICS
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.metrics))

    def write_failure(self, reason: str) -> None:
        path = self.root / FAILURE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(reason)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else {}


# The server reads these from what the (sandboxed) job wrote: links refused, size capped.
MAX_OUTPUT_FILE = 1 << 20


def read_metrics(root: Path) -> dict[str, float]:
    text = read_text(root / METRICS, MAX_OUTPUT_FILE)
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): float(v) for k, v in found.items() if isinstance(v, int | float)}


def read_failure(root: Path) -> str | None:
    text = read_text(root / FAILURE, MAX_OUTPUT_FILE)
    return (text or "").strip() or None
