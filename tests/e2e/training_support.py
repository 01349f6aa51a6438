"""Helpers for the training tests: data in Cove's S3, training jobs, deployments.

Not a test module: imported by tests/e2e/test_training*.py, test_seed_lambda*.py,
test_walkthrough*.py and test_execution_roles.py.
"""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from conftest import children_of, is_sandbox_holder
from sklearn.datasets import load_breast_cancer

LINEAR_LEARNER = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::000000000000:role/cove"
# The seed's validation row (benign: the seed's Lambda answers "B").
SEED_ROW = (
    "13.49,22.3,86.91,561.0,0.08752,0.07697999999999999,0.047510000000000004,"
    "0.033839999999999995,0.1809,0.057179999999999995,0.2338,1.3530000000000002,1.735,20.2,"
    "0.004455,0.013819999999999999,0.02095,0.01184,0.01641,0.001956,15.15,31.82,99.0,698.8,"
    "0.1162,0.1711,0.2282,0.1282,0.2871,0.06917000000000001"
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def to_csv(rows: np.ndarray) -> bytes:
    out = io.StringIO()
    np.savetxt(out, rows, delimiter=",", fmt="%.10g")
    return out.getvalue().encode()


def cancer_rows() -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) rows `label, 30 features`, malignant = 1."""
    data = load_breast_cancer()
    rows = np.column_stack([1 - data.target, data.data])
    rows = rows[np.random.default_rng(7).permutation(len(rows))]
    return rows[:455], rows[455:]


def upload_cancer(server: Any, bucket: str) -> str:
    """Create `bucket` with train/ and validation/ CSVs; returns the data prefix URI."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)
    train, validation = cancer_rows()
    s3.put_object(Bucket=bucket, Key="data/train/part-0.csv", Body=to_csv(train))
    s3.put_object(Bucket=bucket, Key="data/validation/part-0.csv", Body=to_csv(validation))
    return f"s3://{bucket}/data"


def channel(name: str, uri: str, content_type: str | None = "text/csv") -> dict[str, Any]:
    out: dict[str, Any] = {
        "ChannelName": name,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                        "S3DataDistributionType": "FullyReplicated"}},
    }
    if content_type:
        out["ContentType"] = content_type
    return out


def both_channels(data: str) -> list[dict[str, Any]]:
    return [channel("train", f"{data}/train"), channel("validation", f"{data}/validation")]


def create_job(sm: Any, name: str, image: str, hyperparameters: dict[str, str],
               channels: list[dict[str, Any]], output: str, max_runtime: int = 600,
               role: str = ROLE, **extra: Any) -> str:
    return sm.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        RoleArn=role,
        HyperParameters=hyperparameters,
        InputDataConfig=channels,
        OutputDataConfig={"S3OutputPath": output},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1,
                        "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": max_runtime},
        **extra,
    )["TrainingJobArn"]


def wait_done(sm: Any, name: str) -> dict[str, Any]:
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 240}
    )
    return sm.describe_training_job(TrainingJobName=name)


def wait_secondary(sm: Any, name: str, status: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = sm.describe_training_job(TrainingJobName=name)
        if job["SecondaryStatus"] == status:
            return job
        time.sleep(0.2)
    raise AssertionError(f"{name} never reached {status}: {job['SecondaryStatus']}")


def deploy(sm: Any, name: str, image: str, model_url: str, instances: int = 1) -> None:
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": image, "ModelDataUrl": model_url})
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large",
        "InitialInstanceCount": instances}])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 240}
    )


def train_and_deploy_linear_learner(server: Any, prefix: str) -> str:
    """A breast-cancer linear learner behind an InService endpoint; the endpoint's name."""
    sm = server.client("sagemaker")
    name = unique(prefix)
    data = upload_cancer(server, name)
    create_job(sm, name, LINEAR_LEARNER, {"predictor_type": "binary_classifier"},
               both_channels(data), f"s3://{name}/output")
    job = wait_done(sm, name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    deploy(sm, name, LINEAR_LEARNER, job["ModelArtifacts"]["S3ModelArtifacts"])
    return name


def long_job(server: Any, name: str, max_runtime: int = 600, **extra: Any) -> None:
    """An XGBoost job that would run for many minutes."""
    data = upload_cancer(server, name)
    create_job(server.client("sagemaker"), name, XGBOOST,
               {"objective": "binary:logistic", "num_round": "10000000", "max_depth": "2"},
               [channel("train", f"{data}/train")], f"s3://{name}/output", max_runtime, **extra)


def wait_process(name: str) -> int:
    deadline = time.time() + 10
    while not job_processes(name) and time.time() < deadline:
        time.sleep(0.1)
    [pid] = job_processes(name)
    return pid


def aws_variables(pid: int) -> dict[str, str]:
    """The AWS_* variables a job's process started with, and their values."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (v.decode().split("=", 1) for v in environ if v.startswith(b"AWS_"))
    return {name: value for name, value in pairs}


def aws_environment(pid: int) -> list[str]:
    """The names of the AWS_* variables a job's process started with."""
    return sorted(aws_variables(pid))


def job_processes(name: str) -> list[int]:
    """Live training processes of job `name`: inside the sandbox whose bubblewrap command
    line binds that job's directory (the job itself sees it as /opt/ml)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        mine = any(part.endswith(f"/{name.lower()}/input".encode()) for part in cmdline)
        if not (proc.name.isdigit() and is_sandbox_holder(cmdline) and mine):
            continue
        for pid in children_of(int(proc.name)):
            try:
                inner = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if (b"cove.jobs.training.worker" in inner and not is_sandbox_holder(inner)
                    and state != "Z" and pid not in found):
                found.append(pid)
    return found
