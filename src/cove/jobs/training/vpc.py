"""A training job with a VpcConfig is a host in one of its subnets (SageMaker DG, "Give
SageMaker AI training jobs access to resources in your Amazon VPC": its ENI in one of the
subnets with the job's security groups, at least 2 private IP addresses; without internet
access its containers "can't connect to the Amazon S3 buckets that contain your training
data unless you create a VPC endpoint"). Its process runs on that ENI, and SageMaker's own
transfers go through the VPC too, as the job's role: the channels' listings (or manifest
files) and objects before training, the model after.

With no way to S3 the job fails as SageMaker's do: "ClientError: Artifact upload
failed:Please ensure that the subnet's route table has a route to an S3 VPC endpoint or a
NAT device, and both the security groups and the subnet's network ACL allow outbound
traffic to S3" (as a job's status reports it: github.com/aws/amazon-sagemaker-operator-
for-k8s/pull/22); a channel that cannot be downloaded says the same after "Data download
failed:" (Cove's extrapolation of that text), and Cove adds which route table needs what."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cove.host.sandbox import Sandbox
from cove.jobs.training import channels
from cove.jobs.training.errors import ClientError
from cove.network.s3_transfer import Transfer, TransferFailed, TransferFailure
from cove.network.sagemaker_hosts import (
    HostNic,
    PlacementFailed,
    SageMakerHosts,
    credentials_inside,
    description,
    subnet_zones,
)


class NoSuchBucket(Exception):
    """A channel's bucket does not exist (listed through the VPC)."""


ROUTE_ADVICE = (
    "Please ensure that the subnet's route table has a route to an S3 VPC endpoint or a NAT "
    "device, and both the security groups and the subnet's network ACL allow outbound "
    "traffic to S3"
)


class JobHost:
    """The job's ENI, and SageMaker's transfers made through it."""

    def __init__(
        self, hosts: SageMakerHosts, nic: HostNic, role_env: dict[str, str], sandbox: Sandbox
    ) -> None:
        self.hosts = hosts
        self.nic = nic
        self.role_env = role_env  # its grant, released with the job
        self.env = credentials_inside(role_env)  # the job's role, asked on its ENI
        self.sandbox = sandbox

    @classmethod
    async def place(
        cls, hosts: SageMakerHosts, name: str, vpc: dict[str, Any], role_env: dict[str, str],
        sandbox: Sandbox,
    ) -> JobHost:  # fmt: skip
        """An ENI in the first AZ of the job's subnets (one with room); ClientError."""
        subnets, groups = vpc["Subnets"], vpc["SecurityGroupIds"]
        zones = subnet_zones(hosts.store, subnets)
        zone = zones[0][1] if zones else ""
        try:
            key = description(f"training job {name}", "algo-1")
            nic = await hosts.attach(subnets, groups, zone, [], key)
        except PlacementFailed as exc:
            raise ClientError(str(exc)) from None
        return cls(hosts, nic, role_env, sandbox)

    async def sources(
        self, channel: dict[str, Any], region: str, scratch: Path
    ) -> list[tuple[str, str]]:
        """The channel's objects, listed (or its manifest read) through the VPC as the
        job's role, as SageMaker lists them; ClientError."""
        uri, manifest = channels.channel_location(channel)
        name = channel["ChannelName"]
        scratch.mkdir(parents=True, exist_ok=True)
        answer = scratch / f".{name}.listing"
        job = Transfer("get" if manifest else "list", uri, answer)
        try:
            await self._transfer(job, "Data download failed:")
            data = await asyncio.to_thread(answer.read_bytes)
        except NoSuchBucket:
            return channels.checked_sources([], uri, region)  # reads like an empty prefix
        finally:
            answer.unlink(missing_ok=True)
        if manifest:
            return channels.checked_sources(channels.manifest_sources(uri, data, name), uri,
                                            region)  # fmt: skip
        return channels.checked_sources(channels.prefix_sources(uri, json.loads(data)), uri,
                                        region)  # fmt: skip

    async def download(self, sources: Sequence[tuple[str, str]], dest: Path, uri: str) -> int:
        """A channel's objects into `dest`; the bytes fetched."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        job = Transfer("get-many", uri, dest, tuple(sources))
        await self._transfer(job, "Data download failed:")
        return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())

    async def upload(self, archive: Path, uri: str) -> None:
        await self._transfer(Transfer("put", uri, archive), "Artifact upload failed:")

    async def release(self) -> None:
        await self.hosts.release(self.nic)

    async def _transfer(self, job: Transfer, what: str) -> None:
        try:
            await self.hosts.transfer(self.nic, job, self.env, self.sandbox)
        except TransferFailed as exc:
            if exc.failure is TransferFailure.REFUSED:
                if job.op == "list" and str(exc).startswith("NoSuchBucket:"):
                    raise NoSuchBucket(str(exc)) from None
                raise ClientError(f"{what} {job.uri}: {exc}") from None
            advice = self.hosts.s3_advice(self.nic, exc, "job's")
            raise ClientError(f"{what}{ROUTE_ADVICE} ({advice})") from None
