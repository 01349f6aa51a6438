"""Job subprocesses: start one per job in a sandbox with its job directory (and a cgroup
with its instance type's limits), its output kept in a log file; stop it on request
(SIGTERM, then SIGKILL after a grace period); never outlive the server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from cove.host.cgroups import Cgroup
from cove.host.confinement import Confinement
from cove.host.network_attachment import NetworkAttachment
from cove.host.process_env import inherited_env, parent_pid
from cove.host.sandbox import Jail

# Seconds a job gets to exit after SIGTERM before it is killed (SageMaker gives 120 s
# to save state; local jobs have nothing to flush beyond their log).
STOP_GRACE = 10.0

JOBS_DIR = "jobs"
JOB_ROOT = "/opt/ml"  # where a sandboxed job sees its job dir's parts
JOB_MOUNTS = (("input", False), ("model", True), ("output", True))
LOG_FILE = "job.log"
VPC_FILES = "vpc"  # a job in a VPC: its resolv.conf and Cove's CA (the server's)


def job_dir(data_dir: Path, kind: str, name: str) -> Path:
    """Where one job keeps its inputs, outputs and log; names are case-insensitive."""
    return data_dir / JOBS_DIR / kind / name.lower()


def log_path(data_dir: Path, kind: str, name: str) -> Path:
    return job_dir(data_dir, kind, name) / LOG_FILE


class JobProcess:
    """One job's subprocess: `python -m <module> /opt/ml` with stdout+stderr in `log`,
    sandboxed with the job dir's input/ (read-only), model/ and output/ at /opt/ml, as in
    a SageMaker training container. The job dir itself (and the log in it) stays the
    server's: the job can write nothing there that the server later reads as its own.

    With `attachment` (a job with a VpcConfig) it runs as a host on its ENI: in its
    network namespace, with the VPC's resolver and Cove's CA.

    The module should first call `cove.host.limits.die_with_parent` with the
    COVE_PARENT_PID it is given, when that is not 0 (no sandbox).
    Start it from the event-loop thread: Linux ties the parent-death signal to the
    thread that forked.
    """

    def __init__(
        self,
        module: str,
        root: Path,
        log: Path,
        env: dict[str, str],
        confinement: Confinement,
        network: bool = True,
        cgroup: Cgroup | None = None,
        attachment: NetworkAttachment | None = None,
    ) -> None:
        self.module = module
        self.root = root
        self.log = log
        self.env = env
        self.confinement = confinement
        self.network = network  # False: a network namespace with loopback only
        self.cgroup = cgroup
        self.attachment = attachment
        self.proc: subprocess.Popen[bytes] | None = None
        self.stop_requested = False

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        sandbox = self.confinement.sandbox
        binds = []
        for sub, writable in JOB_MOUNTS:
            (self.root / sub).mkdir(mode=0o700, exist_ok=True)
            sandbox.give(self.root / sub)
            binds.append(sandbox.place(self.root / sub, f"{JOB_ROOT}/{sub}", writable))
        env = dict(self.env)
        if self.attachment is not None:
            (self.root / VPC_FILES).mkdir(mode=0o700, exist_ok=True)
            binds += self.attachment.binds(sandbox, self.root / VPC_FILES)
            env.update(self.attachment.tls_environment())
        jail = Jail(tuple(binds), network=self.network)
        root = JOB_ROOT if sandbox.enabled else str(self.root)
        argv = [sys.executable, "-m", self.module, root]
        command = sandbox.command(argv, jail, f"job {self.root.name}")
        if self.attachment is not None:
            command = self.attachment.enter(command)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # never the server's credentials: only an allow-list of its environment
                env={
                    **inherited_env("/tmp" if sandbox.enabled else str(self.root)),
                    **env,
                    "COVE_PARENT_PID": str(parent_pid(self.confinement)),
                },
                start_new_session=True,  # a Ctrl-C in the server's terminal is the server's
                preexec_fn=self.cgroup.join if self.cgroup else None,
            )

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def wait(self) -> int:
        """Wait for the process to exit without blocking the event loop."""
        assert self.proc is not None
        while (code := self.proc.poll()) is None:
            await asyncio.sleep(0.2)
        if self.cgroup is not None:  # whatever it left behind goes with it
            await asyncio.to_thread(self.cgroup.remove)
        return code

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM the job's process group, SIGKILL it if it has not exited after `grace`."""
        self.stop_requested = True
        if self.proc is None or self.proc.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.wait(), grace)
        except TimeoutError:
            self._signal(signal.SIGKILL)
            await self.wait()

    def _signal(self, sig: int) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        if sig == signal.SIGKILL and self.cgroup is not None:
            self.cgroup.signal(sig)
