"""Fixtures that start real `cove server` processes and real AWS clients pointed at them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from cove.host.proc_tree import tree

COVE = [sys.executable, "-m", "cove.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Every descendant process id of `pid`."""
    return tree(pid)[1:]


def is_sandbox_holder(cmdline: list[bytes]) -> bool:
    """bubblewrap's own processes, which hold a sandbox and carry its command line."""
    return bool(cmdline) and cmdline[0].endswith(b"bwrap")


def memory_cgroup_limit(pid: int) -> int | None:
    """The v1 memory cgroup limit of `pid`, None where it has none of its own."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            limit = Path("/sys/fs/cgroup/memory") / path.lstrip("/") / "memory.limit_in_bytes"
            return int(limit.read_text()) if limit.exists() else None
    return None


@dataclass
class CoveServer:
    data_dir: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    launcher: list[str] = field(default_factory=list)  # an argv prefix: who runs it, where

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def credentials(self) -> tuple[str, str]:
        doc = json.loads((self.data_dir / "credentials.json").read_text())
        return doc["access_key_id"], doc["secret_access_key"]

    def start(self, timeout: float = 30, until_serving: bool = True) -> CoveServer:
        """Start and wait until it says it is serving (its endpoints restored), or with
        `until_serving=False` only until its port takes connections."""
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(
            [*self.launcher, *COVE, "server", "--port", str(self.port),
             "--data-dir", str(self.data_dir)],  # fmt: skip
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cove server exited:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    if not until_serving or "Cove is serving" in self.log():
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"cove server did not start:\n{self.log()}")

    def instance_dirs(self) -> list[Path]:
        """The per-instance directories (sockets) under this server's socket dir."""
        assert self.proc is not None
        return list(Path(tempfile.gettempdir()).glob(f"cove-sockets-{self.proc.pid}-*/*"))

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> list[int]:
        """Stop the server; returns descendants that were still alive afterwards."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        descendants = children_of(self.proc.pid)
        self.proc.send_signal(sig)
        self.proc.wait(timeout)
        time.sleep(0.2)
        leftover = [p for p in descendants if Path(f"/proc/{p}").exists()
                    and "Z" not in Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1][:3]]
        for p in leftover:  # don't leak into other tests even when the assertion fails
            os.kill(p, signal.SIGKILL)
        self.proc = None
        return leftover

    def client(self, service: str, **kwargs) -> object:
        key, secret = self.credentials()
        cfg = Config(retries={"max_attempts": 1}, read_timeout=120)
        return boto3.client(
            service,
            endpoint_url=self.url,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=kwargs.pop("config", cfg),
            **kwargs,
        )

    def aws_env(self) -> dict[str, str]:
        key, secret = self.credentials()
        return {
            **os.environ,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }

    def aws(
        self, *args: str, check: bool = True, key: tuple[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the real AWS CLI against this server, as the admin or with `key`."""
        aws = str(Path(sys.executable).parent / "aws")
        env = self.aws_env()
        if key is not None:
            env.update(AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1])
        return subprocess.run(
            [aws, *args], env=env, capture_output=True, text=True, check=check, timeout=300
        )


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator:
    """Factory for servers owned by one test; all are stopped when it ends."""
    started: list[CoveServer] = []

    def make(data_dir: Path | None = None, env: dict[str, str] | None = None) -> CoveServer:
        srv = CoveServer(data_dir or tmp_path / "data", free_port(), env or {})
        started.append(srv)
        return srv.start()

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoveServer]:
    """One server shared by the tests that don't restart it."""
    root = tmp_path_factory.mktemp("cove")
    srv = CoveServer(root / "data", free_port(), {"COVE_MODEL_TIMEOUT": "3"}).start()
    yield srv
    srv.stop()
