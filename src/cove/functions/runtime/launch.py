"""How a function worker is started: the sandbox and cgroup of an endpoint instance
(`cove.host`), holding the function's code read-only at /var/task (Lambda's
LAMBDA_TASK_ROOT, also the working directory) and the worker's environment file at
/run/cove; MemorySize as the cgroup's memory limit (or, where there are no cgroups, the
process's address-space rlimit, as for instances).

CPU: Lambda gives a function CPU in proportion to its memory, one vCPU at 1,769 MB
(Lambda Developer Guide, "Configure Lambda function memory"). Cove gives every worker at
least one whole CPU (more above 1,769 MB, up to the host's): at 128 MB's share, 0.07 of a
CPU, importing boto3 alone would take seconds, and a development box has no fleet whose
capacity such a share protects.

The function's environment (its own and Lambda's variables, the role's keys) reaches the
worker through a file read past the privilege drop (`cove.host.with_env`), never through
bubblewrap's environment.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cove.functions.contracts import FunctionSpec, NetworkAttachment
from cove.functions.runtime.environment import Placement, function_environment
from cove.functions.runtime.logs import log_group, log_stream
from cove.host.cgroups import Cgroup
from cove.host.confinement import Confinement
from cove.host.process_env import inherited_env, parent_pid
from cove.host.sandbox import Bind, Jail
from cove.identity.sessions import Session

TASK_ROOT = "/var/task"
RUN_DIR = "/run/cove"
ENV_FILE = "environment.json"
MB_PER_VCPU = 1769
BOOTSTRAP = "cove.functions.runtime.bootstrap"


@dataclass(frozen=True)
class WorkerLaunch:
    argv: list[str]
    env: dict[str, str]
    cwd: str  # on the host; inside, the bootstrap works in LAMBDA_TASK_ROOT
    cgroup: Cgroup | None
    run_dir: Path
    nonce: str  # the bootstrap's end-of-output marker
    log_stream: str
    credentials_expire: float | None  # when the role's keys in its environment expire


def cpus_for(memory_mb: int) -> float:
    return min(float(os.cpu_count() or 1), max(1.0, memory_mb / MB_PER_VCPU))


def prepare(
    spec: FunctionSpec,
    worker_id: str,
    confinement: Confinement,
    session: Session | None,
    run_dir: Path,
    endpoint_url: str,
    region: str,
    network: NetworkAttachment | None = None,
) -> WorkerLaunch:
    """Files, ownership and the cgroup of one worker (blocking: run it off the loop). In
    a VPC the worker runs in its ENI's network namespace, resolves names with the VPC's
    resolver and trusts Cove's CA, with no endpoint URL: boto3 reaches services by their
    real hostnames, as far as the VPC's routes and endpoints let it."""
    sandbox = confinement.sandbox
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    task = sandbox.place(spec.code_dir, TASK_ROOT)
    run = sandbox.place(run_dir, RUN_DIR)
    extra: tuple[Bind, ...] = ()
    if network is not None:
        extra = network.binds(sandbox, run_dir)
    stream = log_stream(spec.version, time.time())
    place = Placement(
        task.target, str(Path(__file__).resolve().parent), log_group(spec.name), stream
    )
    chosen = function_environment(spec, place, session, endpoint_url, region)
    if network is not None:
        chosen.pop("AWS_ENDPOINT_URL", None)
        chosen.update(network.tls_environment())
    env_file = run_dir / ENV_FILE
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(chosen, f)
    sandbox.give(run_dir)
    memory_bytes = spec.memory_mb << 20
    nonce = secrets.token_hex(16)
    argv = [
        sys.executable,
        "-m",
        "cove.host.with_env",
        f"{run.target}/{ENV_FILE}",
        sys.executable,
        "-P",
        "-m",
        BOOTSTRAP,
        nonce,
        str(memory_bytes if confinement.rlimits_only else 0),
        str(parent_pid(confinement)),
    ]
    jail = Jail((task, run, *extra), cwd=task.target)
    command = sandbox.command(argv, jail, f"function {spec.name} worker {worker_id}")
    if network is not None:
        command = network.enter(command)
    env = inherited_env("/tmp" if sandbox.enabled else str(run_dir))
    env["PYTHONUNBUFFERED"] = "1"  # the handler's prints reach the log as they happen
    cgroup = confinement.cgroup(f"fn-{worker_id}", memory_bytes, cpus_for(spec.memory_mb))
    expires = session.expires if session is not None else None
    return WorkerLaunch(command, env, str(run_dir), cgroup, run_dir, nonce, stream, expires)
