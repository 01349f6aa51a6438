"""Training jobs end to end with boto3: train -> deploy -> invoke for both built-in
algorithms, the job state machine, failures, stop, runtime limit and restart."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError
from training_support import (
    LINEAR_LEARNER,
    SEED_ROW,
    XGBOOST,
    aws_environment,
    both_channels,
    cancer_rows,
    channel,
    create_job,
    deploy,
    job_processes,
    long_job,
    to_csv,
    unique,
    upload_cancer,
    wait_done,
    wait_process,
    wait_secondary,
)


def wait_failed(sm: Any, name: str) -> dict[str, Any]:
    with pytest.raises(WaiterError):  # the waiter treats Failed as a failure
        wait_done(sm, name)
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Failed" and job["SecondaryStatus"] == "Failed"
    return job


def test_linear_learner_train_deploy_invoke(server) -> None:
    sm, s3 = server.client("sagemaker"), server.client("s3")
    name = unique("ll")
    data = upload_cancer(server, name)
    arn = create_job(sm, name, LINEAR_LEARNER,
                     {"predictor_type": "binary_classifier", "epochs": "10"},
                     both_channels(data), f"s3://{name}/output")
    assert arn == f"arn:aws:sagemaker:us-east-1:000000000000:training-job/{name}"
    assert sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] == "InProgress"

    job = wait_done(sm, name)
    assert job["TrainingJobStatus"] == "Completed" and job["SecondaryStatus"] == "Completed"
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all("EndTime" in t for t in job["SecondaryStatusTransitions"])
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert metrics["validation:binary_classification_accuracy"] >= 0.9
    assert {"train:objective_loss", "validation:objective_loss"} <= metrics.keys()
    assert job["TrainingStartTime"] <= job["TrainingEndTime"]
    assert job["BillableTimeInSeconds"] >= 1 and job["TrainingTimeInSeconds"] >= 1
    assert job["HyperParameters"]["epochs"] == "10"
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"s3://{name}/output/{name}/output/model.tar.gz"
    assert s3.head_object(Bucket=name, Key=f"output/{name}/output/model.tar.gz")["ContentLength"]

    summaries = sm.list_training_jobs(NameContains=name, StatusEquals="Completed")
    assert [s["TrainingJobName"] for s in summaries["TrainingJobSummaries"]] == [name]

    logs = subprocess.run([sys.executable, "-m", "cove.cli", "logs", name, "--data-dir",
                           str(server.data_dir)], capture_output=True, text=True, check=True)
    assert "#progress epoch=1" in logs.stdout and "Training complete" in logs.stdout

    deploy(sm, name, LINEAR_LEARNER, artifact)
    runtime = server.client("sagemaker-runtime")
    reply = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv",
                                    Body=f"{SEED_ROW}\n{SEED_ROW}")
    assert reply["ContentType"] == "application/json"
    predictions = json.loads(reply["Body"].read())["predictions"]
    assert [p["predicted_label"] for p in predictions] == [0, 0]
    assert 0 <= predictions[0]["score"] < 0.5
    features = [float(v) for v in SEED_ROW.split(",")]
    reply = runtime.invoke_endpoint(EndpointName=name, ContentType="application/json",
                                    Body=json.dumps({"instances": [{"features": features}]}))
    assert json.loads(reply["Body"].read())["predictions"][0]["predicted_label"] == 0


def test_xgboost_train_deploy_invoke(server) -> None:
    sm = server.client("sagemaker")
    name = unique("xgb")
    data = upload_cancer(server, name)
    create_job(sm, name, XGBOOST,
               {"objective": "binary:logistic", "num_round": "15", "max_depth": "3",
                "eta": "0.3", "eval_metric": "error,logloss"},
               both_channels(data), f"s3://{name}/output")
    job = wait_done(sm, name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert metrics["validation:error"] < 0.1
    assert {"train:error", "train:logloss", "validation:logloss"} <= metrics.keys()

    deploy(sm, name, "xgboost", job["ModelArtifacts"]["S3ModelArtifacts"])
    reply = server.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=name, ContentType="text/csv", Body=SEED_ROW)
    assert float(reply["Body"].read().decode()) < 0.5  # benign, like the seed's answer


def test_failures_say_what_to_fix(server) -> None:
    sm, s3 = server.client("sagemaker"), server.client("s3")
    bucket = unique("fail")
    data = upload_cancer(server, bucket)
    s3.put_object(Bucket=bucket, Key="header/train.csv", Body=b"label,a,b\n1,2,3\n0,1,1\n")
    train, validation = both_channels(data)
    binary = {"predictor_type": "binary_classifier"}
    cases = [
        (LINEAR_LEARNER, binary, [validation], "ClientError: Missing required channel: train"),
        (LINEAR_LEARNER, binary, [channel("train", f"s3://{bucket}/header/")],
         "must not have a header row"),
        (LINEAR_LEARNER, {**binary, "epoch": "3"}, [train],
         "ClientError: Extraneous hyperparameter found: epoch (did you mean 'epochs'?)"),
        (LINEAR_LEARNER, {"predictor_type": "binary"}, [train],
         "ClientError: Hyperparameter predictor_type: 'binary' is not one of"),
        (LINEAR_LEARNER, {**binary, "mini_batch_size": "-5"}, [train],
         "ClientError: Hyperparameter mini_batch_size: -5 is not in"),
        (XGBOOST, {"objective": "binary:logistic"}, [train],
         "ClientError: Missing required hyperparameter: num_round"),
    ]
    names = []
    for image, hp, channels, _ in cases:
        names.append(unique("fail"))
        create_job(sm, names[-1], image, hp, channels, f"s3://{bucket}/output")
    for name, (_, _, _, reason) in zip(names, cases, strict=True):
        job = wait_failed(sm, name)
        assert reason in job["FailureReason"], job["FailureReason"]
        assert job["SecondaryStatusTransitions"][-1]["StatusMessage"] == job["FailureReason"]
        assert "ModelArtifacts" not in job or not job["ModelArtifacts"]["S3ModelArtifacts"]
    assert sm.list_training_jobs(NameContains="fail-", StatusEquals="Failed",
                                 MaxResults=100)["TrainingJobSummaries"]


def test_request_errors(server) -> None:
    sm = server.client("sagemaker")
    name = unique("req")
    data = upload_cancer(server, name)
    hp = {"predictor_type": "binary_classifier"}

    with pytest.raises(ClientError) as err:
        create_job(sm, unique("req"), LINEAR_LEARNER, hp,
                   [channel("train", f"s3://{name}/nothing-here/")], f"s3://{name}/out")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "No S3 objects found under S3 URL" in err.value.response["Error"]["Message"]

    with pytest.raises(ClientError) as err:
        create_job(sm, unique("req"), "123456789012.dkr.ecr.us-east-1.amazonaws.com/kmeans:1",
                   hp, [channel("train", f"{data}/train")], f"s3://{name}/out")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "linear-learner" in err.value.response["Error"]["Message"]

    create_job(sm, name, LINEAR_LEARNER, hp, [channel("train", f"{data}/train")],
               f"s3://{name}/out")
    with pytest.raises(ClientError) as err:
        create_job(sm, name.upper(), LINEAR_LEARNER, hp, [channel("train", f"{data}/train")],
                   f"s3://{name}/out")
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    wait_done(sm, name)

    with pytest.raises(ClientError) as err:
        sm.stop_training_job(TrainingJobName=name)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as err:
        sm.describe_training_job(TrainingJobName=unique("missing"))
    assert err.value.response["Error"]["Message"] == "Requested resource not found."

    first = sm.list_training_jobs(MaxResults=1, SortBy="Name", SortOrder="Ascending")
    assert len(first["TrainingJobSummaries"]) == 1 and first["NextToken"]
    second = sm.list_training_jobs(MaxResults=1, SortBy="Name", SortOrder="Ascending",
                                   NextToken=first["NextToken"])
    assert second["TrainingJobSummaries"][0]["TrainingJobName"] > \
        first["TrainingJobSummaries"][0]["TrainingJobName"]


def test_stop_training_job_stops_the_process(server) -> None:
    sm = server.client("sagemaker")
    name = unique("stop")
    long_job(server, name)
    wait_secondary(sm, name, "Training")
    pid = wait_process(name)
    # a job that is not isolated acts as its role (what the isolated one must not get)
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in aws_environment(pid)
    sm.stop_training_job(TrainingJobName=name)
    assert sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] in (
        "Stopping", "Stopped")
    job = wait_done(sm, name)
    assert job["TrainingJobStatus"] == "Stopped" and job["SecondaryStatus"] == "Stopped"
    assert "Stopping" in [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert job_processes(name) == []


def test_max_runtime_stops_the_job(server) -> None:
    sm = server.client("sagemaker")
    name = unique("slow")
    long_job(server, name, max_runtime=2)
    job = wait_done(sm, name)
    assert job["TrainingJobStatus"] == "Stopped"
    assert job["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert job_processes(name) == []


def test_restart_fails_the_running_job_with_a_reason(make_server) -> None:
    srv = make_server()
    sm = srv.client("sagemaker")
    name = unique("restart")
    long_job(srv, name)
    wait_secondary(sm, name, "Training")
    assert srv.stop() == []  # the job's process went with the server
    assert job_processes(name) == []
    srv = make_server(data_dir=srv.data_dir)
    job = srv.client("sagemaker").describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Failed"
    assert "server stopped while this job was running" in job["FailureReason"]


def test_manifest_gzip_and_libsvm_inputs(server) -> None:
    """ManifestFile channels, CompressionType=Gzip, and LibSVM sniffed for XGBoost."""
    sm, s3 = server.client("sagemaker"), server.client("s3")
    bucket = unique("inputs")
    s3.create_bucket(Bucket=bucket)
    train, _ = cancer_rows()
    libsvm = "\n".join(
        f"{int(r[0])} " + " ".join(f"{i + 1}:{v:g}" for i, v in enumerate(r[1:])) for r in train
    )
    half = len(libsvm) // 2
    cut = libsvm.index("\n", half)
    s3.put_object(Bucket=bucket, Key="svm/a.txt", Body=libsvm[:cut].encode())
    s3.put_object(Bucket=bucket, Key="svm/b.txt", Body=libsvm[cut + 1 :].encode())
    manifest = [{"prefix": f"s3://{bucket}/svm/"}, "a.txt", "b.txt"]
    s3.put_object(Bucket=bucket, Key="svm.manifest", Body=json.dumps(manifest).encode())
    s3.put_object(Bucket=bucket, Key="gz/train.csv.gz", Body=gzip.compress(to_csv(train)))

    xgb_channel = channel("train", f"s3://{bucket}/svm.manifest", content_type=None)
    xgb_channel["DataSource"]["S3DataSource"]["S3DataType"] = "ManifestFile"
    create_job(sm, f"{bucket}-xgb", XGBOOST, {"objective": "binary:logistic", "num_round": "5"},
               [xgb_channel], f"s3://{bucket}/out")
    gz_channel = {**channel("train", f"s3://{bucket}/gz/"), "CompressionType": "Gzip"}
    create_job(sm, f"{bucket}-ll", LINEAR_LEARNER, {"predictor_type": "binary_classifier"},
               [gz_channel], f"s3://{bucket}/out")
    for name in (f"{bucket}-xgb", f"{bucket}-ll"):
        job = wait_done(sm, name)
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
        loss = metrics.get("train:logloss", metrics.get("train:objective_loss"))
        assert loss is not None and loss < 0.5


def test_network_isolation_runs_the_job_without_network(server) -> None:
    sm = server.client("sagemaker")
    name = unique("isolated")
    long_job(server, name, EnableNetworkIsolation=True)
    wait_secondary(sm, name, "Training")
    pid = wait_process(name)
    assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
    assert Path(f"/proc/{pid}/net/dev").read_text().count(":") == 1  # only a down loopback
    # and no credentials: "no AWS credentials are made available to the container runtime
    # environment" (SageMaker Developer Guide, "Run training and inference containers in
    # internet-free mode",
    # https://docs.aws.amazon.com/sagemaker/latest/dg/mkt-algo-model-internet-free.html)
    assert aws_environment(pid) == []
    sm.stop_training_job(TrainingJobName=name)
    job = wait_done(sm, name)
    assert job["TrainingJobStatus"] == "Stopped" and job["EnableNetworkIsolation"] is True
