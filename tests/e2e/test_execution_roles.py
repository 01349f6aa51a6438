"""Execution roles are real credentials (issue #10 parts 6 and 7): code in an endpoint
instance gets temporary credentials of its model's ExecutionRoleArn through the container
credentials mechanism boto3 finds on its own (AWS_CONTAINER_CREDENTIALS_FULL_URI with an
authorization token; botocore's ContainerProvider), with Cove's endpoint URL, and can do
exactly what the role allows. Training jobs get their RoleArn's the same way.

SageMaker's behaviour: the code a model runs acts as its execution role (SageMaker
Developer Guide, "How to use SageMaker AI execution roles"); no other credentials reach it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from training_support import (
    aws_variables,
    long_job,
    unique,
    wait_done,
    wait_process,
    wait_secondary,
)

from tests.conftest import CoveServer
from tests.models import deploy, pack, sklearn_model, upload

ACCOUNT = "000000000000"

SCRIPT = """
import json, os
import boto3

def model_fn(model_dir):
    return None

def transform_fn(model, data, content_type, accept):
    s3 = boto3.client("s3")  # no keys, no endpoint given: both come from the environment
    out = {"who": boto3.client("sts").get_caller_identity()["Arn"]}
    for bucket in ("role-may-read", "role-may-not-read"):
        try:
            out[bucket] = s3.get_object(Bucket=bucket, Key="k")["Body"].read().decode()
        except Exception as exc:
            out[bucket] = type(exc).__name__ + ": " + getattr(exc, "response", {}).get(
                "Error", {}).get("Code", str(exc))
    out["grant"] = [os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
                    os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]]
    out["keys_in_env"] = sorted(k for k in os.environ if k in (
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"))
    return json.dumps(out)
"""


def role_reading_one_bucket(server: CoveServer, name: str, readable: str, other: str) -> str:
    """A role SageMaker may assume whose only permission is reading objects of `readable`;
    both buckets are made with an object "k". The role's ARN."""
    iam, s3 = server.client("iam"), server.client("s3")
    for bucket in (readable, other):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=f"in {bucket}".encode())
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=name, PolicyName="one", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{readable}/*"}]}))  # fmt: skip
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def test_a_models_code_acts_as_its_execution_role(server: CoveServer, tmp_path: Path) -> None:
    role = role_reading_one_bucket(server, "reads-one-bucket", "role-may-read", "role-may-not-read")
    model_uri = upload(server, pack(sklearn_model(tmp_path / "m", SCRIPT)))
    name = deploy(server, "sklearn", model_uri, role=role)
    answer = server.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=name, ContentType="text/plain", Body=b"go"
    )
    got = json.loads(answer["Body"].read())
    assert got["who"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reads-one-bucket/SageMaker-{name}"
    assert got["role-may-read"] == "in role-may-read"
    assert got["role-may-not-read"].endswith(": AccessDenied")  # refused what it may not do
    assert got["keys_in_env"] == []  # no key pair reaches the model: only the role's, fetched
    uri, token = got["grant"]
    assert uri == f"{server.url}/_cove/credentials"
    fetched = fetch(uri, token)
    assert fetched["AccessKeyId"].startswith("ASIA") and fetched["Token"]
    assert fetch(uri, "not-the-token") == 403
    # the grant ends with the instances that held it
    sm = server.client("sagemaker")
    sm.delete_endpoint(EndpointName=name)
    deadline = time.time() + 60
    while fetch(uri, token) != 403:
        assert time.time() < deadline, "the grant outlived its endpoint"
        time.sleep(0.2)


def fetch(uri: str, token: str) -> dict | int:
    """What botocore's container provider asks (GET with the token in Authorization)."""
    request = urllib.request.Request(uri, headers={"Authorization": token})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code


# What a training job's code does with its credentials: boto3 with nothing configured but
# what the job's environment holds (botocore's container provider, Cove's endpoint URL).
JOB_CODE = """
import json, boto3
s3 = boto3.client("s3")
out = {"who": boto3.client("sts").get_caller_identity()["Arn"]}
for bucket in ("job-may-read", "job-may-not-read"):
    try:
        out[bucket] = s3.get_object(Bucket=bucket, Key="k")["Body"].read().decode()
    except Exception as exc:
        out[bucket] = exc.response["Error"]["Code"]
print(json.dumps(out))
"""


def test_a_training_jobs_credentials_are_its_roles(server: CoveServer, tmp_path: Path) -> None:
    """The built-in algorithms make no AWS calls of their own, so the job's code is played
    by boto3 run with exactly the AWS_* environment the job's process holds."""
    role = role_reading_one_bucket(
        server, "job-reads-one-bucket", "job-may-read", "job-may-not-read"
    )
    sm = server.client("sagemaker")
    name = unique("role-job")
    long_job(server, name, role=role)
    wait_secondary(sm, name, "Training")
    held = aws_variables(wait_process(name))
    assert "AWS_ACCESS_KEY_ID" not in held and "AWS_SECRET_ACCESS_KEY" not in held
    assert held["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == f"{server.url}/_cove/credentials"
    ran = subprocess.run(
        [sys.executable, "-c", JOB_CODE], capture_output=True, text=True, timeout=60,
        env={**held, "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    got = json.loads(ran.stdout)
    assert got["who"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/job-reads-one-bucket/SageMaker-{name}"
    )
    assert got["job-may-read"] == "in job-may-read"
    assert got["job-may-not-read"] == "AccessDenied"  # exactly what the role allows
    # the grant ends with the job
    sm.stop_training_job(TrainingJobName=name)
    assert wait_done(sm, name)["TrainingJobStatus"] == "Stopped"
    token = held["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    assert fetch(held["AWS_CONTAINER_CREDENTIALS_FULL_URI"], token) == 403
