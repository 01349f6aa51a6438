"""Per request: pick the service by wire shape, verify SigV4, run the handler, shape errors."""

from __future__ import annotations

import ipaddress
import logging
import uuid
from collections.abc import Sequence
from typing import Protocol

from cove.gateway.http import Reply
from cove.gateway.messages import Request, Response
from cove.iam.credentials import CredentialStore
from cove.protocol.errors import AwsError, internal_error
from cove.protocol.sigv4 import AuthFailure, auth_error, verify

log = logging.getLogger(__name__)


class Service(Protocol):
    protocol: str  # json | rest-json | rest-xml | query | ec2

    def matches(self, req: Request) -> bool: ...

    async def handle(self, req: Request) -> Response: ...

    def error_response(self, err: AwsError, req: Request) -> Response: ...

    # A service may also offer `start(req, reply) -> None`, answering through a callback
    # instead of a coroutine (the invocation hot path): it calls `reply` exactly once,
    # now or later, and raises only before replying.


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class Gateway:
    """The app every listener serves: routing, authentication, error shaping."""

    def __init__(self, credentials: CredentialStore, services: Sequence[Service]) -> None:
        self.credentials = credentials
        self.services = list(services)

    def route(self, req: Request) -> Service | None:
        for service in self.services:
            if service.matches(req):
                return service
        return None

    async def __call__(self, req: Request) -> Response:
        req.context.request_id = str(uuid.uuid4())
        service = self.route(req)
        if service is None:
            body = b'{"message": "No AWS service at this path"}'
            return Response(404, [("Content-Type", "application/json")], body)
        denied = self._authenticate(req, service)
        if denied is not None:
            return denied
        try:
            return await service.handle(req)
        except AwsError as err:
            return service.error_response(err, req)
        except Exception:
            log.exception("internal error in %s %s", req.method, req.path)
            return service.error_response(internal_error(), req)

    def answer_now(self, req: Request, reply: Reply) -> bool:
        """Serve a request for a replying service through callbacks; False for the rest
        (see `cove.gateway.http`)."""
        service = self.route(req)
        start = getattr(service, "start", None)
        if service is None or start is None:
            return False
        req.context.request_id = str(uuid.uuid4())
        denied = self._authenticate(req, service)
        if denied is not None:
            reply(denied)
            return True
        try:
            start(req, reply)
        except Exception:
            log.exception("internal error in %s %s", req.method, req.path)
            reply(service.error_response(internal_error(), req))
        return True

    def _authenticate(self, req: Request, service: Service) -> Response | None:
        """Verify the signature and note the principal; the error to answer, if any."""
        try:
            cred = verify(req, self.credentials)
        except AuthFailure as failure:
            # a few read-only paths (metrics) may be read unsigned by a local operator
            anonymous_ok = failure.kind == "missing" and _is_loopback(req.context.source_ip)
            if not (anonymous_ok and getattr(service, "anonymous_from_loopback", False)):
                log.info("rejected %s %s: %s", req.method, req.path, failure.kind)
                return service.error_response(auth_error(failure, service.protocol), req)
        else:
            req.context.principal = cred.principal
        return None
