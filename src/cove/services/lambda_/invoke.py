"""Invoke, and invoking for another service (API Gateway) under the function's resource
policy, or with the role or the caller an integration's credentials name. Invocation
types (Lambda API reference, "Invoke"): RequestResponse waits and answers 200 with the
handler's result, or its error document beside `X-Amz-Function-Error: Unhandled`; Event
answers 202 and runs in the background; DryRun answers 204 once the request would be
allowed. `LogType=Tail` returns the last 4 KB of the invocation's log, base64, in
`X-Amz-Log-Result`. A request body is at most 6 MB synchronously and 1 MB for Event."""

from __future__ import annotations

import base64
import functools
import json
import logging
import uuid
from enum import Enum
from typing import Any

from cove.errors import AwsError
from cove.functions.contracts import (
    AsCaller,
    AsRole,
    ConcurrencyLimitExceeded,
    InvokeCredentials,
    InvokeResult,
    NotPermitted,
    RawResult,
    RoleNotAssumable,
)
from cove.functions.failures import Failure, FunctionError
from cove.functions.model import State, Version
from cove.functions.names import FunctionRef, parse_reference
from cove.functions.permissions import document
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.iam.documents import Policy, PolicyKind, parse_policy
from cove.iam.evaluation import evaluate
from cove.iam.policy import is_denial
from cove.iam.request import Principal, Request, standard_context
from cove.services.lambda_.context import LambdaContext

log = logging.getLogger("cove.lambda")

SYNC_LIMIT = 6_291_456  # bytes of request body, RequestResponse
EVENT_LIMIT = 1_048_576  # bytes, Event
TAIL_BYTES = 4096


class InvocationType(Enum):
    REQUEST_RESPONSE = "RequestResponse"
    EVENT = "Event"
    DRY_RUN = "DryRun"


def _tail(log_text: str) -> str:
    return base64.b64encode(log_text.encode()[-TAIL_BYTES:]).decode()


def _checked_payload(payload: bytes, kind: InvocationType) -> bytes:
    if kind is InvocationType.EVENT and len(payload) > EVENT_LIMIT:
        raise AwsError(
            "RequestEntityTooLargeException",
            f"{len(payload)} byte payload is too large for the Event invocation type "
            f"(limit {EVENT_LIMIT} bytes)",
            413,
        )
    if payload:
        try:
            json.loads(payload)
        except ValueError as exc:
            raise AwsError(
                "InvalidRequestContentException",
                f"Could not parse request body into json: Could not parse payload into json: {exc}",
            ) from None
    return payload


class Invoker:
    """Runs versions on the function runtime; also the FunctionInvoker API Gateway uses."""

    def __init__(self, lc: LambdaContext) -> None:
        self.lc = lc

    def _ready(self, ref: FunctionRef) -> Version:
        version, _ = self.lc.store.resolve(ref)
        if version.state is not State.ACTIVE:
            raise FunctionError(Failure.NOT_READY, state=version.state.value)
        return version

    async def run(self, version: Version, payload: bytes) -> RawResult:
        runtime = self.lc.runtime
        if runtime is None:
            raise AwsError(
                "ServiceException", "Cove was started without a function runtime.", 500,
                sender_fault=False,
            )  # fmt: skip
        spec = self.lc.store.spec(version)
        try:
            return await runtime.invoke(spec, payload or b"{}", str(uuid.uuid4()))
        except ConcurrencyLimitExceeded:
            # Lambda API reference, Invoke: TooManyRequestsException (429)
            raise AwsError(
                "TooManyRequestsException", "Rate Exceeded.", 429,
                fields={"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
            ) from None  # fmt: skip

    async def _event(self, version: Version, payload: bytes) -> None:
        result = await self.run(version, payload)
        if result.error:
            log.info("%s:%s (Event) failed: %s", version.name, version.version, result.payload)

    def _resource_policies(self, ref: FunctionRef) -> list[str]:
        statements = self.lc.store.statements(ref)
        return [document(statements)] if statements else []

    def authorize(self, ctx: RequestContext, ref: FunctionRef) -> None:
        """The caller's own policies or the function's resource policy must allow it: a
        same-account principal the resource policy names needs no identity policy (IAM
        UG, "Policy evaluation logic")."""
        resource = self.lc.arns.function(ref.name, ref.qualifier)
        self.lc.access.authorize(
            ctx, "lambda:InvokeFunction", resource, self._resource_policies(ref)
        )

    async def invoke(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = parse_reference(params["FunctionName"], params.get("Qualifier"))
        self.authorize(ctx, ref)
        kind = InvocationType(params.get("InvocationType") or "RequestResponse")
        payload = _checked_payload(params.get("Payload") or b"", kind)
        version = self._ready(ref)
        if kind is InvocationType.DRY_RUN:
            return {"StatusCode": 204}
        if kind is InvocationType.EVENT:
            self.lc.background(self._event(version, payload))
            return {"StatusCode": 202}
        result = await self.run(version, payload)
        out: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": result.payload,
            "ExecutedVersion": version.version,
        }
        if result.error:
            out["FunctionError"] = result.error
        if params.get("LogType") == "Tail":
            out["LogResult"] = _tail(result.log)
        return out

    async def invoke_for_service(
        self,
        function_arn: str,
        payload: bytes,
        *,
        service_principal: str,
        source_arn: str,
        credentials: InvokeCredentials | None = None,
    ) -> InvokeResult:
        """FunctionInvoker: the function's resource policy must allow the service to
        `lambda:InvokeFunction` it from `source_arn` (Lambda DG, "Granting function access
        to AWS services"), or the credentials' role or caller must be allowed to; else
        NotPermitted. LookupError for an unknown function."""
        ref = parse_reference(function_arn)
        try:
            self.lc.store.resolve(ref)
        except FunctionError as exc:
            raise LookupError(str(exc)) from None
        self._admit(ref, service_principal, source_arn, credentials)
        version = self._ready(ref)
        result = await self.run(version, payload)
        return InvokeResult(200, result.payload, result.error, _tail(result.log),
                            version.version)  # fmt: skip

    def _admit(
        self,
        ref: FunctionRef,
        service_principal: str,
        source_arn: str,
        credentials: InvokeCredentials | None,
    ) -> None:
        target = self.lc.arns.function(ref.name, ref.qualifier)
        if isinstance(credentials, AsRole):
            # the service assumes the role, then calls Invoke as that session: its trust
            # policy must name the service, its policies (or the function's) allow the call
            # (API Gateway DG, "Control access to a REST API with IAM permissions")
            access, role_arn = self.lc.access, credentials.role_arn
            role = access.assumable(role_arn, service_principal)
            if role is None:
                raise RoleNotAssumable(role_arn)
            allowed = access.role_allows(role, role_arn, "lambda:InvokeFunction", target,
                                         self._resource_policies(ref))  # fmt: skip
            if not allowed:
                raise NotPermitted(f"{role_arn} may not invoke {target}")
        elif isinstance(credentials, AsCaller):
            # the caller's own signed request, as if it had called Invoke itself
            if not isinstance(credentials.identity, RequestContext):
                raise NotPermitted(f"an unsigned caller may not invoke {target}")
            try:
                self.authorize(credentials.identity, ref)
            except AwsError as err:
                if not is_denial(err):
                    raise
                raise NotPermitted(err.message) from None
        elif not self.permits(ref, service_principal, source_arn):
            raise NotPermitted(f"{service_principal} may not invoke {target}")

    def permits(self, ref: FunctionRef, service_principal: str, source_arn: str) -> bool:
        statements = self.lc.store.statements(ref)
        if not statements:
            return False
        policy = _parsed(document(statements))
        principal = Principal.service(service_principal)
        context = standard_context(
            principal,
            extra={"aws:SourceArn": source_arn, "aws:SourceAccount": self.lc.arns.account},
        )
        resource = self.lc.arns.function(ref.name, ref.qualifier)
        request = Request(principal, "lambda:InvokeFunction", resource, context)
        return evaluate(request, resource_policies=(policy,)).allowed


@functools.lru_cache(maxsize=256)
def _parsed(policy: str) -> Policy:
    return parse_policy(policy, PolicyKind.RESOURCE)


def handlers(invoker: Invoker) -> dict[str, Handler]:
    return {"Invoke": invoker.invoke}
