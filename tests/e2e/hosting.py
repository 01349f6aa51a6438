"""Helpers for the hosting tests: a real scikit-learn model in Cove's S3, and deployments.

Not a test module: imported by tests/e2e/test_control_*.py and test_restart_*.py.
"""

from __future__ import annotations

import io
import tarfile
import time
from typing import Any

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROW = "5.1,3.5,1.4,0.2"


def upload_sklearn_model(server: Any, bucket: str, key: str = "logreg/model.tar.gz") -> str:
    """Train a LogisticRegression, pack it like SageMaker expects, upload it; its s3:// URL."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(x, y)
    buf = io.BytesIO()
    joblib.dump(model, buf)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(buf.getvalue())
        tar.addfile(info, io.BytesIO(buf.getvalue()))
    s3 = server.client("s3")
    existing = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=archive.getvalue())
    return f"s3://{bucket}/{key}"


def create_model(sm: Any, name: str, model_url: str, **container: Any) -> str:
    return sm.create_model(
        ModelName=name,
        PrimaryContainer={"Image": SKLEARN, "ModelDataUrl": model_url, **container},
        ExecutionRoleArn="arn:aws:iam::000000000000:role/cove-test",
    )["ModelArn"]


def create_config(sm: Any, name: str, *variants: tuple[str, str, int]) -> str:
    """`variants` are (variant name, model name, instance count)."""
    return sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": model,
                "InstanceType": "ml.t2.medium",
                "InitialInstanceCount": count,
            }
            for variant, model, count in variants
        ],
    )["EndpointConfigArn"]


def wait_in_service(sm: Any, name: str, timeout: int = 120) -> dict[str, Any]:
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": timeout * 2}
    )
    return sm.describe_endpoint(EndpointName=name)


def wait_deleted(sm: Any, name: str, timeout: int = 60) -> None:
    sm.get_waiter("endpoint_deleted").wait(
        EndpointName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": timeout * 2}
    )


def wait_status(sm: Any, name: str, status: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        out = sm.describe_endpoint(EndpointName=name)
        if out["EndpointStatus"] == status or time.time() > deadline:
            return out
        time.sleep(0.3)


def invoke(server: Any, name: str, **kwargs: Any) -> dict[str, Any]:
    rt = server.client("sagemaker-runtime")
    return rt.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROW, **kwargs)
