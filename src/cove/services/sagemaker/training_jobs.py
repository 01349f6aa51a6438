"""CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob.

Registered with the control plane through HANDLER_PROVIDERS ("cove.services.sagemaker.training_jobs:
handlers"); the job runner starts and stops with the server through the context's hooks.
"""

from __future__ import annotations

import time
from typing import Any

from cove.control.context import ControlContext
from cove.control.listing import list_resources
from cove.control.vpc import check_vpc_config
from cove.errors import AwsError, validation_error
from cove.gateway.json_service import Handler
from cove.http.messages import RequestContext
from cove.jobs.training import channels, lifecycle
from cove.jobs.training.images import algorithm_for
from cove.jobs.training.lifecycle import STORE_KIND, TrainingJobs
from cove.storage.resources import AlreadyExists, Resource

# CreateTrainingJob members kept in the job's record and echoed by DescribeTrainingJob.
_STORED = (
    "HyperParameters",
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "VpcConfig",
    "StoppingCondition",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "Environment",
    "RetryStrategy",
    "ExperimentConfig",
    "Tags",
)


def not_found() -> AwsError:
    # SageMaker answers a missing training job this way, not with ResourceNotFound.
    return validation_error("Requested resource not found.")


def _check_request(params: dict[str, Any]) -> str:
    """What SageMaker checks beyond the service model; returns the algorithm to run."""
    spec = params["AlgorithmSpecification"]
    if spec.get("AlgorithmName"):
        raise validation_error(
            "Cove does not run algorithm resources (AlgorithmName); specify the built-in "
            "algorithm's TrainingImage instead."
        )
    if not spec.get("TrainingImage"):
        raise validation_error("Either TrainingImage or AlgorithmName must be specified.")
    names = [c["ChannelName"] for c in params.get("InputDataConfig", [])]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise validation_error(f"Channel names must be unique: {', '.join(duplicates)}.")
    for channel in params.get("InputDataConfig", []):
        source = channel["DataSource"]
        if "S3DataSource" not in source:
            raise validation_error(
                f"Channel {channel['ChannelName']}: Cove reads training data from "
                "S3DataSource only."
            )
        data_type = source["S3DataSource"].get("S3DataType")
        if data_type not in ("S3Prefix", "ManifestFile"):
            raise validation_error(
                f"Channel {channel['ChannelName']}: S3DataType {data_type} is not supported; "
                "use S3Prefix or ManifestFile."
            )
    return algorithm_for(spec["TrainingImage"])


def describe(res: Resource) -> dict[str, Any]:
    doc = res.doc
    return {
        **{k: v for k, v in doc.items() if k != "Algorithm"},
        "TrainingJobName": res.name,
        "TrainingJobArn": res.arn,
        "CreationTime": res.created,
        "LastModifiedTime": res.modified,
        # required by the output shape; SageMaker reports an empty one until training ends
        "ModelArtifacts": doc.get("ModelArtifacts") or {"S3ModelArtifacts": ""},
    }


def _summary(res: Resource) -> dict[str, Any]:
    return {
        "TrainingJobName": res.name,
        "TrainingJobArn": res.arn,
        "CreationTime": res.created,
        "TrainingEndTime": res.doc.get("TrainingEndTime"),
        "LastModifiedTime": res.modified,
        "TrainingJobStatus": res.status,
        "SecondaryStatus": res.doc.get("SecondaryStatus"),
    }


def handlers(control: ControlContext) -> dict[str, Handler]:
    settings, store = control.settings, control.resources
    jobs = TrainingJobs(
        settings, store, control.artifacts, control.confinement, control.credentials,
        lambda: control.hosts,
    )  # fmt: skip
    control.on_start.append(jobs.start)
    control.on_stop.append(jobs.stop)

    def arn(name: str) -> str:
        return settings.arn("sagemaker", f"training-job/{name.lower()}")

    def get(name: str) -> Resource:
        res = store.get(STORE_KIND, name)
        if res is None:
            raise not_found()
        return res

    async def create(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["TrainingJobName"]
        if store.get(STORE_KIND, name) is not None:
            raise _in_use(arn(name))
        algorithm = _check_request(params)
        if params.get("VpcConfig") and control.network is not None:
            check_vpc_config(control.network, params["VpcConfig"])
        # Like SageMaker, an input location without objects is refused up front.
        try:
            await jobs.check_channels(name, params)
        except channels.NoObjects as exc:
            raise validation_error(str(exc)) from None
        doc = {key: params[key] for key in _STORED if key in params}
        doc["Algorithm"] = algorithm
        doc.setdefault("EnableNetworkIsolation", False)
        doc.setdefault("StoppingCondition", {"MaxRuntimeInSeconds": lifecycle.DEFAULT_MAX_RUNTIME})
        doc = lifecycle.initial_state(doc, time.time())
        try:
            store.create(STORE_KIND, name, arn(name), doc, lifecycle.IN_PROGRESS)
        except AlreadyExists:
            raise _in_use(arn(name)) from None
        jobs.launch(name)
        return {"TrainingJobArn": arn(name)}

    def describe_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return describe(get(params["TrainingJobName"]))

    def list_jobs(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return list_resources(store.list(STORE_KIND), params, _summary, "TrainingJobSummaries")

    async def stop_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        res = get(params["TrainingJobName"])
        if res.status != lifecycle.IN_PROGRESS:
            raise validation_error(
                f"The request was rejected because the training job is in status {res.status}."
            )
        await jobs.request_stop(res.name)
        return {}

    return {
        "CreateTrainingJob": create,
        "DescribeTrainingJob": describe_job,
        "ListTrainingJobs": list_jobs,
        "StopTrainingJob": stop_job,
    }


def _in_use(job_arn: str) -> AwsError:
    return AwsError(
        "ResourceInUse",
        "Training job names must be unique within an AWS account and region, and a training "
        f"job with this name already exists ({job_arn})",
    )
