"""The S3 transfers SageMaker makes for a model or a job, as its execution role, made for
real: the model artifact's download when an endpoint's instances start, a training job's
channel listings (or manifest files) and objects before it trains, its model after. AWS
makes them with the role's credentials, so the role's policies and the bucket's policy
decide, as for any request (repost.aws/knowledge-center/sagemaker-s3-accessdenied-training:
CreateModel's role needs s3:GetObject, CreateTrainingJob's s3:ListBucket, s3:GetObject and
s3:PutObject, and a bucket policy must allow the role them too).

Where a transfer is made from (`Where`):

- `InSubnet`: a model or job with a VpcConfig is a host in its subnets, and so are its
  transfers (SageMaker DG, "Give SageMaker AI hosted endpoints access to resources in your
  Amazon VPC" and "Give SageMaker AI training jobs access to resources in your Amazon
  VPC": without internet access the containers "can't connect to the Amazon S3 buckets
  that contain your data unless you create a VPC endpoint"; AWS's failures say so). A
  sandboxed process in the ENI's network namespace with the VPC's resolver talks to S3 by
  its real (regional) names with the role's credentials from the ENI's container
  credentials endpoint: the route tables, security groups, gateway endpoints (and their
  policies) and interface endpoints decide, as AWS's network does.
- `FromServer`: any other is made by the server itself (a thread of its own), as the
  role's session with credentials from the same container credentials endpoint, signed
  requests to Cove's own S3 endpoint: authorized like every other request.

Both run the same calls (`_run`). `python -m cove.network.s3_transfer get|head|put|list|
get-many <s3 uri> <path>` prints one JSON line: `{"ok": true}` or `{"failure":
"unreachable" | "refused", "message": ..., "uri": ...}` (`list` writes the keys under the
URI's prefix to `<path>`, a JSON list; `get-many` reads (object URI, relative path) pairs
from `sources.json` beside `<path>` and writes the objects below `objects/` there; a
failure's `uri` names the object at fault).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol
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
# The server's own transfers wait on requests its event loop answers: they get threads of
# their own, never the default executor's, which the S3 handlers themselves run on.
_THREADS = ThreadPoolExecutor(4, "s3-as-role")


class TransferFailure(Enum):
    UNREACHABLE = "unreachable"  # no connection to S3: no route, dropped, no name
    REFUSED = "refused"  # S3 answered with an error (AccessDenied, NoSuchKey, ...)


class TransferFailed(Exception):
    """str() is S3's answer ("AccessDenied: ..."); `uri` the object it was about."""

    def __init__(self, failure: TransferFailure, message: str, uri: str = "") -> None:
        super().__init__(message)
        self.failure = failure
        self.uri = uri


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


class Where(Protocol):
    """Where a transfer's S3 calls are made from."""

    async def execute(self, job: Transfer, work: Path) -> dict[str, Any]:
        """The calls of `job`, its files in the scratch directory `work`: `_run`'s answer."""
        ...


async def transfer(job: Transfer, where: Where) -> None:
    """`job` made from `where`, in a scratch directory beside its local file;
    TransferFailed."""
    parent = job.local.parent if job.local else None
    work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=".transfer-", dir=parent))
    try:
        await asyncio.to_thread(_prepare, job, work)
        result = await where.execute(job, work)
        if "failure" in result:
            raise TransferFailed(TransferFailure(result["failure"]), result["message"],
                                 result.get("uri") or job.uri)  # fmt: skip
        if job.op in ("get", "list") and job.local is not None:
            await asyncio.to_thread(os.replace, work / OBJECT, job.local)
        elif job.op == "get-many" and job.local is not None:
            await asyncio.to_thread(_move_into, work / OBJECTS, job.local)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)


@dataclass(frozen=True)
class InSubnet:
    """A host on `network` (an ENI): a sandboxed process in its namespace; `env` the role's
    credentials variables as asked on the ENI (sagemaker_hosts.credentials_inside)."""

    network: NetworkAttachment
    sandbox: Sandbox
    env: dict[str, str]

    async def execute(self, job: Transfer, work: Path) -> dict[str, Any]:
        sandbox, network = self.sandbox, self.network
        await asyncio.to_thread(sandbox.give, work)
        binds = (sandbox.place(work, INSIDE, writable=True),
                 *await asyncio.to_thread(network.binds, sandbox, work))  # fmt: skip
        inside = INSIDE if sandbox.enabled else str(work)
        argv = [sys.executable, "-m", MODULE, job.op, job.uri, f"{inside}/{OBJECT}"]
        command = network.enter(sandbox.command(argv, Jail(binds), f"S3 transfer {job.uri}"))
        env = {
            **inherited_env("/tmp" if sandbox.enabled else str(work)),
            **self.env,
            **network.tls_environment(),
            "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": "regional",
        }
        env.pop("AWS_ENDPOINT_URL", None)  # S3 by its real names  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            *command, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return _failure(TransferFailure.UNREACHABLE, f"no answer in {TIMEOUT:g} s")
        except BaseException:  # cancelled (its job stopped, the server stopping): it ends too
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise
        return _result(out, err)


@dataclass(frozen=True)
class FromServer:
    """The server's own thread, as the role: `env` the role's credentials variables
    (identity/vending.py's: the container credentials endpoint and its token, Cove's
    endpoint URL and region)."""

    env: dict[str, str]

    async def execute(self, job: Transfer, work: Path) -> dict[str, Any]:
        stop = threading.Event()
        call = asyncio.get_running_loop().run_in_executor(
            _THREADS, _run_here, job.op, job.uri, str(work / OBJECT), self.env, stop
        )
        try:
            return await asyncio.wait_for(call, TIMEOUT)
        except TimeoutError:
            return _failure(TransferFailure.UNREACHABLE, f"no answer in {TIMEOUT:g} s")
        finally:
            stop.set()  # cancelled or over: the thread stops at its next chunk


def _prepare(job: Transfer, work: Path) -> None:
    if job.op == "put" and job.local is not None:
        shutil.copyfile(job.local, work / OBJECT)
    if job.op == "get-many":
        (work / SOURCES).write_text(json.dumps(job.sources))
        (work / OBJECTS).mkdir()


def _move_into(source: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        os.replace(entry, dest / entry.name)


def _failure(failure: TransferFailure, message: str, uri: str = "") -> dict[str, Any]:
    return {"failure": failure.value, "message": message, "uri": uri}


def _result(out: bytes, err: bytes) -> dict[str, Any]:
    lines = out.decode(errors="replace").strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = err.decode(errors="replace").strip()[-500:]
        return _failure(TransferFailure.REFUSED, f"the transfer failed: {tail}")


# -- the calls, in the process or in the server's thread ----------------------------------
class _Stopped(Exception):
    """The server's transfer was cancelled (its job stopped): its thread ends too."""


_loader: Any = None  # the server's threads share botocore's loaded models


def _config() -> Any:
    from botocore.config import Config

    return Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=60,
                  retries={"total_max_attempts": 2})  # fmt: skip


def _client_as(env: dict[str, str]) -> Any:
    """An S3 client of the role `env` names: its credentials from the container
    credentials endpoint (botocore's ContainerProvider, renewed as they expire), Cove's
    endpoint, nothing of the server's own environment's credentials."""
    global _loader
    import boto3
    import botocore.session
    from botocore.credentials import ContainerProvider, CredentialResolver

    session = botocore.session.Session()
    if _loader is None:
        _loader = session.get_component("data_loader")
    session.register_component("data_loader", _loader)
    session.register_component(
        "credential_provider", CredentialResolver([ContainerProvider(environ=env)])
    )
    return boto3.Session(botocore_session=session).client(
        "s3", region_name=env.get("AWS_REGION"), endpoint_url=env.get("AWS_ENDPOINT_URL"),
        config=_config(),
    )  # fmt: skip


def _run_here(
    op: str, uri: str, path: str, env: dict[str, str], stop: threading.Event
) -> dict[str, Any]:
    return _run(_client_as(env), op, uri, path, stop)


def _run(
    s3: Any, op: str, uri: str, path: str, stop: threading.Event | None = None
) -> dict[str, Any]:
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        CredentialRetrievalError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    parsed = urlparse(uri)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    at = [uri]  # the object the calls are about (get-many: each in turn)
    try:
        if op == "get":  # GetObject itself (a HEAD first would answer a bare 403)
            _get(s3, bucket, key, path, stop)
        elif op == "get-many":
            _get_many(s3, Path(path).parent, at, stop)
        elif op == "list":
            _list(s3, bucket, key, path)
        elif op == "head":
            s3.head_object(Bucket=bucket, Key=key)
        else:
            _put(s3, path, bucket, key)
    except (ConnectTimeoutError, EndpointConnectionError, ConnectionClosedError,
            ReadTimeoutError) as exc:  # fmt: skip
        return _failure(TransferFailure.UNREACHABLE, str(exc), at[0])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return _failure(TransferFailure.REFUSED, f"{code}: {error.get('Message') or exc}", at[0])
    except (NoCredentialsError, CredentialRetrievalError, ValueError) as exc:
        # no credentials (the role is gone), or (ValueError) a path out of `work`
        return _failure(TransferFailure.REFUSED, str(exc), at[0])
    except _Stopped:
        return _failure(TransferFailure.UNREACHABLE, "stopped", at[0])
    return {"ok": True}


def _get(s3: Any, bucket: str, key: str, path: str | Path,
         stop: threading.Event | None = None) -> None:  # fmt: skip
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with open(path, "wb") as out:
        for chunk in iter(lambda: body.read(1 << 20), b""):
            if stop is not None and stop.is_set():
                raise _Stopped()
            out.write(chunk)


def _put(s3: Any, path: str, bucket: str, key: str) -> None:
    """upload_file, failing with S3's own error (boto3 wraps it in S3UploadFailedError,
    the ClientError only its context)."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError

    try:
        s3.upload_file(path, bucket, key)
    except S3UploadFailedError as exc:
        if isinstance(exc.__context__, ClientError):
            raise exc.__context__ from None
        raise


def _list(s3: Any, bucket: str, prefix: str, path: str) -> None:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = [item["Key"] for page in pages for item in page.get("Contents", ())]
    Path(path).write_text(json.dumps(keys))


def _get_many(s3: Any, work: Path, at: list[str], stop: threading.Event | None) -> None:
    base = (work / OBJECTS).resolve()
    for uri, rel in json.loads((work / SOURCES).read_text()):
        at[0] = uri
        target = (base / rel).resolve()
        if base not in target.parents:
            raise ValueError(f"{uri}: its path {rel!r} leaves the directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        parsed = urlparse(uri)
        _get(s3, parsed.netloc, parsed.path.lstrip("/"), target, stop)


def main() -> None:
    """The process on an ENI: its credentials and S3's names from its environment."""
    import boto3

    op, uri, path = sys.argv[1:4]
    print(json.dumps(_run(boto3.client("s3", config=_config()), op, uri, path)), flush=True)


if __name__ == "__main__":
    main()
