"""How an instance process is started for a serving image on an instance type.

Every instance runs in a sandbox (`cove.host.sandbox`) that holds its model read-only at
/opt/ml/model and its socket directory at /run/cove, and in a cgroup with the instance
type's CPU share and memory; a model with EnableNetworkIsolation gets a network
namespace of its own with loopback alone (and, from its fleet, no credentials).
In-process stacks run `python -m cove.instance.worker serve` on a Unix socket there. A
local executable is started the way SageMaker starts a container, `<exe> serve` (its
directory is visible read-only), with the model's Environment plus:

* `SAGEMAKER_BIND_TO_PORT`: the loopback TCP port to serve /ping and /invocations on;
* `SM_MODEL_DIR`: the model directory (what a container finds at /opt/ml/model);
* `SAGEMAKER_MODEL_DIR`: the same, for scripts that look for that name.

Both get thread-count variables matching the instance type's vCPUs.

An instance of a model in a VPC runs in its ENI's network namespace (`network`): the
VPC's resolver and Cove's CA inside, no endpoint URL (its AWS clients reach services by
their real names, as the VPC's routes and endpoints allow), and its role's credentials
from the container credentials address of the ENI. Cove still talks to it over its Unix
socket, a channel outside any network.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

from cove.host.confinement import Confinement
from cove.host.instance_types import Profile
from cove.host.network_attachment import NetworkAttachment
from cove.host.process_env import inherited_env, parent_pid
from cove.host.sandbox import Jail
from cove.network.sagemaker_hosts import credentials_inside
from cove.runtime.client import tcp_connector, unix_connector
from cove.runtime.images import ServingImage
from cove.runtime.instance import Launch

MODEL_DIR = "/opt/ml/model"
SOCKET_DIR = "/run/cove"
SOCKET_NAME = "instance.sock"
ENV_FILE = "environment.json"  # the model's Environment, read by `cove.host.with_env`


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_prefix(profile: Profile, rlimit_bytes: int, parent: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cove.instance.worker",
        "--parent-pid",
        str(parent),
        "--cpus",
        ",".join(map(str, profile.cpus)),
        "--memory-bytes",
        str(rlimit_bytes),
    ]


def make_launch(
    image: ServingImage,
    model_dir: Path,
    environment: dict[str, str],
    profile: Profile,
    run_dir: Path,
    name: str,
    confinement: Confinement,
    role_env: dict[str, str] | None = None,
    network: NetworkAttachment | None = None,
    isolated: bool = False,
) -> Launch:
    """`run_dir`: the instance's own directory for its socket and environment file
    (visible inside at /run/cove); `name` names its cgroup and appears in logs.
    `network`: the ENI of a model in a VPC, whose namespace the instance runs in.
    `isolated` (EnableNetworkIsolation): a network namespace with loopback alone; the
    Unix socket in /run/cove stays its channel to the server."""
    sandbox = confinement.sandbox
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    model = sandbox.place(model_dir, MODEL_DIR)
    run = sandbox.place(run_dir, SOCKET_DIR, writable=True)
    binds = [model, run]
    # What the server chooses goes into the process's environment; the model's own
    # Environment (which wins) only past the privilege drop, through a file.
    env = inherited_env("/tmp" if sandbox.enabled else str(run_dir))
    env.update(profile.thread_env())
    env.update(SM_MODEL_DIR=model.target, SAGEMAKER_MODEL_DIR=model.target, PYTHONUNBUFFERED="1")
    env.update(role_env or {})  # the execution role's credentials, the only AWS ones inside
    if network is not None:
        binds += network.binds(sandbox, run_dir)
        env.update(credentials_inside(role_env or {}), **network.tls_environment())
        env.pop("AWS_ENDPOINT_URL", None)
    chosen = dict(environment)
    rlimit = profile.memory_bytes if confinement.rlimits_only else 0
    prefix = worker_prefix(profile, rlimit, parent_pid(confinement))
    if image.executable is not None:
        port = free_port()
        chosen["SAGEMAKER_BIND_TO_PORT"] = str(port)
        exe = Path(image.executable).resolve()
        binds.append(sandbox.place(exe, str(exe)))  # the file alone, not its directory
        argv = [*prefix, "exec", "--", str(exe), "serve"]
        connect = tcp_connector("127.0.0.1", port)
        socket_path = None
    else:
        assert image.module is not None
        argv = [
            *prefix,
            "serve",
            "--socket",
            f"{run.target}/{SOCKET_NAME}",
            "--module",
            image.module,
            "--model-dir",
            model.target,
        ]
        socket_path = str(run_dir / SOCKET_NAME)
        connect = unix_connector(socket_path)
    env_file = run_dir / ENV_FILE
    env_file.write_text(json.dumps(chosen))  # 0600 under the server's umask
    sandbox.give(run_dir)
    argv = [sys.executable, "-m", "cove.host.with_env", f"{run.target}/{ENV_FILE}", *argv]
    jail = Jail(tuple(binds), cwd="/tmp", network=not isolated)
    command = sandbox.command(argv, jail, f"instance {name}")
    if network is not None:
        command = network.enter(command)
    cgroup = confinement.cgroup(name, profile.memory_bytes, len(profile.cpus))
    if cgroup is not None and socket_path is not None:
        connect = unix_connector(socket_path, trusted=lambda pid: pid in cgroup.pids())
    return Launch(command, env, connect, str(run_dir), socket_path, cgroup, run_dir)
