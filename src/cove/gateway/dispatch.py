"""Per request: pick the service by wire shape, verify SigV4, run the handler, shape errors."""

from __future__ import annotations

import ipaddress
import logging
import uuid
from collections.abc import Sequence
from typing import Protocol

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
        try:
            return await service.handle(req)
        except AwsError as err:
            return service.error_response(err, req)
        except Exception:
            log.exception("internal error in %s %s", req.method, req.path)
            return service.error_response(internal_error(), req)
