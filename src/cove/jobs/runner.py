"""Job subprocesses: start one per job with its output kept in a log file, stop it on
request (SIGTERM, then SIGKILL after a grace period), and never outlive the server."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from cove.runtime.launch import inherited_env

# Seconds a job gets to exit after SIGTERM before it is killed (SageMaker gives 120 s
# to save state; local jobs have nothing to flush beyond their log).
STOP_GRACE = 10.0

JOBS_DIR = "jobs"
LOG_FILE = "job.log"


def job_dir(data_dir: Path, kind: str, name: str) -> Path:
    """Where one job keeps its inputs, outputs and log; names are case-insensitive."""
    return data_dir / JOBS_DIR / kind / name.lower()


def log_path(data_dir: Path, kind: str, name: str) -> Path:
    return job_dir(data_dir, kind, name) / LOG_FILE


@functools.cache
def network_isolation_prefix() -> list[str] | None:
    """The command prefix that runs a process with no network (a new, empty network
    namespace), or None when this host cannot (no `unshare` or no user namespaces)."""
    prefix = ["unshare", "--user", "--map-root-user", "--net"]
    if shutil.which("unshare") is None:
        return None
    try:
        done = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return prefix if done.returncode == 0 else None


class JobProcess:
    """One job's subprocess: `python -m <module> <args>` with stdout+stderr in `log`.

    The module should first call `cove.runtime.limits.die_with_parent` with the
    COVE_PARENT_PID it is given.
    Start it from the event-loop thread: Linux ties the parent-death signal to the
    thread that forked.
    """

    def __init__(
        self,
        module: str,
        args: list[str],
        log: Path,
        env: dict[str, str],
        prefix: list[str] | None = None,
    ) -> None:
        self.prefix = prefix or []  # e.g. ["unshare", "-rn"]: run without network
        self.module = module
        self.args = args
        self.log = log
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.stop_requested = False

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [*self.prefix, sys.executable, "-m", self.module, *self.args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # never the server's credentials: only an allow-list of its environment
                env={**inherited_env(), **self.env, "COVE_PARENT_PID": str(os.getpid())},
                start_new_session=True,  # a Ctrl-C in the server's terminal is the server's
            )

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def wait(self) -> int:
        """Wait for the process to exit without blocking the event loop."""
        assert self.proc is not None
        while (code := self.proc.poll()) is None:
            await asyncio.sleep(0.2)
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
