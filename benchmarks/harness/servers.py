"""The floor, the relay and the peer model servers, each started from its script in
benchmarks/servers/.

Each peer serves the model the way its documentation shows, with one worker process
(the server gets one core) and its usual request format for one row of 30 features.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

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
    role = "peer"
    packages: list[str]
    dist: str  # the distribution whose version is reported

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.python: Path | None = None

    def install(self, log_path: Path) -> None:
        """Create or reuse this peer's venv; raises venvs.Unavailable."""
        self.python = venvs.ensure(self.name, self.packages, log_path)

    def describe(self) -> str:
        return f"{self.dist} {venvs.version(self.python, self.dist)}" if self.python else self.name

    def env(self) -> dict[str, str]:
        return {"BENCH_QUIET": "1" if self.quiet else "0"}


class MLServer(Peer):
    name, dist = "mlserver", "mlserver"
    packages = ["mlserver>=1.6,<2", "mlserver-sklearn>=1.6,<2"]

    def launch(self, artifact: Artifact, work: Path) -> Launch:
        grpc_port = procs.free_port()
        args = [str(artifact.joblib_path), str(self.port), str(grpc_port), str(work / "mlserver")]
        return Launch([str(self.python), str(SCRIPTS / "mlserver_serve.py"), *args], self.env())

    def build_request(self, artifact: Artifact) -> HttpRequest:
        tensor = {"name": "input-0", "shape": [1, 30], "datatype": "FP64", "data": artifact.row}
        return _post(self.port, "/v2/models/bench/infer", {"inputs": [tensor]})

    def prediction(self, body: bytes) -> float:
        return float(json.loads(body)["outputs"][0]["data"][0])


class KServe(Peer):
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

    def launch(self, artifact: Artifact, work: Path) -> Launch:
        script = str(SCRIPTS / "litserve_serve.py")
        return Launch([str(self.python), script, str(artifact.joblib_path), str(self.port)],
                      self.env())

    def build_request(self, artifact: Artifact) -> HttpRequest:
        return _post(self.port, "/predict", {"input": artifact.row})


class BentoML(Peer):
    name, dist = "bentoml", "bentoml"
    packages = ["bentoml>=1.4,<2"]

    def launch(self, artifact: Artifact, work: Path) -> Launch:
        bentoml = str(Path(str(self.python)).parent / "bentoml")
        env = {**self.env(), "BENCH_MODEL": str(artifact.joblib_path),
               "BENTOML_HOME": str(work / "bentoml-home"), "BENTOML_DO_NOT_TRACK": "true"}
        command = [bentoml, "serve", "bentoml_service:Bench", "--host", "127.0.0.1",
                   "--port", str(self.port)]
        return Launch(command, env, cwd=SCRIPTS)

    def build_request(self, artifact: Artifact) -> HttpRequest:
        return _post(self.port, "/predict", {"row": artifact.row})


PEERS: list[type[Peer]] = [MLServer, KServe, LitServe, BentoML]
