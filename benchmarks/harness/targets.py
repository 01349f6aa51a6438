"""A server under test: how to start it, the one request to send, and how to read its answer."""

from __future__ import annotations

import base64
import http.client
import json
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from harness import procs
from harness.model import Artifact
from harness.wrk import HttpRequest

READY_TIMEOUT = 180.0
CHECK_CONNECTIONS = 16  # the check's concurrent copies of the request


def send(req: HttpRequest, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send `req` exactly as wrk will (same headers, same body) and return (status, body);
    from inside its host when it names one (a request of a host in a VPC)."""
    if req.enter:
        return _send_inside(req, timeout)
    conn = http.client.HTTPConnection(req.host, req.port, timeout=timeout)
    try:
        conn.putrequest(req.method, req.path, skip_host=True, skip_accept_encoding=True)
        headers = {"Host": req.host_header, **req.headers, "Content-Length": str(len(req.body))}
        for key, value in headers.items():
            conn.putheader(key, value)
        conn.endheaders(req.body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# The same, run by a Python inside the host (TLS verified against AWS_CA_BUNDLE there).
_SENDER = """
import base64, http.client, json, os, ssl, sys
r = json.loads(sys.stdin.read())
ctx = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"])
conn = http.client.HTTPSConnection(r["host"], r["port"] or 443, timeout=r["timeout"], context=ctx)
conn.putrequest(r["method"], r["path"], skip_host=True, skip_accept_encoding=True)
for k, v in r["headers"].items():
    conn.putheader(k, v)
body = base64.b64decode(r["body"])
conn.endheaders(body)
resp = conn.getresponse()
print(json.dumps({"status": resp.status, "body": base64.b64encode(resp.read()).decode()}))
"""


def _send_inside(req: HttpRequest, timeout: float) -> tuple[int, bytes]:
    headers = {"Host": req.host_header, **req.headers, "Content-Length": str(len(req.body))}
    sent = json.dumps({"method": req.method, "path": req.path, "host": req.host,
                       "port": req.port, "headers": headers, "timeout": timeout,
                       "body": base64.b64encode(req.body).decode()})
    done = subprocess.run([*req.enter, sys.executable, "-c", _SENDER], input=sent,
                          capture_output=True, text=True, timeout=timeout + 60)
    if done.returncode != 0:
        raise RuntimeError(f"sending from inside the host failed: {done.stderr[-2000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return answer["status"], base64.b64decode(answer["body"])


def first_number(body: bytes) -> float:
    """The first scalar in a JSON document, or the first CSV field of a text answer."""
    try:
        value = json.loads(body)
    except ValueError:
        return float(body.decode().strip().split(",")[0].split("\n")[0])
    while isinstance(value, list | dict):
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
    return float(value)


def blanked(body: bytes) -> object:
    """A JSON answer with every string emptied (request ids and the like); other bodies as is."""
    def blank(value: object) -> object:
        if isinstance(value, str):
            return ""
        if isinstance(value, list):
            return [blank(v) for v in value]
        if isinstance(value, dict):
            return {k: blank(v) for k, v in value.items()}
        return value

    try:
        return blank(json.loads(body))
    except ValueError:
        return body


class Target(ABC):
    """One server. `start` returns its cold start in seconds (create -> ready)."""

    name: str
    role: str  # "floor", "reference" (the relay), "cove" or "peer"
    proc: subprocess.Popen | None = None

    @abstractmethod
    def start(self, artifact: Artifact, work: Path) -> float: ...

    @abstractmethod
    def request(self) -> HttpRequest:
        """The request wrk replays; called before every wrk run (Cove signs it afresh)."""

    @abstractmethod
    def prediction(self, body: bytes) -> float: ...

    @property
    def family(self) -> str:
        """The server this target is a variant of: a peer's batched variant reports as it."""
        return self.name

    def describe(self) -> str:
        return self.name

    def verify(self, artifact: Artifact) -> None:
        """Fail unless the timed request gets the in-process prediction back, sent alone and
        then as CHECK_CONNECTIONS copies at once (which a batching server answers in batches)."""
        req = self.request()
        alone = self._check(send(req), artifact)
        with ThreadPoolExecutor(CHECK_CONNECTIONS) as pool:
            for answer in pool.map(lambda _: send(req), range(CHECK_CONNECTIONS)):
                body = self._check(answer, artifact)
                # A batch split wrongly can still start with the right number: the whole
                # answer must look like the lone one (ids and other strings aside).
                if blanked(body) != blanked(alone):
                    raise RuntimeError(f"{self.name} answered {body[:300]!r} among "
                                       f"{CHECK_CONNECTIONS} at once, {alone[:300]!r} alone")

    def _check(self, answer: tuple[int, bytes], artifact: Artifact) -> bytes:
        status, body = answer
        if status != 200:
            raise RuntimeError(f"{self.name} answered {status}: {body[:300]!r}")
        got = self.prediction(body)
        if got != artifact.expected:
            raise RuntimeError(f"{self.name} predicted {got}, in-process {artifact.expected}")
        return body

    def stop(self) -> None:
        if self.proc is not None:
            procs.stop(self.proc)
            self.proc = None


@dataclass
class Launch:
    """What a plain server process needs: its command line, environment and working dir."""

    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


class ProcessTarget(Target):
    """A server that is ready when it answers the benchmark request with 200."""

    port: int = 0

    @abstractmethod
    def launch(self, artifact: Artifact, work: Path) -> Launch: ...

    @abstractmethod
    def build_request(self, artifact: Artifact) -> HttpRequest: ...

    def start(self, artifact: Artifact, work: Path) -> float:
        self.port = procs.free_port()
        self._request = self.build_request(artifact)
        log_path = work / f"{self.name}.log"
        spec = self.launch(artifact, work)
        started = time.monotonic()
        self.proc = procs.spawn(spec.command, log_path, spec.env, spec.cwd or work)
        procs.wait_until(self._answers, READY_TIMEOUT, self.proc, log_path)
        return time.monotonic() - started

    def _answers(self) -> bool:
        try:
            return send(self._request, timeout=2.0)[0] == 200
        except OSError:
            return False

    def request(self) -> HttpRequest:
        return self._request

    def prediction(self, body: bytes) -> float:
        return first_number(body)
