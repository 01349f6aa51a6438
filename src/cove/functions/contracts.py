"""What the pieces of the functions feature promise each other: the runtime that runs a
function's code (functions/runtime/), the Lambda front end and its store
(services/lambda_, functions/), API Gateway's integration engine (apis/), and the log
store (storage/log_events.py) that CloudWatch Logs serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cove.host.network_attachment import NetworkAttachment

__all__ = ["NetworkAttachment"]  # where a function's workers run in its VPC


@dataclass(frozen=True)
class FunctionVpc:
    """VpcConfig: the function's workers are hosts in one of these subnets."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


class FunctionNetworks(Protocol):
    """The VPC side of functions: an ENI per function in one of its subnets (server
    wiring implements it with the network store and fabric)."""

    async def attach(self, spec: FunctionSpec) -> NetworkAttachment: ...

    async def detach(self, function_arn: str) -> None: ...


@dataclass(frozen=True)
class FunctionSpec:
    """One version of a function, as its workers run it."""

    function_arn: str  # unqualified: arn:aws:lambda:<region>:<account>:function:<name>
    name: str
    version: str  # "$LATEST" or "1", "2", ...
    code_dir: Path  # the unpacked deployment package (read-only inside the sandbox)
    handler: str  # "lambda_function.lambda_handler"
    runtime: str  # "python3.11"
    memory_mb: int  # MemorySize, applied as the worker's memory limit
    timeout_s: int  # Timeout
    environment: dict[str, str] = field(default_factory=dict)  # Environment.Variables
    role_arn: str = ""  # the execution role: its temporary credentials reach the worker
    code_sha256: str = ""  # a new package or configuration makes new workers
    vpc: FunctionVpc | None = None  # VpcConfig: workers are hosts in these subnets


@dataclass(frozen=True)
class RawResult:
    """What one invocation of the handler gave."""

    payload: bytes  # the handler's return value as JSON, or Lambda's error document
    error: str | None = None  # None, or "Unhandled" (raised, timed out, worker died)
    log: str = ""  # everything the invocation wrote to stdout/stderr (START..REPORT lines)
    request_id: str = ""


class FunctionRuntime(Protocol):
    """Runs function versions in warm sandboxed workers (functions/runtime/)."""

    async def invoke(self, spec: FunctionSpec, event: bytes, request_id: str) -> RawResult: ...

    async def retire(self, function_arn: str) -> None:
        """Stop every worker of the function (deleted, or its code/config changed)."""
        ...

    async def shutdown(self) -> None: ...


class ConcurrencyLimitExceeded(Exception):
    """Every worker the function version may have is busy and none came free within a brief
    wait: Lambda answers TooManyRequestsException (429), message "Rate Exceeded.", Reason
    "ReservedFunctionConcurrentInvocationLimitExceeded"."""


class LogSink(Protocol):
    """Where function logs (`/aws/lambda/<name>`) and API Gateway execution logs
    (`API-Gateway-Execution-Logs_<api id>/<stage>`) go: the CloudWatch Logs store."""

    def put(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """Append events (timestamp in ms since the epoch, message); the group and the
        stream are created when missing."""
        ...


@dataclass(frozen=True)
class InvokeResult:
    """Invoke's answer, as the Lambda API returns it."""

    status: int  # 200 RequestResponse, 202 Event, 204 DryRun
    payload: bytes = b""
    function_error: str | None = None  # X-Amz-Function-Error: "Unhandled"
    log_tail: str | None = None  # the last 4 KB of the log, for LogType=Tail
    executed_version: str = "$LATEST"


class NotPermitted(Exception):
    """Whose permissions the invocation runs on do not let it invoke the function: the
    function's resource policy for the calling service, or the integration's role or
    caller."""


class RoleNotAssumable(Exception):
    """The service cannot assume the role it was given: there is no such role, or its
    trust policy does not name the service."""

    def __init__(self, role_arn: str) -> None:
        super().__init__(role_arn)
        self.role_arn = role_arn


@dataclass(frozen=True)
class AsRole:
    """Invoke with a role's permissions, the service assuming it (an API Gateway
    integration's `credentials` naming a role)."""

    role_arn: str


@dataclass(frozen=True)
class AsCaller:
    """Invoke with the signed caller's own permissions (`credentials` of
    arn:aws:iam::*:user/*). `identity` is the calling front end's record of the caller,
    opaque here and read by the Lambda front end; None when the request was not signed."""

    identity: object | None


# Without credentials, the function's resource policy decides
InvokeCredentials = AsRole | AsCaller


class FunctionInvoker(Protocol):
    """How another service (API Gateway) invokes a function, as AWS does it: the
    function's resource policy must allow `lambda:InvokeFunction` for that service
    principal and source ARN, or, with credentials, the role's or the caller's
    permissions must (else NotPermitted; RoleNotAssumable for a role the service cannot
    assume); LookupError when there is no such function."""

    async def invoke_for_service(
        self,
        function_arn: str,
        payload: bytes,
        *,
        service_principal: str,
        source_arn: str,
        credentials: InvokeCredentials | None = None,
    ) -> InvokeResult: ...
