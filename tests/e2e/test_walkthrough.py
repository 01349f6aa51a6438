"""examples/breast_cancer.py, run as a user would after `eval "$(cove env)"`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import free_port

SCRIPT = Path(__file__).parents[2] / "examples" / "breast_cancer.py"


def test_walkthrough_trains_deploys_invokes_and_cleans_up(server) -> None:
    env = server.aws_env()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--bucket", "walkthrough-test", "--cleanup"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    for step in ("Split", "Upload", "Train", "Deploy", "Invoke", "API Gateway", "Clean up"):
        assert f"==> {step}" in out
    assert "Prediction for the seed's row: B" in out
    # seed 004's front door: API Gateway -> the seed's Lambda function -> the endpoint
    assert 'API answer for the seed\'s row: "B"' in out
    assert 'API answer for a malignant row: "M"' in out
    accuracy = float(re.search(r"Validation accuracy: ([0-9.]+)", out).group(1))
    assert accuracy >= 0.9

    sm = server.client("sagemaker")
    endpoints = sm.list_endpoints(NameContains="linear-learner-breast-cancer")["Endpoints"]
    assert all(e["EndpointStatus"] == "Deleting" for e in endpoints)
    jobs = sm.list_training_jobs(NameContains="linear-learner-breast-cancer")
    assert jobs["TrainingJobSummaries"][0]["TrainingJobStatus"] == "Completed"
    assert "Contents" not in server.client("s3").list_objects_v2(Bucket="walkthrough-test")
    names = [f["FunctionName"] for f in server.client("lambda").list_functions()["Functions"]]
    assert "breast-cancer-prediction" not in names
    apis = server.client("apigateway").get_rest_apis()["items"]
    assert all(a["name"] != "BreastCancerPrediction" for a in apis)


DEMO = Path(__file__).parents[2] / "scripts" / "demo.sh"


def processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if text.encode() in cmdline and state != "Z":
                found.append(int(proc.name))
    return found


def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COVE_"))}
    return {**env, "COVE_HOME": str(tmp_path / "demo-home"), "COVE_DEMO_PORT": str(free_port())}


def test_make_demo_script_runs_the_walkthrough_and_stops_its_server(tmp_path: Path) -> None:
    proc = subprocess.run(["bash", str(DEMO)], env=demo_env(tmp_path), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Prediction for the seed's row: B" in proc.stdout
    assert "invoke-endpoint" in proc.stdout and 'eval "$(.venv/bin/cove env)"' in proc.stdout
    assert "Stopping the Cove server" in proc.stdout
    assert processes_mentioning(str(tmp_path)) == []


def test_interrupting_the_demo_leaves_no_process(tmp_path: Path) -> None:
    proc = subprocess.Popen(["bash", str(DEMO)], env=demo_env(tmp_path),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = ""
    for line in proc.stdout:
        seen += line
        if "==> Train" in line:
            break
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    seen += proc.stdout.read()
    assert proc.wait(timeout=60) != 0
    assert "Stopping the Cove server" in seen, seen
    time.sleep(0.5)
    assert processes_mentioning(str(tmp_path)) == []
