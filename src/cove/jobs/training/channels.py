"""Moving a job's data through the artifact store (server side): each channel's S3
objects into input/data/<channel>/ before training, model/ as model.tar.gz after."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from cove.host.untrusted_files import regular_files
from cove.jobs.training.errors import ClientError
from cove.storage.artifacts import ArtifactError, ArtifactNotFound, ArtifactStore


class NoObjects(ClientError):
    """A channel's S3 location holds no objects (CreateTrainingJob rejects it)."""


def _split(uri: str) -> tuple[str, str]:
    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    return f"{scheme}://{bucket}", key


def channel_location(channel: dict[str, Any]) -> tuple[str, bool]:
    """The channel's S3 URI, and whether it names a manifest file (else a prefix)."""
    source = channel["DataSource"]["S3DataSource"]
    return source["S3Uri"], source.get("S3DataType", "S3Prefix") == "ManifestFile"


def channel_sources(
    artifacts: ArtifactStore, channel: dict[str, Any], region: str
) -> list[tuple[str, str]]:
    """(object URI, path relative to the channel dir) for every object of a channel,
    listed (or its manifest read) on the server."""
    uri, manifest = channel_location(channel)
    try:
        if manifest:
            found = manifest_sources(uri, artifacts.read_bytes(uri), channel["ChannelName"])
        else:
            found = prefix_sources(uri, artifacts.list(uri))
    except ArtifactNotFound:
        found = []  # a missing bucket reads like an empty prefix, as in SageMaker
    except ArtifactError as exc:
        raise ClientError(f"Unable to read the {channel['ChannelName']} channel: {exc}") from None
    return checked_sources(found, uri, region)


def checked_sources(
    found: list[tuple[str, str]], uri: str, region: str
) -> list[tuple[str, str]]:
    """`found`, or SageMaker's error for a channel without objects."""
    if not found:
        bucket = _split(uri)[0].split("://", 1)[-1]
        raise NoObjects(
            f'No S3 objects found under S3 URL "{uri}" given in input data source. Please '
            f"ensure that the bucket exists in the selected region ({region}), that objects "
            f'exist under that S3 prefix, and that bucket "{bucket}" is readable.'
        )
    return found


def prefix_sources(uri: str, keys: list[str]) -> list[tuple[str, str]]:
    """The sources of an S3Prefix channel from the keys (or URIs) listed under it."""
    base, prefix = _split(uri)
    out = []
    for key in keys:
        key = _split(key)[1] if "://" in key else key
        if key.endswith("/"):
            continue  # "folder" marker objects
        rel = key[len(prefix) :].lstrip("/") if key != prefix else key.rsplit("/", 1)[-1]
        out.append((f"{base}/{key}", rel or key.rsplit("/", 1)[-1]))
    return out


def manifest_sources(uri: str, data: bytes, channel: str) -> list[tuple[str, str]]:
    """A manifest is a JSON list: {"prefix": "s3://bucket/path/"} then relative keys."""
    try:
        entries = json.loads(data)
        prefix = entries[0]["prefix"]
        keys = [str(k) for k in entries[1:]]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ClientError(
            f"The {channel} channel's manifest {uri} is not a valid manifest file "
            f'([{{"prefix": "s3://bucket/path/"}}, "relative/key", ...]): {exc}'
        ) from None
    return [(prefix.rstrip("/") + "/" + k, k) for k in keys]


def download(artifacts: ArtifactStore, sources: list[tuple[str, str]], dest: Path) -> int:
    """Copy every source into `dest`; returns the bytes fetched."""
    total = 0
    for uri, rel in sources:
        target = (dest / rel).resolve()
        if dest.resolve() not in target.parents:
            raise ClientError(f"Object key {uri} escapes the channel directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            artifacts.download(uri, target)
        except ArtifactError as exc:
            raise ClientError(f"Data download failed: {exc}") from None
        total += target.stat().st_size
    return total


def package_model(model_dir: Path, archive: Path) -> Path:
    """model/ as model.tar.gz with the files at the archive's root, like SageMaker
    (directories appear through the paths of the files in them)."""
    with tarfile.open(archive, "w:gz") as tar:
        # what the job wrote: regular files only, no link followed (see untrusted_files)
        for path in regular_files(model_dir):
            tar.add(path, arcname=str(path.relative_to(model_dir)), recursive=False)
    return archive


def upload_model(artifacts: ArtifactStore, archive: Path, uri: str) -> None:
    try:
        artifacts.upload(archive, uri)
    except ArtifactError as exc:
        raise ClientError(
            f"Unable to upload the model to {uri}: {exc}. Check OutputDataConfig.S3OutputPath"
        ) from None


def model_artifact_uri(output_path: str, job_name: str) -> str:
    return f"{output_path.rstrip('/')}/{job_name}/output/model.tar.gz"
