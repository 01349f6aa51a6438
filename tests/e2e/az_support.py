"""What the AZ tests share (test_az_routing.py, test_low_latency.py): `cove exec` hosts
calling InvokeEndpoint with boto3, the calls each AZ served from /metrics, an instance's
model process, and the AZ-a failover check."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from conftest import children_of, is_sandbox_holder
from models import breast_cancer, csv_rows

ROOT = Path(__file__).parents[2]
BIN = ROOT / ".venv" / "bin"
ROW = csv_rows(breast_cancer()[0][:1]).strip()

# Runs inside a host: `count` calls (or calls for `seconds`), one line per outcome.
CALLER = """
import sys, time, boto3
from botocore.config import Config
name, row, count, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
rt = boto3.client("sagemaker-runtime", config=Config(retries={"total_max_attempts": 1}))
end, n = time.monotonic() + seconds, 0
while n < count or time.monotonic() < end:
    n += 1
    try:
        rt.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=row)
        print("ok", flush=True)
    except Exception as exc:
        print("failed", repr(exc).replace(chr(10), " "), flush=True)
"""


def served_by_zone(srv, endpoint: str) -> dict[str, int]:
    """cove_instance_invocations_total per availability_zone, from /metrics."""
    with urllib.request.urlopen(f"{srv.url}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    out: dict[str, int] = {}
    pattern = (rf'^cove_instance_invocations_total\{{endpoint="{re.escape(endpoint)}",'
               r'variant="AllTraffic",instance_id="[^"]+",availability_zone="([^"]+)"\} (\d+)$')
    for zone, count in re.findall(pattern, text, re.M):
        out[zone] = out.get(zone, 0) + int(count)
    return out


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {zone: after.get(zone, 0) - before.get(zone, 0) for zone in after}


def caller(srv, subnet: str, role: str, endpoint: str, count: int, seconds: float = 0,
           groups: Sequence[str] = ()):  # fmt: skip
    env = {**srv.aws_env(), "COVE_HOME": str(srv.data_dir), "PATH": f"{BIN}:{os.environ['PATH']}"}
    argv = [str(BIN / "cove"), "exec", "--subnet", subnet, "--role", role,
            *(a for g in groups for a in ("--security-group", g)), "--",
            str(BIN / "python"), "-c", CALLER, endpoint, ROW, str(count), str(seconds)]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def calls(srv, subnet: str, role: str, endpoint: str, count: int,
          groups: Sequence[str] = ()) -> list[str]:  # fmt: skip
    proc = caller(srv, subnet, role, endpoint, count, groups=groups)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out.splitlines()


def worker_pid(srv, endpoint: str, instance_id: str) -> int | None:
    """The model process of one instance: its output goes to the instance's log."""
    log = f"/endpoints/{endpoint}/{instance_id}.log"
    for pid in children_of(srv.proc.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            out = os.readlink(f"/proc/{pid}/fd/1")
        except OSError:
            continue
        if b"cove.instance.worker" in cmd and not is_sandbox_holder(cmd) and out.endswith(log):
            return pid
    return None


def served_elsewhere_while_down(srv, endpoint: str, subnet: str, role: str,
                                groups: Sequence[str] = ()) -> None:
    """Seed 002's failover, from a host in AZ a's `subnet`: with the AZ-a instance
    (AllTraffic-1) killed, its calls go on, served by another AZ while it is down, and by
    AZ a again once it is back."""
    victim = worker_pid(srv, endpoint, "AllTraffic-1")
    assert victim is not None
    before = served_by_zone(srv, endpoint)
    proc = caller(srv, subnet, role, endpoint, 0, seconds=8, groups=groups)
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(5)]  # calling, in its AZ so far
    os.kill(victim, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    outcomes = [line.strip() for line in [*lines, *out.splitlines()]]
    assert proc.returncode == 0, err
    failed = [o for o in outcomes if o != "ok"]
    # at most the call in flight when it died (not sent again: it may be what killed it)
    assert len(failed) <= 1 and all("closed the connection" in f for f in failed), failed
    during = delta(before, served_by_zone(srv, endpoint))
    assert sum(n for zone, n in during.items() if zone != "us-east-1a") > 0, during
    assert sum(during.values()) == len(outcomes) - len(failed)
    # back in its AZ: its calls are served there again
    deadline = time.time() + 60
    while True:
        before = served_by_zone(srv, endpoint)
        assert calls(srv, subnet, role, endpoint, 5, groups) == ["ok"] * 5
        if delta(before, served_by_zone(srv, endpoint))["us-east-1a"] == 5:
            break
        assert time.time() < deadline, "the AZ-a instance did not come back"
    assert worker_pid(srv, endpoint, "AllTraffic-1") not in (None, victim)
