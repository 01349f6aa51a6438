"""Cove under test: `cove server`, the model uploaded to its embedded S3 and deployed through
the SageMaker API, then real SigV4-signed InvokeEndpoint requests.

wrk cannot sign each request, so boto3 builds and signs one InvokeEndpoint request exactly
as it would send it (captured just before it hits the wire) and wrk replays those bytes.
Cove verifies every replayed request in full: it recomputes the signature over method, path,
headers and body hash, and checks the timestamp is within 15 minutes. A fresh signature is
made before every wrk run, so none is ever near expiry.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from harness import procs
from harness.model import Artifact
from harness.targets import Target, first_number
from harness.wrk import HttpRequest

REPO = Path(__file__).resolve().parents[2]
COVE = REPO / ".venv" / "bin" / "cove"
NAME = "bench"
BUCKET = "bench-models"
REGION = "us-east-1"
BOOT_TIMEOUT = 60.0
CREATE_TIMEOUT = 150.0


class _Captured(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, request: object) -> None:
        super().__init__("captured")
        self.request = request


def _capture(request: object, **_: object) -> None:
    raise _Captured(request)


class Cove(Target):
    name, role = "cove", "cove"

    instances = 1  # the endpoint's InitialInstanceCount
    server_env: dict[str, str] = {}  # added to `cove server`'s environment

    def __init__(self, model_env: dict[str, str] | None = None) -> None:
        self.model_env = model_env or {}
        self.port = 0
        self.boot_s = 0.0

    def _client(self, service: str, data_dir: Path) -> object:
        doc = json.loads((data_dir / "credentials.json").read_text())
        return boto3.client(
            service,
            endpoint_url=f"http://127.0.0.1:{self.port}",
            aws_access_key_id=doc["access_key_id"],
            aws_secret_access_key=doc["secret_access_key"],
            region_name=REGION,
            config=Config(retries={"max_attempts": 1}, read_timeout=60),
        )

    def start(self, artifact: Artifact, work: Path) -> float:
        self.port = procs.free_port()
        data_dir = work / f"{self.name}-data"  # cove and cove-user run on their own
        log_path = work / f"{self.name}.log"
        started = time.monotonic()
        command = [str(COVE), "server", "--port", str(self.port), "--data-dir", str(data_dir)]
        # A broken instance fails the endpoint in 2 minutes instead of the default 10.
        env = {"COVE_LOG_LEVEL": "WARNING", "COVE_STARTUP_TIMEOUT": "120", **self.server_env}
        self.proc = procs.spawn(command, log_path, env, work)
        procs.wait_until(lambda: self._listening(log_path), BOOT_TIMEOUT, self.proc, log_path)
        self.boot_s = time.monotonic() - started

        s3 = self._client("s3", data_dir)
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(str(artifact.tarball_path), BUCKET, "model.tar.gz")
        sm = self._client("sagemaker", data_dir)
        sm.create_model(
            ModelName=NAME,
            PrimaryContainer={"Image": "sklearn",
                              "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz",
                              "Environment": self.model_env},
            ExecutionRoleArn="arn:aws:iam::000000000000:role/cove",
        )
        variant = {"VariantName": "AllTraffic", "ModelName": NAME,
                   "InitialInstanceCount": self.instances,
                   "InstanceType": "ml.m5.large"}
        sm.create_endpoint_config(EndpointConfigName=NAME, ProductionVariants=[variant])
        created = time.monotonic()
        sm.create_endpoint(EndpointName=NAME, EndpointConfigName=NAME)
        procs.wait_until(lambda: self._in_service(sm), CREATE_TIMEOUT, self.proc, log_path)
        cold = time.monotonic() - created
        self._runtime = self._client("sagemaker-runtime", data_dir)
        self._runtime.meta.events.register("before-send.sagemaker-runtime.InvokeEndpoint",
                                           _capture)
        self._data_dir = data_dir
        self._body = artifact.csv_row
        return cold

    def _listening(self, log_path: Path) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return "Cove is serving" in log_path.read_text(errors="replace")
        except OSError:
            return False

    @staticmethod
    def _in_service(sm: object) -> bool:
        desc = sm.describe_endpoint(EndpointName=NAME)
        if desc["EndpointStatus"] == "Failed":
            raise RuntimeError(f"endpoint Failed: {desc.get('FailureReason')}")
        return desc["EndpointStatus"] == "InService"

    def request(self) -> HttpRequest:
        """boto3's own signed InvokeEndpoint request, stopped before it is sent."""
        try:
            self._runtime.invoke_endpoint(EndpointName=NAME, ContentType="text/csv",
                                          Body=self._body)
        except _Captured as captured:
            prepared = captured.request
        else:
            raise RuntimeError("InvokeEndpoint was sent instead of captured")
        url = urlsplit(prepared.url)
        # wrk adds Content-Length itself and Host comes from the URL (the signed value).
        headers = {k: (v.decode() if isinstance(v, bytes) else v)
                   for k, v in prepared.headers.items()
                   if k.lower() not in ("content-length", "host")}
        body = prepared.body if isinstance(prepared.body, bytes) else prepared.body.encode()
        path = url.path + (f"?{url.query}" if url.query else "")
        return HttpRequest(prepared.method, path, headers, body, url.hostname, url.port)

    def verify(self, artifact: Artifact) -> None:
        # First through the real client end to end, then the replayable captured request.
        client = self._client("sagemaker-runtime", self._data_dir)
        resp = client.invoke_endpoint(EndpointName=NAME, ContentType="text/csv",
                                      Body=artifact.csv_row)
        got = self.prediction(resp["Body"].read())
        if got != artifact.expected:
            raise RuntimeError(f"cove (boto3) predicted {got}, in-process {artifact.expected}")
        super().verify(artifact)

    def prediction(self, body: bytes) -> float:
        return first_number(body)

    def describe(self) -> str:
        from importlib.metadata import version

        details = [f"{k}={v}" for k, v in sorted(self.model_env.items())]
        details.append(f"server up in {self.boot_s:.2f} s before CreateEndpoint")
        return f"cove {version('cove')} ({', '.join(details)})"


def model_env_from(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--cove-env wants KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


class CoveUser(Cove):
    """Cove with InvokeEndpoint signed by an IAM user whose inline policy allows exactly
    that action on the endpoint: every request goes through the policy engine (its decision
    cache), where the admin (the account's root user) is allowed without it."""

    name, role = "cove-user", "cove-user"

    def start(self, artifact: Artifact, work: Path) -> float:
        cold = super().start(artifact, work)
        iam = self._client("iam", self._data_dir)
        iam.create_user(UserName="bench-invoker")
        endpoint = f"arn:aws:sagemaker:{REGION}:000000000000:endpoint/{NAME}"
        iam.put_user_policy(
            UserName="bench-invoker",
            PolicyName="invoke",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": endpoint}
            ]}),
        )  # fmt: skip
        key = iam.create_access_key(UserName="bench-invoker")["AccessKey"]
        self._user_key = (key["AccessKeyId"], key["SecretAccessKey"])
        self._runtime = self._client("sagemaker-runtime", self._data_dir)
        self._runtime.meta.events.register(
            "before-send.sagemaker-runtime.InvokeEndpoint", _capture
        )
        return cold

    def _client(self, service: str, data_dir: Path) -> object:
        key = getattr(self, "_user_key", None)
        if key is None or service != "sagemaker-runtime":
            return super()._client(service, data_dir)
        return boto3.client(
            service,
            endpoint_url=f"http://127.0.0.1:{self.port}",
            aws_access_key_id=key[0],
            aws_secret_access_key=key[1],
            region_name=REGION,
            config=Config(retries={"max_attempts": 1}, read_timeout=60),
        )
