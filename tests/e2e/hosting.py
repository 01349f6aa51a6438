"""Hosting-test helpers on top of tests/models.py: a real scikit-learn model in Cove's
S3, and the SageMaker calls and waits the control-plane tests repeat.

Not a test module: imported by tests/e2e/test_control_*.py and test_restart_*.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from models import ROLE, breast_cancer, csv_rows, pack, sklearn_model, sklearn_predict, upload
from models import SKLEARN_IMAGE as SKLEARN

ROW = csv_rows(breast_cancer()[0][:1])
PREDICTION = sklearn_predict(breast_cancer()[0][:1])  # what the deployed model must answer


def upload_sklearn_model(server: Any, workdir: Path) -> str:
    """A LogisticRegression packed as model.tar.gz in the server's S3; its s3:// URL."""
    return upload(server, pack(sklearn_model(workdir / "sklearn-model")))


def create_model(sm: Any, name: str, model_url: str, **container: Any) -> str:
    return sm.create_model(
        ModelName=name,
        PrimaryContainer={"Image": SKLEARN, "ModelDataUrl": model_url, **container},
        ExecutionRoleArn=ROLE,
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
