"""The floor, the relay and the peer model servers, each started from its script in
benchmarks/servers/.

Each peer serves the model the way its documentation shows, with one worker process
(the server gets one core) and its usual request format for one row of 30 features.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import ClassVar

from harness import procs, venvs
from harness.model import Artifact
from harness.targets import Launch, ProcessTarget
from harness.wrk import HttpRequest

SCRIPTS = Path(__file__).resolve().parent.parent / "servers"
JSON = {"Content-Type": "application/json"}


def _post(port: int, path: str, body: object) -> HttpRequest:
    return HttpRequest("POST", path, JSON, json.dumps(body).encode(), port=port)


class Floor(ProcessTarget):
    """uvloop + httptools + the model, nothing else: what any Python server must pay."""

    name, role = "floor", "floor"

    def launch(self, artifact: Artifact, work: Path) -> Launch:
        script = str(SCRIPTS / "floor.py")
        return Launch([sys.executable, script, str(artifact.joblib_path), str(self.port)])

    def build_request(self, artifact: Artifact) -> HttpRequest:
        return HttpRequest("POST", "/invocations", {"Content-Type": "text/csv"},
                           artifact.csv_row, port=self.port)


class Relay(Floor):
    """The floor behind a byte relay in a second process: what the process hop alone costs.

    Not a peer and not a target: a reference to read Cove's model-in-another-process
    latency against (role "reference").
    """

    name, role = "relay", "reference"

    def launch(self, artifact: Artifact, work: Path) -> Launch:
        script = str(SCRIPTS / "relay.py")
        return Launch([sys.executable, script, str(artifact.joblib_path), str(self.port)])


class Peer(ProcessTarget):
    """A peer model server, run without batching or, where it has adaptive batching, with it.

    `batching` holds the peer's own batching settings, by their documented names; the
    serving script hands them to its batching API as they are (servers/peer_env.py). The
    batched variant is named `<peer>-batch` and shares the peer's venv.
    """

    role = "peer"
    packages: list[str]
    dist: str  # the distribution whose version is reported
    batching: ClassVar[dict[str, int | float] | None] = None

    def __init__(self, quiet: bool = True, batched: bool = False) -> None:
        if batched and not self.batching:
            raise ValueError(f"{self.family} has no adaptive batching")
        self.quiet = quiet
        self.batched = batched
        self.name = f"{self.family}-batch" if batched else self.family
        self.python: Path | None = None

    @property
    def family(self) -> str:
        return type(self).name  # the class's name; an instance's is its variant's

    def describe(self) -> str:
        label = f"{self.dist} {venvs.version(self.python, self.dist)}" if self.python else self.name
        if self.batched:
            label += " (" + ", ".join(f"{k}={v}" for k, v in self.batching.items()) + ")"
        return label

    def env(self) -> dict[str, str]:
        env = {"BENCH_QUIET": "1" if self.quiet else "0"}
        if self.batched:
            env["BENCH_BATCH"] = json.dumps(self.batching)
        return env


# Batching settings start from Cove's: at most 64 requests a batch (all the benchmark's 64
# connections can have outstanding) and 0.5 ms of waiting for company, short next to a
# request's own cost, as latency-oriented serving wants. A peer whose wait is a knob kept
# 0.5 ms unless a longer one of a few ms served it better at c=8 and c=64 in a short sweep
# (3 s runs, quiet machine, December 2026).


class MLServer(Peer):
    name, dist = "mlserver", "mlserver"
    packages = ["mlserver>=1.6,<2", "mlserver-sklearn>=1.6,<2"]
    # model-settings.json, max_batch_time in seconds; MLServer waits up to it whenever the
    # batch is not full, a lone request included. Sweep (c=8 / c=64 rps): 0.5 ms 2,309 /
    # 2,249; 2 ms 1,457 / 2,146; 5 ms 906 / 2,249: 0.5 ms it is.
    # https://docs.seldon.ai/mlserver/user-guide/adaptive-batching
    # https://docs.seldon.ai/mlserver/api-reference/modelsettings
    batching = {"max_batch_size": 64, "max_batch_time": 0.0005}

    def launch(self, artifact: Artifact, work: Path) -> Launch:
        grpc_port = procs.free_port()
        args = [str(artifact.joblib_path), str(self.port), str(grpc_port), str(work / self.name)]
        return Launch([str(self.python), str(SCRIPTS / "mlserver_serve.py"), *args], self.env())

    def build_request(self, artifact: Artifact) -> HttpRequest:
        tensor = {"name": "input-0", "shape": [1, 30], "datatype": "FP64", "data": artifact.row}
        return _post(self.port, "/v2/models/bench/infer", {"inputs": [tensor]})

    def prediction(self, body: bytes) -> float:
        return float(json.loads(body)["outputs"][0]["data"][0])


class KServe(Peer):
    """No `batching`: KServe batches in its Kubernetes model agent sidecar, not in the
    Python ModelServer (https://kserve.github.io/website/docs/model-serving/predictive-inference/batcher).
    """

    name, dist = "kserve", "kserve"
    packages = ["kserve>=0.14,<1"]

    def launch(self, artifact: Artifact, work: Path) -> Launch:
        script = str(SCRIPTS / "kserve_serve.py")
        return Launch([str(self.python), script, str(artifact.joblib_path), str(self.port)],
                      self.env())

    def build_request(self, artifact: Artifact) -> HttpRequest:
        return _post(self.port, "/v1/models/bench:predict", {"instances": [artifact.row]})


class LitServe(Peer):
    name, dist = "litserve", "litserve"
    packages = ["litserve>=0.2.10,<0.3"]
    # LitAPI(max_batch_size=..., batch_timeout=...), batch_timeout in seconds; the inference
    # worker waits up to it for a batch to fill, a lone request included. Its batches fill
    # only as fast as the API server process passes requests on, so a longer wait pays:
    # sweep (c=8 / c=64 rps) 0.5 ms 882 / 827; 2 ms 1,159 / 1,144; 5 ms 1,122 / 1,161;
    # 10 ms 672 / 1,246. 2 ms it is, still far below the docs' examples (0.05-0.1 s).
    # https://lightning.ai/docs/litserve/features/batching
    batching = {"max_batch_size": 64, "batch_timeout": 0.002}

    def launch(self, artifact: Artifact, work: Path) -> Launch:
        script = str(SCRIPTS / "litserve_serve.py")
        return Launch([str(self.python), script, str(artifact.joblib_path), str(self.port)],
                      self.env())

    def build_request(self, artifact: Artifact) -> HttpRequest:
        return _post(self.port, "/predict", {"input": artifact.row})


class BentoML(Peer):
    name, dist = "bentoml", "bentoml"
    packages = ["bentoml>=1.4,<2"]
    # @bentoml.api(batchable=True, max_batch_size=..., max_latency_ms=...). BentoML has no
    # fixed wait: its dispatcher learns how long to hold a batch from the traffic, and
    # max_latency_ms is a deadline, past which queued requests are refused with 503 (the
    # page's "Error handling"). So it gets the docs' own 1,000 ms: a bound the c=64 queue
    # never nears, not a wait anyone pays; a smaller one only turns load into 503s (sweep,
    # c=64: 100 ms 100 errors in 3 s, 20 ms 911 and half the rps).
    # https://docs.bentoml.com/en/latest/get-started/adaptive-batching.html
    batching = {"max_batch_size": 64, "max_latency_ms": 1000}

    def launch(self, artifact: Artifact, work: Path) -> Launch:
        bentoml = str(Path(str(self.python)).parent / "bentoml")
        env = {**self.env(), "BENCH_MODEL": str(artifact.joblib_path),
               "BENTOML_HOME": str(work / "bentoml-home"), "BENTOML_DO_NOT_TRACK": "true"}
        service = "bentoml_service:BatchedBench" if self.batched else "bentoml_service:Bench"
        command = [bentoml, "serve", service, "--host", "127.0.0.1", "--port", str(self.port)]
        return Launch(command, env, cwd=SCRIPTS)

    def build_request(self, artifact: Artifact) -> HttpRequest:
        # A batchable API's argument is a batch: this request brings a batch of one row.
        body = {"rows": [artifact.row]} if self.batched else {"row": artifact.row}
        return _post(self.port, "/predict", body)


PEERS: list[type[Peer]] = [MLServer, KServe, LitServe, BentoML]


def peer_variants(quiet: bool) -> list[Peer]:
    """Every peer as shipped (no batching), each followed by its batched variant if it has one."""
    variants: list[Peer] = []
    for peer in PEERS:
        variants.append(peer(quiet))
        if peer.batching:
            variants.append(peer(quiet, batched=True))
    return variants
