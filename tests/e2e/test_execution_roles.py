"""Execution roles are real credentials (issue #10 parts 6 and 7): code in an endpoint
instance gets temporary credentials of its model's ExecutionRoleArn through the container
credentials mechanism boto3 finds on its own (AWS_CONTAINER_CREDENTIALS_FULL_URI with an
authorization token; botocore's ContainerProvider), with Cove's endpoint URL, and can do
exactly what the role allows. Training jobs get their RoleArn's the same way.

SageMaker's behaviour: the code a model runs acts as its execution role (SageMaker
Developer Guide, "How to use SageMaker AI execution roles"); no other credentials reach it.
SageMaker's own S3 transfers for a model or job are the role's too, outside a VPC as in
one: CreateModel's role needs s3:GetObject on the artifact, CreateTrainingJob's
s3:ListBucket, s3:GetObject and s3:PutObject, and a bucket policy can deny them
(repost.aws/knowledge-center/sagemaker-s3-accessdenied-training). Their failures, in
AWS's words:
- a training object the role may not read: "ClientError: Data download failed:Unable to
  download object s3://... (AccessDenied: Access Denied)"
  (github.com/aws/amazon-sagemaker-examples/issues/4384);
- a listing: "ClientError: Data download failed:Failed to download data. ListObjectsV2
  failed for s3://... : ..." (AWS's words for a listing that did not reach S3, S3's
  answer after them);
- the model's upload: "ClientError: Artifact upload failed:" (AWS's prefix,
  github.com/aws/amazon-sagemaker-operator-for-k8s/pull/22), then Cove's "Unable to
  upload object s3://... (AccessDenied: ...)";
- an endpoint whose model's role may not read the artifact: 'Failed to download model
  data for container "container_1" from URL: "s3://...". Please ensure that there is an
  object located at the URL and that the role passed to CreateModel has permissions to
  download the object.' (github.com/aws-samples/cvat-on-aws-china/issues/3).
In each, Cove's S3 answer follows in parentheses (IAM UG, "Troubleshoot access denied
error messages": who was refused what, and by which policy type).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from training_support import (
    LINEAR_LEARNER,
    aws_variables,
    both_channels,
    create_job,
    long_job,
    unique,
    upload_cancer,
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


def role_reading_one_bucket(
    server: CoveServer, name: str, readable: str, other: str, own: str | None = None
) -> str:
    """A role SageMaker may assume whose only permission is reading objects of `readable`
    (and, for SageMaker's own transfers, listing, reading and writing bucket `own`);
    `readable` and `other` are made with an object "k". The role's ARN."""
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
    if own is not None:
        iam.put_role_policy(RoleName=name, PolicyName="own", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
                "Resource": [f"arn:aws:s3:::{own}", f"arn:aws:s3:::{own}/*"]}]}))  # fmt: skip
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def test_a_models_code_acts_as_its_execution_role(server: CoveServer, tmp_path: Path) -> None:
    role = role_reading_one_bucket(server, "reads-one-bucket", "role-may-read", "role-may-not-read")
    # SageMaker downloads the artifact as the role too: it is in the bucket the role reads
    model_uri = upload(server, pack(sklearn_model(tmp_path / "m", SCRIPT)), "role-may-read")
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
    sm = server.client("sagemaker")
    name = unique("role-job")
    role = role_reading_one_bucket(  # the job's data and output are in bucket `name`
        server, "job-reads-one-bucket", "job-may-read", "job-may-not-read", own=name
    )
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


TRUST_SAGEMAKER = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}  # fmt: skip


def sagemaker_role(server: CoveServer, name: str, *statements: dict[str, Any]) -> str:
    """A role SageMaker may assume, allowed `statements` (none: no policy at all)."""
    iam = server.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER))[
        "Role"
    ]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))  # fmt: skip
    return arn


def allow(actions: list[str], *resources: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": list(resources)}


def refused(role: str, session: str, action: str, resource: str, why: str) -> str:
    """S3's AccessDenied message for SageMaker's session of `role` (S3 quotes the
    resource: S3 UG, "Troubleshoot access denied (403 Forbidden) errors")."""
    return (
        f"AccessDenied: User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session} is not "
        f'authorized to perform: {action} on resource: "{resource}" {why}'
    )


def _denied_put(principal: str, resource: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": principal}, "Action": "s3:PutObject",
        "Resource": resource}]})  # fmt: skip


def test_a_training_jobs_own_transfers_are_its_roles(server: CoveServer) -> None:
    """Outside a VPC the channels are listed and read, and the model written, as the job's
    role: what the role's policies or the bucket's deny fails the job, with AWS's text."""
    sm, s3 = server.client("sagemaker"), server.client("s3")
    bucket = unique("role-data")
    data = upload_cancer(server, bucket)
    other = unique("role-out")
    s3.create_bucket(Bucket=other)
    everything = allow(["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
                       f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*")  # fmt: skip
    listing = allow(["s3:ListBucket"], f"arn:aws:s3:::{bucket}")
    reading = allow(["s3:GetObject"], f"arn:aws:s3:::{bucket}/*")
    writing_other = allow(["s3:PutObject"], f"arn:aws:s3:::{other}/*")
    cases = {  # role name -> (its statements, output bucket)
        "trains-no-policy": ((), bucket),
        "trains-lists-only": ((listing,), bucket),
        "trains-reads-only": ((listing, reading), bucket),
        "trains-denied-by-bucket": ((everything, writing_other), other),
        "trains-everything": ((everything,), bucket),
    }
    names = {}
    for role, (statements, out) in cases.items():
        arn = sagemaker_role(server, role, *statements)
        names[role] = unique("own-s3")
        if role == "trains-denied-by-bucket":  # the role may write there: the bucket may not
            s3.put_bucket_policy(Bucket=other, Policy=_denied_put(arn, f"arn:aws:s3:::{other}/*"))
        create_job(sm, names[role], LINEAR_LEARNER, {"predictor_type": "binary_classifier"},
                   both_channels(data), f"s3://{out}/output", role=arn)  # fmt: skip
    jobs = {role: wait_for_job(sm, name) for role, name in names.items()}

    # no policy at all: the channel cannot even be listed
    name = names["trains-no-policy"]
    assert jobs["trains-no-policy"]["FailureReason"] == (
        f"ClientError: Data download failed:Failed to download data. ListObjectsV2 failed "
        f"for {data}/train : " + refused(
            "trains-no-policy", f"SageMaker-{name}", "s3:ListBucket", f"arn:aws:s3:::{bucket}",
            "because no identity-based policy allows the s3:ListBucket action")
    )  # fmt: skip
    # listed, but not one object may be read
    name = names["trains-lists-only"]
    key = "data/train/part-0.csv"
    assert jobs["trains-lists-only"]["FailureReason"] == (
        f"ClientError: Data download failed:Unable to download object s3://{bucket}/{key} ("
        + refused("trains-lists-only", f"SageMaker-{name}", "s3:GetObject",
                  f"arn:aws:s3:::{bucket}/{key}",
                  "because no identity-based policy allows the s3:GetObject action") + ")"
    )  # fmt: skip
    # trained, but the model cannot be written
    for role, why in (
        ("trains-reads-only", "because no identity-based policy allows the s3:PutObject action"),
        ("trains-denied-by-bucket", "with an explicit deny in a resource-based policy"),
    ):
        name = names[role]
        out = cases[role][1]
        model = f"{out}/output/{name}/output/model.tar.gz"
        assert jobs[role]["FailureReason"] == (
            f"ClientError: Artifact upload failed:Unable to upload object s3://{model} ("
            + refused(role, f"SageMaker-{name}", "s3:PutObject", f"arn:aws:s3:::{model}", why)
            + ")"
        ), role  # fmt: skip
        assert jobs[role]["ModelArtifacts"]["S3ModelArtifacts"] == ""  # no model made it
        listed = s3.list_objects_v2(Bucket=out, Prefix=f"output/{name}/")
        assert listed["KeyCount"] == 0  # nothing was written
    # what the role may do, it does
    done = jobs["trains-everything"]
    assert done["TrainingJobStatus"] == "Completed", done.get("FailureReason")
    written = done["ModelArtifacts"]["S3ModelArtifacts"].split("/", 3)[3]
    assert s3.head_object(Bucket=bucket, Key=written)["ContentLength"] > 0


def test_create_training_job_checks_the_channels_as_the_role(server: CoveServer) -> None:
    """CreateTrainingJob refuses a location without objects up front, listed as the role:
    a location the role may not list is not refused there (that would tell what it holds);
    the job fails listing it."""
    sm = server.client("sagemaker")
    bucket = unique("role-check")
    upload_cancer(server, bucket)  # the bucket holds data, elsewhere
    arn = sagemaker_role(server, "checks-no-policy")
    name = unique("check")
    create_job(sm, name, LINEAR_LEARNER, {"predictor_type": "binary_classifier"},
               both_channels(f"s3://{bucket}/nothing-here"), f"s3://{bucket}/output", role=arn)
    job = wait_for_job(sm, name)
    assert job["FailureReason"].startswith(
        "ClientError: Data download failed:Failed to download data. ListObjectsV2 failed for "
        f"s3://{bucket}/nothing-here/train : AccessDenied: "
    )


def wait_for_job(sm: Any, name: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        job = sm.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return job
        assert time.time() < deadline, job["SecondaryStatus"]
        time.sleep(0.3)


def wait_endpoint(sm: Any, name: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        got = sm.describe_endpoint(EndpointName=name)
        if got["EndpointStatus"] in ("InService", "Failed"):
            return got
        assert time.time() < deadline, got["EndpointStatus"]
        time.sleep(0.3)


def test_an_endpoint_downloads_its_model_as_the_models_role(
    server: CoveServer, tmp_path: Path
) -> None:
    """Outside a VPC the artifact is downloaded as the model's role: an endpoint whose
    role may not read it, by its own policies or the bucket's, fails with AWS's text."""
    s3, sm = server.client("s3"), server.client("sagemaker")
    bucket = unique("role-models")
    model_url = upload(server, pack(sklearn_model(tmp_path / "m")), bucket)
    key = model_url.split("/", 3)[3]
    resource = f"arn:aws:s3:::{bucket}/{key}"
    nothing = sagemaker_role(server, "hosts-no-policy")
    reader = sagemaker_role(server, "hosts-reader", allow(["s3:GetObject"], resource))

    def attempt(role: str) -> tuple[str, dict[str, Any]]:
        name = deploy(server, "sklearn", model_url, role=role, wait=False)
        return name, wait_endpoint(sm, name)

    name, failed = attempt(nothing)
    assert failed["EndpointStatus"] == "Failed"
    assert failed["FailureReason"] == (
        f'Failed to download model data for container "container_1" from URL: "{model_url}". '
        "Please ensure that there is an object located at the URL and that the role passed "
        "to CreateModel has permissions to download the object. ("
        + refused("hosts-no-policy", f"SageMaker-{name}", "s3:GetObject", resource,
                  "because no identity-based policy allows the s3:GetObject action") + ")"
    )  # fmt: skip

    # the bucket's policy is the resource's: its explicit deny wins over the role's allow
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": {"AWS": reader}, "Action": "s3:GetObject",
                       "Resource": resource}]}))  # fmt: skip
    name, denied = attempt(reader)
    assert denied["EndpointStatus"] == "Failed"
    assert denied["FailureReason"].endswith(
        "(" + refused("hosts-reader", f"SageMaker-{name}", "s3:GetObject", resource,
                      "with an explicit deny in a resource-based policy") + ")"
    )  # fmt: skip
    s3.delete_bucket_policy(Bucket=bucket)
    _, served = attempt(reader)
    assert served["EndpointStatus"] == "InService", served.get("FailureReason")
