"""The training-job state machine: InProgress (Starting -> Downloading -> Training ->
Uploading) -> Completed | Failed | Stopped, one asyncio task per job driving one
subprocess. Every transition is persisted at once, so DescribeTrainingJob always tells
the truth, and a server restart never leaves a job claiming to run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cove.config import Settings
from cove.host.confinement import Confinement
from cove.host.instance_types import Profile, UnknownInstanceType, lookup, profile_for
from cove.host.sandbox import OPT_OUT_ENV, SandboxUnavailable
from cove.identity.vending import RoleCredentials
from cove.jobs.runner import LOG_FILE, JobProcess, job_dir
from cove.jobs.training import channels
from cove.jobs.training.environment import (
    MODEL,
    TrainingEnv,
    read_failure,
    read_metrics,
)
from cove.jobs.training.errors import ClientError, failure_reason
from cove.jobs.training.transfers import JobTransfers
from cove.jobs.training.vpc import JobHost
from cove.network.sagemaker_hosts import SageMakerHosts, credentials_inside
from cove.statuses import TrainingJobStatus
from cove.storage.artifacts import ArtifactStore
from cove.storage.resources import Resource, ResourceStore

log = logging.getLogger(__name__)

STORE_KIND = "training-job"
JOB_KIND = "training"  # directory under <data dir>/jobs
WORKER_MODULE = "cove.jobs.training.worker"
DEFAULT_MAX_RUNTIME = 86400
MAX_REASON = 1024

IN_PROGRESS = TrainingJobStatus.IN_PROGRESS
COMPLETED = TrainingJobStatus.COMPLETED
FAILED = TrainingJobStatus.FAILED
STOPPING = TrainingJobStatus.STOPPING
STOPPED = TrainingJobStatus.STOPPED
ACTIVE = tuple(s for s in TrainingJobStatus if s.active)

# SecondaryStatus -> the StatusMessage SageMaker shows for it
MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job exceeded the MaxRuntimeInSeconds of its StoppingCondition",
}
RESTART_REASON = (
    "InternalServerError: the Cove server stopped while this job was running, so it did not "
    "finish. Create a new training job to train again."
)


class _Stop(Exception):
    """Raised inside a job's task when it must end as Stopped (or, at shutdown, Failed)."""


def initial_state(doc: dict[str, Any], now: float) -> dict[str, Any]:
    return {
        **doc,
        "TrainingJobStatus": IN_PROGRESS,
        "SecondaryStatus": "Starting",
        "SecondaryStatusTransitions": [
            {"Status": "Starting", "StartTime": now, "StatusMessage": MESSAGES["Starting"]}
        ],
    }


class TrainingJobs:
    """Runs every training job of one server and keeps their records current."""

    def __init__(
        self,
        settings: Settings,
        store: ResourceStore,
        artifacts: ArtifactStore,
        confinement: Confinement,
        credentials: RoleCredentials | None = None,
        hosts: Callable[[], SageMakerHosts | None] | None = None,
    ) -> None:
        """`hosts`: where jobs with a VpcConfig get their ENIs (read when a job starts:
        the network fabric is made after the control plane)."""
        self.settings = settings
        self.hosts = hosts or (lambda: None)
        self.confinement = confinement
        self.credentials = credentials  # the jobs' execution roles, for their code
        self.store = store
        self.artifacts = artifacts
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.procs: dict[str, JobProcess] = {}
        self._stoppers: set[asyncio.Task[None]] = set()
        self.closing = False
        self.launched = 0

    # ------------------------------------------------------------------ records

    def _get(self, name: str) -> Resource:
        res = self.store.get(STORE_KIND, name)
        assert res is not None, name
        return res

    def _update(self, name: str, **fields: Any) -> Resource:
        res = self._get(name)
        res.doc.update(fields)
        res.status = res.doc["TrainingJobStatus"]
        return self.store.save(res)

    def _secondary(self, name: str, status: str, message: str | None = None, **fields: Any) -> None:
        """Close the current SecondaryStatusTransitions entry and open `status`."""
        now = time.time()
        doc = self._get(name).doc
        history = list(doc.get("SecondaryStatusTransitions", []))
        if history and "EndTime" not in history[-1]:
            history[-1] = {**history[-1], "EndTime": now}
        entry = {"Status": status, "StartTime": now, "StatusMessage": message or MESSAGES[status]}
        if status in ("Completed", "Failed", "Stopped", "MaxRuntimeExceeded"):
            entry["EndTime"] = now
        history.append(entry)
        self._update(name, SecondaryStatus=status, SecondaryStatusTransitions=history, **fields)

    def _finish(
        self,
        name: str,
        status: str,
        secondary: str,
        message: str,
        end: float | None = None,
        **fields: Any,
    ) -> None:
        doc = self._get(name).doc
        end = end or time.time()
        start = doc.get("TrainingStartTime") or end
        seconds = max(1, math.ceil(end - start))
        count = doc.get("ResourceConfig", {}).get("InstanceCount", 1)
        self._secondary(
            name,
            secondary,
            message,
            TrainingJobStatus=status,
            TrainingEndTime=end,
            TrainingTimeInSeconds=seconds,
            BillableTimeInSeconds=seconds * count,
            **fields,
        )

    # ------------------------------------------------------------------ lifecycle

    def launch(self, name: str) -> None:
        self.tasks[name.lower()] = asyncio.create_task(self._run(name), name=f"training:{name}")

    async def request_stop(self, name: str) -> None:
        """StopTrainingJob: mark Stopping now; the job's task finishes as Stopped."""
        self._update(name, TrainingJobStatus=STOPPING)
        self._secondary(name, "Stopping")
        key = name.lower()
        proc = self.procs.get(key)
        if proc is not None:  # training: SIGTERM the process, its task ends as Stopped
            proc.stop_requested = True
            stopper = asyncio.create_task(proc.stop())
            self._stoppers.add(stopper)
            stopper.add_done_callback(self._stoppers.discard)
        elif key in self.tasks:  # downloading or uploading: end the task itself
            self.tasks[key].cancel()

    async def start(self) -> None:
        """At server start: jobs a previous server left active did not finish. They end
        when their record was last written (the server was not running since)."""
        for res in self.store.list(STORE_KIND):
            if res.status == STOPPING:
                self._finish(res.name, STOPPED, "Stopped", MESSAGES["Stopped"], res.modified)
            elif res.status == IN_PROGRESS:
                self._finish(
                    res.name,
                    FAILED,
                    "Failed",
                    RESTART_REASON,
                    res.modified,
                    FailureReason=RESTART_REASON,
                )

    async def stop(self) -> None:
        """At server shutdown: end every job process; their records say why."""
        self.closing = True
        await asyncio.gather(
            *(p.stop(grace=5) for p in self.procs.values()), return_exceptions=True
        )
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    async def _run(self, name: str) -> None:
        key = name.lower()
        root = job_dir(self.settings.data_dir, JOB_KIND, name)
        try:
            await self._phases(name, root)
        except (_Stop, asyncio.CancelledError):
            self._ended_early(name)
        except ClientError as exc:
            self._fail(name, failure_reason(exc))
        except _JobFailed as exc:
            self._fail(name, str(exc))
        except Exception as exc:
            log.exception("training job %s failed", name)
            self._fail(name, f"InternalServerError: {exc}")
        finally:
            self.tasks.pop(key, None)
            with contextlib.suppress(OSError):
                shutil.rmtree(root / "input" / "data")

    def _ended_early(self, name: str) -> None:
        if self.closing and self._get(name).status == IN_PROGRESS:
            self._fail(name, RESTART_REASON)
        elif self._get(name).status in ACTIVE:
            self._finish(name, STOPPED, "Stopped", MESSAGES["Stopped"])

    def _fail(self, name: str, reason: str) -> None:
        reason = reason[:MAX_REASON]  # DescribeTrainingJob's FailureReason limit
        self._finish(name, FAILED, "Failed", reason, FailureReason=reason)

    async def _phases(self, name: str, root: Path) -> None:
        doc = self._get(name).doc
        inputs = doc.get("InputDataConfig", [])
        env = TrainingEnv(
            root,
            hyperparameters=dict(doc.get("HyperParameters") or {}),
            channels={c["ChannelName"]: _channel_config(c) for c in inputs},
        )
        if root.exists():
            shutil.rmtree(root)
        env.write_config(doc["Algorithm"])
        transfers = await self._transfers(name, root, doc)
        try:
            await self._run_on(name, root, doc, env, transfers)
        finally:
            await self._release(transfers)

    async def check_channels(self, name: str, doc: dict[str, Any]) -> None:
        """CreateTrainingJob's check that each channel's location holds objects, made as
        SageMaker's own (from the server, as the job's role: a location the role may not
        list is the job's to fail on, with the details); channels.NoObjects."""
        transfers = JobTransfers(self.artifacts, self._grant(name, doc))
        scratch = Path(tempfile.mkdtemp(prefix=".check-", dir=self.settings.data_dir))
        try:
            for channel in doc.get("InputDataConfig", []):
                try:
                    await transfers.sources(channel, self.settings.region, scratch)
                except channels.NoObjects:
                    raise
                except ClientError:
                    pass  # e.g. an unreadable manifest: the job fails with the details
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            await self._release(transfers)

    def _grant(self, name: str, doc: dict[str, Any]) -> dict[str, str]:
        """Credentials of the job's role for SageMaker's own transfers, isolated or not
        (session named after the job, as SageMaker's are); {} without a role's."""
        role = doc.get("RoleArn")
        if self.credentials is None or not role:
            return {}
        return self.credentials.environment(role, f"SageMaker-{name}")

    async def _transfers(self, name: str, root: Path, doc: dict[str, Any]) -> JobTransfers:
        """Where the job's transfers are made: its ENI for a job with a VpcConfig."""
        role_env = self._grant(name, doc)
        try:
            host = await self._place(name, root, doc, role_env)
        except BaseException:
            self._ungrant(role_env)
            raise
        return JobTransfers(self.artifacts, role_env, host)

    async def _release(self, transfers: JobTransfers) -> None:
        try:
            if transfers.host is not None:
                await transfers.host.release()
        finally:
            self._ungrant(transfers.role_env)

    def _ungrant(self, role_env: dict[str, str]) -> None:
        if role_env and self.credentials is not None:
            self.credentials.release(role_env)

    async def _place(
        self, name: str, root: Path, doc: dict[str, Any], role_env: dict[str, str]
    ) -> JobHost | None:
        """A job with a VpcConfig: its ENI in one of the subnets (vpc.py)."""
        vpc, hosts = doc.get("VpcConfig"), self.hosts()
        if not vpc:
            return None
        if hosts is None:
            raise ClientError("The job has a VpcConfig, and this Cove builds no VPCs")
        host = await JobHost.place(hosts, name, vpc, role_env, self.confinement.sandbox)
        nic = host.nic
        try:
            _append_log(root, f"Host {nic.private_ips[0]} in subnet {nic.subnet_id} ({nic.az}), "
                              f"ENI {nic.eni_id}")  # fmt: skip
        except BaseException:
            await host.release()  # no JobTransfers holds the host yet to release it
            raise
        return host

    async def _run_on(
        self, name: str, root: Path, doc: dict[str, Any], env: TrainingEnv,
        transfers: JobTransfers,
    ) -> None:  # fmt: skip
        inputs = doc.get("InputDataConfig", [])
        self._secondary(name, "Downloading", TrainingStartTime=time.time())
        for channel in inputs:  # listing and objects, as the job's role
            dest = env.channel_dir(channel["ChannelName"])
            sources = await transfers.sources(channel, self.settings.region, root)
            uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
            size = await transfers.download(sources, dest, uri)
            _append_log(
                root,
                f"Downloaded channel {channel['ChannelName']}: "
                f"{len(sources)} objects, {size} bytes",
            )

        self._secondary(name, "Training")
        code = await self._train(name, root, doc, transfers.host)
        if code != 0:
            raise _JobFailed(
                read_failure(root)
                or (
                    f"AlgorithmError: the training process exited with code {code}; "
                    f"see its log with `cove logs {name}`"
                )
            )

        metrics = read_metrics(root)
        now = time.time()
        final = [{"MetricName": k, "Value": v, "Timestamp": now} for k, v in metrics.items()]
        self._secondary(name, "Uploading", FinalMetricDataList=final)
        uri = channels.model_artifact_uri(doc["OutputDataConfig"]["S3OutputPath"], name)
        archive = await asyncio.to_thread(
            channels.package_model, root / MODEL, root / "model.tar.gz"
        )
        await transfers.upload(archive, uri)
        archive.unlink()
        self._finish(
            name,
            COMPLETED,
            "Completed",
            MESSAGES["Completed"],
            ModelArtifacts={"S3ModelArtifacts": uri},
        )

    def _role_env(self, name: str, doc: dict[str, Any], isolated: bool) -> dict[str, str]:
        """The job's code acts as its RoleArn, a grant of its own; with network isolation
        it gets no credentials at all (SageMaker Developer Guide, "Run training and
        inference containers in internet-free mode")."""
        return {} if isolated else self._grant(name, doc)

    async def _train(
        self, name: str, root: Path, doc: dict[str, Any], host: JobHost | None = None
    ) -> int:
        isolated = bool(doc.get("EnableNetworkIsolation"))
        sandbox = self.confinement.sandbox
        try:
            sandbox.check()
        except SandboxUnavailable as exc:
            raise ClientError(str(exc)) from None
        if isolated and not sandbox.enabled:  # fail closed: never run it with network access
            raise ClientError(
                "EnableNetworkIsolation is set but this server runs jobs without a sandbox "
                f"({OPT_OUT_ENV}=off), so it cannot take the network away. Start the server "
                "with the sandbox or create the job without EnableNetworkIsolation"
            )
        if isolated:
            _append_log(root, "Network isolation: the training process has no network")
        slot = self.launched  # taken before any await: jobs start concurrently
        self.launched += 1
        env, profile = _process_env(doc, slot)
        role_env = self._role_env(name, doc, isolated)
        on_eni = host is not None and not isolated  # isolated: loopback alone, still
        env.update(credentials_inside(role_env) if on_eni else role_env)
        cgroup = None
        if profile is not None and self.confinement.rlimits_only:
            env["COVE_JOB_MEMORY_BYTES"] = str(profile.memory_bytes)
        elif profile is not None:
            cgroup = await asyncio.to_thread(
                self.confinement.cgroup,
                f"job-{slot}",
                profile.memory_bytes,
                len(profile.cpus),
            )
        proc = JobProcess(
            WORKER_MODULE,
            root,
            root / LOG_FILE,
            env,
            self.confinement,
            network=not isolated,
            cgroup=cgroup,
            attachment=host.nic.attachment if host is not None and on_eni else None,
        )
        self.procs[name.lower()] = proc
        proc.start()
        limit = doc.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME)
        started = self._get(name).doc["TrainingStartTime"]
        try:
            code = await asyncio.wait_for(proc.wait(), max(0.0, started + limit - time.time()))
        except TimeoutError:
            await proc.stop()
            self._finish(name, STOPPED, "MaxRuntimeExceeded", MESSAGES["MaxRuntimeExceeded"])
            raise _Stop() from None
        finally:
            self.procs.pop(name.lower(), None)
            self._ungrant(role_env)
        if proc.stop_requested:
            raise _Stop()
        return code


class _JobFailed(Exception):
    """The job's process failed; str() is the complete FailureReason."""


def _channel_config(channel: dict[str, Any]) -> dict[str, Any]:
    keys = ("ContentType", "CompressionType", "RecordWrapperType", "InputMode")
    return {k: channel[k] for k in keys if k in channel}


def _process_env(doc: dict[str, Any], slot: int) -> tuple[dict[str, str], Profile | None]:
    """Pin the job to as many CPUs as its instance type has (capped by the host); the
    profile its cgroup is made from."""
    env = {"PYTHONUNBUFFERED": "1"}
    try:
        itype = lookup(doc.get("ResourceConfig", {}).get("InstanceType", ""))
    except UnknownInstanceType:
        return env, None
    profile = profile_for(itype, slot)
    cpus = ",".join(map(str, profile.cpus))
    return {**env, **profile.thread_env(), "COVE_JOB_CPUS": cpus}, profile


def _append_log(root: Path, line: str) -> None:
    with open(root / LOG_FILE, "a") as out:
        out.write(f"[{time.strftime('%m/%d/%Y %H:%M:%S')} INFO] {line}\n")
