"""Invoke and the FunctionInvoker seam, driven by boto3 over a real socket against the
Lambda front end, with a recording FunctionRuntime double standing in for the sandboxed
runtime (tests/e2e/test_lambda_api.py runs real functions once it is merged).

Lambda API reference, "Invoke" (https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html):
200 with X-Amz-Function-Error for a function error, 202 for Event, 204 for DryRun;
LogResult is the base64 of the last 4 KB of the log; X-Amz-Executed-Version names the
version an alias resolved to. A function in Pending refuses invocations (Lambda DG,
"Lambda function states"). Services invoke under the function's resource policy (Lambda
DG, "Granting function access to AWS services")."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cove.auth.credentials import CredentialStore
from cove.functions.contracts import (
    AsCaller,
    AsRole,
    FunctionSpec,
    NotPermitted,
    RawResult,
    RoleNotAssumable,
)
from cove.functions.model import FunctionConfig
from cove.functions.names import Arns
from cove.functions.packages import Packages
from cove.functions.store import FunctionStore
from cove.gateway.dispatch import Gateway
from cove.http.messages import PUBLIC_LISTENER
from cove.http.server import serve_tcp
from cove.identity.access import Access
from cove.identity.directory import Directory
from cove.network.store import NetworkStore
from cove.services.lambda_.code_location import CodeUrls
from cove.services.lambda_.service import LambdaService, lambda_service
from cove.storage.db import open_engine
from cove.storage.s3.objects import ObjectStore

ACCOUNT = "123456789012"
ADMIN = ("AKIAADMINLAMBDA00001", "admin-secret")
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function"
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}  # fmt: skip


@dataclass
class RecordingRuntime:
    """Answers as a handler that echoes its event (or raises when asked) would."""

    calls: list[tuple[FunctionSpec, bytes]] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    event_seen: threading.Event = field(default_factory=threading.Event)

    async def invoke(self, spec: FunctionSpec, event: bytes, request_id: str) -> RawResult:
        self.calls.append((spec, event))
        self.event_seen.set()
        log = f"START RequestId: {request_id} Version: {spec.version}\n" + "x" * 5000 + "\nEND"
        if json.loads(event).get("fail"):
            error = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
            return RawResult(json.dumps(error).encode(), "Unhandled", log, request_id)
        return RawResult(event, None, log, request_id)

    async def retire(self, function_arn: str) -> None:
        self.retired.append(function_arn)

    async def shutdown(self) -> None:
        pass


@dataclass
class Running:
    url: str
    service: LambdaService
    runtime: RecordingRuntime
    loop: asyncio.AbstractEventLoop
    role: str

    def client(self) -> Any:
        return boto3.client(
            "lambda", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=ADMIN[0], aws_secret_access_key=ADMIN[1],
            config=Config(retries={"total_max_attempts": 1}),
        )  # fmt: skip

    def on_loop(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    engine = open_engine(f"sqlite:///{tmp_path / 'cove.db'}")
    credentials = CredentialStore(ACCOUNT)
    credentials.add_admin(*ADMIN)
    directory = Directory(engine, ACCOUNT, credentials)
    role = directory.create_role("fn", json.dumps(TRUST)).arn(ACCOUNT)
    access = Access(directory)
    store = FunctionStore(engine, Packages(tmp_path / "functions"), Arns("us-east-1", ACCOUNT))
    runtime = RecordingRuntime()
    service = lambda_service(
        store, directory, access, NetworkStore(engine, "us-east-1", ACCOUNT),
        ObjectStore(tmp_path / "objects", engine), runtime,
        CodeUrls.load(tmp_path, "us-east-1", ACCOUNT, "127.0.0.1"),
    )  # fmt: skip
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    box: dict[str, Any] = {}

    async def main() -> None:
        server = await serve_tcp(Gateway(credentials, [service]), "127.0.0.1", 0, PUBLIC_LISTENER)
        box["server"], box["port"] = server, server.sockets[0].getsockname()[1]

    asyncio.run_coroutine_threadsafe(main(), loop).result(10)
    yield Running(f"http://127.0.0.1:{box['port']}", service, runtime, loop, role)

    async def stop() -> None:
        box["server"].close()
        await service.lc.stop()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


def create(running: Running, name: str, **extra: Any) -> Any:
    lam = running.client()
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=running.role, Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": "def handler(e, c): return e"})}, **extra,
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    return lam


def test_request_response_runs_the_version_spec_and_answers_its_result(running) -> None:
    lam = create(running, "echo", MemorySize=256, Timeout=9,
                 Environment={"Variables": {"KEY": "V"}})  # fmt: skip
    out = lam.invoke(FunctionName="echo", Payload=b'{"a": 1}')
    assert (out["StatusCode"], out["ExecutedVersion"]) == (200, "$LATEST")
    assert json.loads(out["Payload"].read()) == {"a": 1}
    assert "FunctionError" not in out and "LogResult" not in out
    spec, event = running.runtime.calls[-1]
    assert event == b'{"a": 1}'
    assert (spec.function_arn, spec.name, spec.version) == (f"{ARN}:echo", "echo", "$LATEST")
    assert (spec.handler, spec.runtime, spec.memory_mb, spec.timeout_s) == (
        "app.handler", "python3.11", 256, 9)  # fmt: skip
    assert spec.environment == {"KEY": "V"} and spec.role_arn == running.role
    assert (spec.code_dir / "app.py").read_text() == "def handler(e, c): return e"
    lam.invoke(FunctionName="echo")  # no payload: the event is an empty object
    assert running.runtime.calls[-1][1] == b"{}"


def test_a_function_error_and_the_log_tail(running) -> None:
    lam = create(running, "fails")
    out = lam.invoke(FunctionName="fails", Payload=b'{"fail": true}', LogType="Tail")
    assert out["StatusCode"] == 200 and out["FunctionError"] == "Unhandled"
    assert json.loads(out["Payload"].read())["errorMessage"] == "boom"
    tail = base64.b64decode(out["LogResult"])
    assert len(tail) == 4096 and tail.endswith(b"x\nEND")  # the last 4 KB, not the start


def test_event_answers_202_and_runs_in_the_background(running) -> None:
    lam = create(running, "later")
    running.runtime.event_seen.clear()
    out = lam.invoke(FunctionName="later", InvocationType="Event", Payload=b'{"e": 1}')
    assert out["StatusCode"] == 202 and out["Payload"].read() == b""
    assert running.runtime.event_seen.wait(5)
    assert running.runtime.calls[-1][1] == b'{"e": 1}'


def test_dry_run_answers_204_without_running(running) -> None:
    lam = create(running, "dry")
    before = len(running.runtime.calls)
    assert lam.invoke(FunctionName="dry", InvocationType="DryRun")["StatusCode"] == 204
    assert len(running.runtime.calls) == before


def test_a_qualifier_runs_that_version_and_names_it(running) -> None:
    lam = create(running, "q")
    lam.publish_version(FunctionName="q")
    lam.create_alias(FunctionName="q", Name="prod", FunctionVersion="1")
    out = lam.invoke(FunctionName="q", Qualifier="prod", Payload=b"{}")
    assert out["ExecutedVersion"] == "1" and running.runtime.calls[-1][0].version == "1"
    assert lam.invoke(FunctionName=f"{ARN}:q:1", Payload=b"{}")["ExecutedVersion"] == "1"


def test_a_pending_function_refuses_invocations(running) -> None:
    store = running.service.lc.store
    config = FunctionConfig("python3.11", "app.handler", running.role)
    store.create("pending", config, store.packages.add(zipped({"app.py": ""})))
    with pytest.raises(ClientError) as info:
        running.client().invoke(FunctionName="pending", Payload=b"{}")
    err = info.value.response["Error"]
    assert err["Code"] == "ResourceConflictException"
    assert err["Message"] == ("The operation cannot be performed at this time. The function "
                              "is currently in the following state: Pending")  # fmt: skip


def test_changes_retire_the_functions_workers(running) -> None:
    lam = create(running, "changing")
    running.runtime.retired.clear()
    lam.update_function_configuration(FunctionName="changing", Timeout=20)
    lam.get_waiter("function_updated_v2").wait(
        FunctionName="changing", WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    assert running.runtime.retired == [f"{ARN}:changing"]
    new_spec = running.service.lc.store.spec(
        running.service.lc.store.version("changing", "$LATEST")
    )
    lam.invoke(FunctionName="changing", Payload=b"{}")
    assert running.runtime.calls[-1][0].code_sha256 == new_spec.code_sha256
    lam.delete_function(FunctionName="changing")
    assert running.runtime.retired[-1] == f"{ARN}:changing"


def test_a_service_invokes_only_as_the_resource_policy_allows(running) -> None:
    lam = create(running, "behind-api")
    invoker = running.service.invoker
    api = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3/test/POST/predict"

    def call(arn: str = f"{ARN}:behind-api", principal: str = "apigateway.amazonaws.com",
             source: str = api) -> Any:  # fmt: skip
        return running.on_loop(
            invoker.invoke_for_service(
                arn, b'{"data": "1,2"}', service_principal=principal, source_arn=source
            )
        )

    with pytest.raises(NotPermitted):
        call()  # no policy at all
    lam.add_permission(
        FunctionName="behind-api", StatementId="api", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3/*/POST/predict",
    )  # fmt: skip
    result = call()
    assert (result.status, result.payload, result.executed_version) == (
        200, b'{"data": "1,2"}', "$LATEST")  # fmt: skip
    assert result.function_error is None
    with pytest.raises(NotPermitted):
        call(source=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:other/test/POST/predict")
    with pytest.raises(NotPermitted):
        call(principal="events.amazonaws.com")
    with pytest.raises(LookupError):
        call(arn=f"{ARN}:no-such-function")
    lam.publish_version(FunctionName="behind-api")
    lam.create_alias(FunctionName="behind-api", Name="live", FunctionVersion="1")
    with pytest.raises(NotPermitted):
        call(arn=f"{ARN}:behind-api:live")  # an alias has its own policy
    lam.add_permission(
        FunctionName="behind-api",
        Qualifier="live",
        StatementId="api",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
    )
    assert call(arn=f"{ARN}:behind-api:live").executed_version == "1"


def test_a_service_invokes_with_the_role_its_integration_names(running) -> None:
    """With credentials, the role decides, not the service's own permission: API Gateway
    must be able to assume it, and it must be allowed to invoke, by its own policies or by
    the function's policy naming it (API Gateway DG, "Control access to a REST API with
    IAM permissions"; IAM UG, "Policy evaluation logic", same-account resource policies)."""
    lam = create(running, "behind-role")
    invoker = running.service.invoker
    directory = running.service.lc.access.directory
    apigw_trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}  # fmt: skip
    invoking = directory.create_role("invoking", json.dumps(apigw_trust)).arn(ACCOUNT)
    api = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3/test/POST/predict"

    def call(credentials: Any) -> Any:
        return running.on_loop(invoker.invoke_for_service(
            f"{ARN}:behind-role", b"{}", service_principal="apigateway.amazonaws.com",
            source_arn=api, credentials=credentials,
        ))  # fmt: skip

    for unusable in (f"arn:aws:iam::{ACCOUNT}:role/nobody", running.role):  # trusts Lambda
        with pytest.raises(RoleNotAssumable) as info:
            call(AsRole(unusable))
        assert info.value.role_arn == unusable
    with pytest.raises(NotPermitted):
        call(AsRole(invoking))  # assumable, but allowed nothing
    # the service's own permission does not stand in for the role's
    lam.add_permission(FunctionName="behind-role", StatementId="api",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com")
    with pytest.raises(NotPermitted):
        call(AsRole(invoking))
    lam.add_permission(FunctionName="behind-role", StatementId="role",
                       Action="lambda:InvokeFunction", Principal=invoking)  # fmt: skip
    assert call(AsRole(invoking)).status == 200
    with pytest.raises(NotPermitted):
        call(AsCaller(None))  # no signed caller to pass through
