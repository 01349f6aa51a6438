"""SageMaker Runtime's InvokeEndpoint (rest-json): `POST /endpoints/{EndpointName}/invocations`.

The success path reads only memory: the installed fleet for the endpoint name. The
metadata store is asked only to explain why there is no fleet (unknown endpoint, or an
endpoint that is not InService).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import unquote

from botocore.model import OperationModel

from cove.config import Settings
from cove.control.tags import TagIndex
from cove.errors import AwsError, internal_error
from cove.gateway.service import UNSIGNED, ServiceDefaults
from cove.http.header_values import is_visible_ascii
from cove.http.messages import BodyPlan, Request, Response
from cove.http.server import Reply
from cove.iam.policy import ROOT_ONLY, Authorizer
from cove.iam.request import ResourceKeys, resource_tag_keys
from cove.instance.serving.context import CUSTOM_ATTRIBUTES, MAX_CUSTOM_ATTRIBUTES
from cove.network.caller_zones import CallerZones
from cove.protocol.rest_errors import error_response
from cove.protocol.shapes import service_model, validate
from cove.runtime import errors
from cove.runtime.contract import InvokeResult
from cove.runtime.fleet import LocalFleet
from cove.runtime.invocation import Invocation
from cove.runtime.manager import LocalRuntime
from cove.statuses import EndpointStatus
from cove.storage.resources import ResourceStore

log = logging.getLogger(__name__)

PREFIX = "/endpoints/"
SUFFIX = "/invocations"
INVOKE_PLAN = BodyPlan(errors.MAX_BODY, errors.body_too_large)
INVOKED_VARIANT = "x-Amzn-Invoked-Production-Variant"

# request header -> InvokeEndpointInput member, validated against the service model
# Carried to the container as they are: checking them would cost every call.
_PASSED_THROUGH = frozenset({"ContentType", "Accept"})


def header_members(operation: OperationModel) -> dict[str, str]:
    """Lower-cased header name -> input member, for the headers InvokeEndpoint takes (the
    binding precompiled from botocore's model); each is checked against its shape when
    a call carries it."""
    return {
        shape.serialization["name"].lower(): name
        for name, shape in operation.input_shape.members.items()
        if shape.serialization.get("location") == "header" and name not in _PASSED_THROUGH
    }


def is_invocation_path(path: str) -> bool:
    return path.startswith(PREFIX) and path.endswith(SUFFIX) and len(path) > len(PREFIX + SUFFIX)


class _Restoring(Exception):  # noqa: N818 - a state, not an error
    """The endpoint serves, but its fleet is still being restored."""

    def __init__(self, name: str) -> None:
        self.name = name


class RuntimeService(ServiceDefaults):
    protocol = "rest-json"
    signing_names = ("sagemaker", UNSIGNED)  # boto3 signs sagemaker-runtime as sagemaker
    replies_by_callback = True

    def __init__(
        self,
        settings: Settings,
        runtime: LocalRuntime,
        resources: ResourceStore,
        authorizer: Authorizer = ROOT_ONLY,
        caller_zones: CallerZones | None = None,
        tags: TagIndex | None = None,
    ) -> None:
        """`caller_zones` names the AZ of a VPC host calling on the public path; asked
        only when the cross-AZ delay is on, the one thing it is for."""
        self.settings = settings
        self.authorizer = authorizer
        self._caller_zones = caller_zones if settings.cross_az_delay_ms else None
        self.tags = tags  # the endpoints' tags, for aws:ResourceTag; None: untagged
        self.runtime = runtime
        self.resources = resources
        self._waiting: set[asyncio.Task[None]] = set()  # calls waiting for a restored fleet
        self.model = service_model("sagemaker-runtime")
        self.operation = self.model.operation_model("InvokeEndpoint")
        self._header_members = header_members(self.operation)

    def claims(self, req: Request) -> bool:
        return req.method == "POST" and is_invocation_path(req.path)

    def body_plan(self, req: Request) -> BodyPlan:
        """A body over InvokeEndpoint's limit is refused from its Content-Length, unread."""
        return INVOKE_PLAN

    def error_response(self, err: AwsError, req: Request) -> Response:
        return error_response(self.model, err, req.context.request_id)

    async def handle(self, req: Request) -> Response:
        answer: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.start(req, answer.set_result)
        return await answer

    def start(self, req: Request, reply: Reply) -> None:
        """Check the call and hand it to the endpoint's fleet; `reply` gets the answer."""
        try:
            fleet = self._accept(req)
        except AwsError as err:
            reply(self.error_response(err, req))
            return
        except _Restoring as restoring:
            task = asyncio.get_running_loop().create_task(
                self._when_restored(req, restoring.name, reply)
            )
            self._waiting.add(task)
            task.add_done_callback(self._waiting.discard)
            return
        self._submit(req, fleet, reply)

    async def _when_restored(self, req: Request, name: str, reply: Reply) -> None:
        """An InService endpoint whose fleet is not back yet after a restart: the call
        waits for it within the model timeout, then gets a retryable 503."""
        fleet = await self.runtime.wait_installed(name, self.settings.model_timeout)
        if fleet is None:
            reply(self.error_response(errors.still_restoring(name), req))
            return
        self._submit(req, fleet, reply)

    def _submit(self, req: Request, fleet: LocalFleet, reply: Reply) -> None:
        headers = req.headers
        listener = req.context.listener
        if listener.kind == "vpce":  # served in its ENI's AZ (AZ-local routing)
            az = caller_az = listener.az
        else:  # the public path: any AZ
            az = caller_az = None
            if self._caller_zones is not None and listener.vpc_id is not None:
                caller_az = self._caller_zones.zone(listener.vpc_id, req.context.source_ip)
        invocation = Invocation(
            req.body,
            headers.get("content-type"),
            headers.get("accept"),
            headers.get("x-amzn-sagemaker-custom-attributes"),
            headers.get("x-amzn-sagemaker-inference-id"),
            az,
            caller_az,
        )

        def answered(outcome: InvokeResult | AwsError) -> None:
            try:
                resp = self._respond(req, fleet, outcome)
            except Exception:
                log.exception("internal error answering %s", req.path)
                resp = self.error_response(internal_error(), req)
            reply(resp)

        fleet.submit(invocation, headers.get("x-amzn-sagemaker-target-variant"), answered)

    def _accept(self, req: Request) -> LocalFleet:
        """The fleet to send this call to; AwsError if the call may not go anywhere."""
        name = unquote(req.path[len(PREFIX) : -len(SUFFIX)])
        req.context.operation = "InvokeEndpoint"
        arn = self.settings.arn("sagemaker", f"endpoint/{name.lower()}")
        self.authorizer.authorize(
            req.context, "sagemaker:InvokeEndpoint", arn, resource_keys=self._keys(arn)
        )
        if len(req.body) > errors.MAX_BODY:
            raise errors.body_too_large(len(req.body))
        self._validate(name, req.headers)
        fleet = self.runtime.fleet(name)
        if fleet is None:
            raise self._why_no_fleet(name)
        return fleet

    def _keys(self, arn: str) -> ResourceKeys:
        """The condition keys the endpoint's tags set (Service Authorization Reference:
        InvokeEndpoint takes aws:ResourceTag/${TagKey} and sagemaker:ResourceTag/${TagKey}
        on the endpoint), read from memory."""
        if self.tags is None:
            return ()
        return resource_tag_keys(self.tags.tags_of(arn), "sagemaker")

    def _respond(
        self, req: Request, fleet: LocalFleet, outcome: InvokeResult | AwsError
    ) -> Response:
        if isinstance(outcome, AwsError):
            return self.error_response(outcome, req)
        overhead_us = (time.perf_counter() - req.received_at) * 1e6 - outcome.model_latency_us
        self.runtime.metrics.variant(fleet.endpoint_name, outcome.variant_name).record(
            outcome.model_latency_us, overhead_us
        )
        out = [
            ("Content-Type", outcome.content_type),
            (INVOKED_VARIANT, outcome.variant_name),
            ("x-amzn-RequestId", req.context.request_id),
        ]
        attributes = outcome.custom_attributes
        if attributes is not None:
            if is_visible_ascii(attributes, MAX_CUSTOM_ATTRIBUTES):
                out.append((CUSTOM_ATTRIBUTES, attributes))
            else:  # model code chose it: never let it shape the response's headers
                log.warning(
                    "endpoint %s: dropped CustomAttributes that are not at most %d visible "
                    "US-ASCII characters",
                    fleet.endpoint_name,
                    MAX_CUSTOM_ATTRIBUTES,
                )
        return Response(200, out, outcome.body)

    def _validate(self, name: str, headers: dict[str, str]) -> None:
        params: dict[str, Any] = {
            member: headers[header]
            for header, member in self._header_members.items()
            if header in headers
        }
        if not params:
            return  # the endpoint name is checked only when no fleet has it
        try:
            validate(self.operation, {"EndpointName": name, "Body": b"", **params})
        except AwsError as err:
            raise errors.validation(err.message) from None

    def _why_no_fleet(self, name: str) -> AwsError | _Restoring:
        try:
            validate(self.operation, {"EndpointName": name, "Body": b""})
        except AwsError as err:
            return errors.validation(err.message)
        account = self.settings.account_id
        row = self.resources.get("endpoint", name)
        if row is None:
            return errors.endpoint_not_found(name, account)
        if EndpointStatus(row.status).serving:  # with no fleet: being restored
            return _Restoring(row.name)
        return errors.endpoint_not_in_service(row.name, account, row.status)
