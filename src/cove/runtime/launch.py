"""How an instance process is started for a serving image on an instance type.

In-process stacks run `python -m cove.runtime.worker serve` on a Unix socket. A local
executable is started the way SageMaker starts a container, `<exe> serve`, with the
model's Environment plus:

* `SAGEMAKER_BIND_TO_PORT`: the loopback TCP port to serve /ping and /invocations on;
* `SM_MODEL_DIR`: the model directory (what a container finds at /opt/ml/model);
* `SAGEMAKER_MODEL_DIR`: the same, for scripts that look for that name.

Both get thread-count variables matching the instance type's vCPUs, and run confined
to its CPU share and memory (see `limits`).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from cove.runtime.client import tcp_connector, unix_connector
from cove.runtime.images import ServingImage
from cove.runtime.instance import Launch
from cove.runtime.instance_types import Profile

# What instances and jobs inherit from the server's environment; nothing else (no credentials).
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def inherited_env() -> dict[str, str]:
    """The part of the server's environment a child process (instance or job) may see."""
    return {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}


def instance_env(model_dir: Path, environment: dict[str, str], profile: Profile) -> dict[str, str]:
    env = inherited_env()
    env.update(profile.thread_env())
    env.update(
        SM_MODEL_DIR=str(model_dir),
        SAGEMAKER_MODEL_DIR=str(model_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(environment)  # the model's own Environment wins
    return env


def worker_prefix(profile: Profile) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cove.runtime.worker",
        "--parent-pid",
        str(os.getpid()),
        "--cpus",
        ",".join(map(str, profile.cpus)),
        "--memory-bytes",
        str(profile.memory_bytes),
    ]


def make_launch(
    image: ServingImage,
    model_dir: Path,
    environment: dict[str, str],
    profile: Profile,
    socket_path: str,
    work_dir: Path,
) -> Launch:
    env = instance_env(model_dir, environment, profile)
    work_dir.mkdir(parents=True, exist_ok=True)
    if image.executable is not None:
        port = free_port()
        env["SAGEMAKER_BIND_TO_PORT"] = str(port)
        argv = [*worker_prefix(profile), "exec", "--", str(image.executable), "serve"]
        return Launch(argv, env, tcp_connector("127.0.0.1", port), str(work_dir))
    assert image.module is not None
    argv = [
        *worker_prefix(profile),
        "serve",
        "--socket",
        socket_path,
        "--module",
        image.module,
        "--model-dir",
        str(model_dir),
    ]
    return Launch(argv, env, unix_connector(socket_path), str(work_dir), socket_path)
