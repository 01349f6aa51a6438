"""The S3 transfers SageMaker makes through the network of a VpcConfig, made for real.

Which ones go through the customer's VPC (SageMaker DG, "Give SageMaker AI hosted
endpoints access to resources in your Amazon VPC" and "Give SageMaker AI training jobs
access to resources in your Amazon VPC": without internet access the containers "can't
connect to the Amazon S3 buckets that contain your data unless you create a VPC
endpoint"; AWS's failures say so): the model artifact's download when an endpoint's
instances start ("Failed to download model data from URL ... Please ensure that an S3 VPC
endpoint exists in route table or NAT gateway for the VPC mode and the URL is reachable
from within the subnets provided", as CloudFormation reports an endpoint's failure), a
training job's channel downloads and its output upload ("ClientError: Artifact upload
failed:Please ensure that the subnet's route table has a route to an S3 VPC endpoint or a
NAT device ..."), and the container's own calls.

A transfer is a sandboxed process in the ENI's network namespace with the VPC's resolver,
talking to S3 by its real (regional) names with the execution role's credentials, from
the ENI's container credentials endpoint: the route tables, security groups, gateway
endpoints (and their policies) and interface endpoints decide, as AWS's network does.

`python -m cove.network.s3_transfer get|head|put|list|get-many <s3 uri> <path>` prints one
JSON line: `{"ok": true}` or `{"failure": "unreachable" | "refused", "message": ...}`
(`list` writes the keys under the URI's prefix to `<path>`, a JSON list; `get-many` reads
(object URI, relative path) pairs from `sources.json` beside `<path>` and writes the
objects below `objects/` there).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from urllib.parse import urlparse

from cove.host.network_attachment import NetworkAttachment
from cove.host.process_env import inherited_env
from cove.host.sandbox import Jail, Sandbox

MODULE = "cove.network.s3_transfer"
INSIDE = "/transfer"
OBJECT = "object"
SOURCES = "sources.json"  # get-many: what to fetch
OBJECTS = "objects"  # get-many: where it lands
CONNECT_TIMEOUT = 5  # seconds: a dropped connection (no route) fails this fast
TIMEOUT = 900.0  # seconds a whole transfer may take


class TransferFailure(Enum):
    UNREACHABLE = "unreachable"  # no connection to S3: no route, dropped, no name
    REFUSED = "refused"  # S3 answered with an error (AccessDenied, NoSuchKey, ...)


class TransferFailed(Exception):
    def __init__(self, failure: TransferFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


@dataclass(frozen=True)
class Transfer:
    """One transfer: `get` the object into `local`, `head` it, `put` `local` there, `list`
    the keys under the URI's prefix into `local` (a JSON list), or `get-many` `sources`
    ((object URI, path relative to `local`) pairs) below the directory `local` (`uri` then
    names them all, in messages)."""

    op: str
    uri: str
    local: Path | None = None
    sources: tuple[tuple[str, str], ...] = ()


async def transfer(
    job: Transfer, network: NetworkAttachment, sandbox: Sandbox, work: Path,
    env: dict[str, str],
) -> None:  # fmt: skip
    """Run `job` as a host on `network`; `work` is an empty directory of the server's it
    may use, `env` the role's credentials variables and the region. TransferFailed."""
    await asyncio.to_thread(_prepare, job, work, sandbox)
    binds = (sandbox.place(work, INSIDE, writable=True), *network.binds(sandbox, work))
    argv = [sys.executable, "-m", MODULE, job.op, job.uri, f"{_inside(sandbox, work)}/{OBJECT}"]
    command = network.enter(sandbox.command(argv, Jail(binds), f"S3 transfer {job.uri}"))
    full_env = {**inherited_env("/tmp" if sandbox.enabled else str(work)), **env,
                **network.tls_environment(), "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": "regional"}
    full_env.pop("AWS_ENDPOINT_URL", None)  # S3 by its real names  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *command, env=full_env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise TransferFailed(TransferFailure.UNREACHABLE, f"no answer in {TIMEOUT:g} s") from None
    except BaseException:  # cancelled (its job stopped, the server stopping): it ends too
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        raise
    result = _result(out, err)
    if "failure" in result:
        raise TransferFailed(TransferFailure(result["failure"]), result["message"])
    if job.op in ("get", "list") and job.local is not None:
        await asyncio.to_thread(os.replace, work / OBJECT, job.local)
    elif job.op == "get-many" and job.local is not None:
        await asyncio.to_thread(_move_into, work / OBJECTS, job.local)


def _prepare(job: Transfer, work: Path, sandbox: Sandbox) -> None:
    if job.op == "put" and job.local is not None:
        shutil.copyfile(job.local, work / OBJECT)
    if job.op == "get-many":
        (work / SOURCES).write_text(json.dumps(job.sources))
        (work / OBJECTS).mkdir()
    sandbox.give(work)


def _move_into(source: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        os.replace(entry, dest / entry.name)


def _inside(sandbox: Sandbox, work: Path) -> str:
    return INSIDE if sandbox.enabled else str(work)


def _result(out: bytes, err: bytes) -> dict[str, str]:
    lines = out.decode(errors="replace").strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = err.decode(errors="replace").strip()[-500:]
        return {"failure": TransferFailure.REFUSED.value, "message": f"the transfer failed: {tail}"}


# -- the process ------------------------------------------------------------------------
def _run(op: str, uri: str, path: str) -> dict[str, object]:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    parsed = urlparse(uri)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    config = Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=60,
                    retries={"total_max_attempts": 2})  # fmt: skip
    s3 = boto3.client("s3", config=config)
    try:
        if op == "get":  # GetObject itself (a HEAD first would answer a bare 403)
            _get(s3, bucket, key, path)
        elif op == "get-many":
            _get_many(s3, Path(path).parent)
        elif op == "list":
            _list(s3, bucket, key, path)
        elif op == "head":
            s3.head_object(Bucket=bucket, Key=key)
        else:
            s3.upload_file(path, bucket, key)
    except (ConnectTimeoutError, EndpointConnectionError, ConnectionClosedError,
            ReadTimeoutError) as exc:  # fmt: skip
        return {"failure": TransferFailure.UNREACHABLE.value, "message": str(exc)}
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return {"failure": TransferFailure.REFUSED.value,
                "message": f"{code}: {error.get('Message') or exc}"}  # fmt: skip
    except NoCredentialsError as exc:
        return {"failure": TransferFailure.REFUSED.value, "message": str(exc)}
    return {"ok": True}


def _get(s3: object, bucket: str, key: str, path: str | Path) -> None:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]  # type: ignore[attr-defined]
    with open(path, "wb") as out:
        for chunk in iter(lambda: body.read(1 << 20), b""):
            out.write(chunk)


def _list(s3: object, bucket: str, prefix: str, path: str) -> None:
    pages = s3.get_paginator("list_objects_v2").paginate(  # type: ignore[attr-defined]
        Bucket=bucket, Prefix=prefix
    )
    keys = [item["Key"] for page in pages for item in page.get("Contents", ())]
    Path(path).write_text(json.dumps(keys))


def _get_many(s3: object, work: Path) -> None:
    base = (work / OBJECTS).resolve()
    for uri, rel in json.loads((work / SOURCES).read_text()):
        target = (base / rel).resolve()
        if base not in target.parents:
            raise ValueError(f"{uri}: its path {rel!r} leaves the directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        parsed = urlparse(uri)
        _get(s3, parsed.netloc, parsed.path.lstrip("/"), target)


def main() -> None:
    op, uri, path = sys.argv[1:4]
    print(json.dumps(_run(op, uri, path)), flush=True)


if __name__ == "__main__":
    main()
