"""Server processes: start pinned to one CPU, find their tree, measure its memory, stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from cove.host.proc_tree import tree

SERVER_CPU = 0
CLIENT_CPU = 1

# Every server gets the same thread knobs so no BLAS pool competes for the one core.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONUNBUFFERED": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd: list[str], log_path: Path, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> subprocess.Popen:
    """Start `cmd` on the server CPU in its own session (so the whole tree can be signalled)."""
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(
        ["taskset", "-c", str(SERVER_CPU), *cmd],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **THREAD_ENV, **(env or {})},
        cwd=cwd,
        start_new_session=True,
    )


def rss_bytes(pid: int) -> int:
    """Resident memory summed over the process tree (shared pages count once per process)."""
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def pin_tree(pid: int, cpu: int = SERVER_CPU) -> None:
    """Pin every thread of every process in the tree, overriding any affinity they set."""
    for p in tree(pid):
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                os.sched_setaffinity(int(tid), {cpu})
        except OSError:
            continue  # exited meanwhile


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM the server (it should clean up its children), then kill whatever is left."""
    if proc.poll() is None:
        members = tree(proc.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    else:
        members = []
    for p in members[1:]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


def wait_until(probe, timeout: float, proc: subprocess.Popen, log_path: Path,
               interval: float = 0.05) -> float:
    """Seconds until probe() is true; raise with the log tail if the server dies or stalls."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(log_path)}")
        if probe():
            return time.monotonic() - start
        time.sleep(interval)
    raise RuntimeError(f"server not ready after {timeout:.0f} s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def cpu_busy_seconds() -> float:
    """CPU time spent on the whole machine so far (all CPUs, idle and iowait excluded)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the live processes in the tree."""
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")
