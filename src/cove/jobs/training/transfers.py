"""SageMaker's transfers for a training job, made as the job's execution role
(network/s3_transfer.py): the channels' listings (or manifest files) and objects before
it trains, its model after. A job with a VpcConfig makes them on its ENI (vpc.py), any
other from the server, as the role's session; either way the role's policies and the
bucket's decide (repost.aws/knowledge-center/sagemaker-s3-accessdenied-training:
CreateTrainingJob's role needs s3:ListBucket, s3:GetObject and s3:PutObject).

How they fail, in FailureReason (after "ClientError: "):

- an object the role may not read: "Data download failed:Unable to download object
  s3://bucket/key (AccessDenied: Access Denied)" (as a job's status reported it:
  github.com/aws/amazon-sagemaker-examples/issues/4384), with S3's own words in the
  parentheses;
- a listing: "Data download failed:Failed to download data. ListObjectsV2 failed for
  s3://bucket/prefix : <S3's answer>" (the words AWS gives a listing that does not reach
  S3, with S3's answer where AWS says "Unable to execute request to S3");
- the model's upload: "Artifact upload failed:Unable to upload object s3://bucket/key
  (AccessDenied: ...)" (Cove's: AWS's prefix for upload failures, github.com/aws/amazon-
  sagemaker-operator-for-k8s/pull/22, with the download's words);
- no way to S3 from the job's subnet: vpc.py's ROUTE_ADVICE.

URIs that are not s3:// ones of Cove's own store (file://, an external S3 service's), and
jobs without a role's credentials, are moved by the artifact store (channels.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cove.jobs.training import channels
from cove.jobs.training.errors import ClientError
from cove.jobs.training.vpc import ROUTE_ADVICE, JobHost
from cove.network.s3_transfer import (
    FromServer,
    Transfer,
    TransferFailed,
    TransferFailure,
    Where,
    transfer,
)
from cove.storage.artifacts import ArtifactStore

DOWNLOAD = "Data download failed:"
UPLOAD = "Artifact upload failed:"


class NoSuchBucket(Exception):
    """A channel's bucket does not exist (listed as the role)."""


class JobTransfers:
    """One job's transfers: as its role (`role_env`, its credentials variables, a grant
    the job releases) from `host`, its ENI, or else from the server."""

    def __init__(
        self, artifacts: ArtifactStore, role_env: dict[str, str], host: JobHost | None = None
    ) -> None:
        self.artifacts = artifacts
        self.role_env = role_env
        self.host = host
        self.where: Where | None = None  # None: the artifact store's own authority
        if host is not None:
            self.where = host.transfers()
        elif role_env and artifacts is not None and artifacts.embedded:
            self.where = FromServer(role_env)

    def _as_role(self, uri: str) -> Where | None:
        return self.where if uri.startswith("s3://") else None

    async def sources(
        self, channel: dict[str, Any], region: str, scratch: Path
    ) -> list[tuple[str, str]]:
        """(object URI, path in the channel's directory) for each object of the channel,
        listed (or its manifest read) as SageMaker does; ClientError, channels.NoObjects."""
        uri, manifest = channels.channel_location(channel)
        where = self._as_role(uri)
        if where is None:
            return await asyncio.to_thread(
                channels.channel_sources, self.artifacts, channel, region
            )
        name = channel["ChannelName"]
        scratch.mkdir(parents=True, exist_ok=True)
        answer = scratch / f".{name}.listing"
        try:
            await self._transfer(Transfer("get" if manifest else "list", uri, answer), where)
            data = await asyncio.to_thread(answer.read_bytes)
        except NoSuchBucket:
            return channels.checked_sources([], uri, region)  # reads like an empty prefix
        finally:
            answer.unlink(missing_ok=True)
        if manifest:
            found = channels.manifest_sources(uri, data, name)
        else:
            found = channels.prefix_sources(uri, json.loads(data))
        return channels.checked_sources(found, uri, region)

    async def download(self, sources: Sequence[tuple[str, str]], dest: Path, uri: str) -> int:
        """A channel's objects into `dest`; the bytes fetched."""
        where = self._as_role(uri)
        if where is None:
            return await asyncio.to_thread(channels.download, self.artifacts, list(sources), dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        await self._transfer(Transfer("get-many", uri, dest, tuple(sources)), where)
        return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())

    async def upload(self, archive: Path, uri: str) -> None:
        where = self._as_role(uri)
        if where is None:
            await asyncio.to_thread(channels.upload_model, self.artifacts, archive, uri)
        else:
            await self._transfer(Transfer("put", uri, archive), where)

    async def _transfer(self, job: Transfer, where: Where) -> None:
        what = UPLOAD if job.op == "put" else DOWNLOAD
        try:
            await transfer(job, where)
        except TransferFailed as exc:
            if self.host is not None and exc.failure is TransferFailure.UNREACHABLE:
                raise ClientError(f"{what}{ROUTE_ADVICE} ({self.host.advice(exc)})") from None
            if job.op == "list" and str(exc).startswith("NoSuchBucket:"):
                raise NoSuchBucket(str(exc)) from None
            if job.op == "list":
                raise ClientError(
                    f"{what}Failed to download data. ListObjectsV2 failed for {job.uri} : {exc}"
                ) from None
            verb = "upload" if job.op == "put" else "download"
            raise ClientError(f"{what}Unable to {verb} object {exc.uri} ({exc})") from None
