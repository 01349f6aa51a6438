"""examples/breast_cancer.py, run as a user would after `eval "$(cove env)"`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "examples" / "breast_cancer.py"


def test_walkthrough_trains_deploys_invokes_and_cleans_up(server) -> None:
    env = server.aws_env()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--bucket", "walkthrough-test", "--cleanup"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    for step in ("Split", "Upload", "Train", "Deploy", "Invoke", "Clean up"):
        assert f"==> {step}" in out
    assert "Prediction for the seed's row: B" in out
    accuracy = float(re.search(r"Validation accuracy: ([0-9.]+)", out).group(1))
    assert accuracy >= 0.9

    sm = server.client("sagemaker")
    endpoints = sm.list_endpoints(NameContains="linear-learner-breast-cancer")["Endpoints"]
    assert all(e["EndpointStatus"] == "Deleting" for e in endpoints)
    jobs = sm.list_training_jobs(NameContains="linear-learner-breast-cancer")
    assert jobs["TrainingJobSummaries"][0]["TrainingJobStatus"] == "Completed"
    assert "Contents" not in server.client("s3").list_objects_v2(Bucket="walkthrough-test")
