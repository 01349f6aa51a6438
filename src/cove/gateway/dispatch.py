"""Per request: pick the service by wire shape, verify SigV4, run the handler, shape errors.

Authentication comes before the body: `admit` routes a request from its headers, refuses
an unsigned one or one over its service's body limit before any of the body is read,
and fully verifies the signature of one whose body streams to its handler (S3 uploads,
whose signature covers the declared payload hash, not the bytes).
"""

from __future__ import annotations

import ipaddress
import logging
import uuid
from collections.abc import Sequence

from cove.auth import sigv2_query
from cove.auth.credentials import CredentialStore
from cove.auth.sigv4 import AuthFailure, auth_error, parse_signature, signing_name, verify
from cove.errors import AwsError, internal_error
from cove.gateway import plans
from cove.gateway.service import UNSIGNED, Service
from cove.http.body import BodyFailure
from cove.http.messages import BodyPlan, Request, Response
from cove.http.server import Reply

log = logging.getLogger(__name__)


# Bodies up to this size are read before the signature is looked at, as their headers
# are: checking first would only cost the hot path. Larger ones (or ones that ask for
# `100 Continue`) are read only from a client whose signature names a known key.
PRECHECK_ABOVE = 64 * 1024
_NO_SERVICE = Response(
    404, [("Content-Type", "application/json")], b'{"message": "No AWS service at this path"}'
)


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class Gateway:
    """The app every listener serves: routing, authentication, error shaping."""

    def __init__(self, credentials: CredentialStore, services: Sequence[Service]) -> None:
        self.credentials = credentials
        self.services = list(services)
        self.reindex()

    def reindex(self) -> None:
        """Index `services` by signing name again (after one was added)."""
        self._by_address = [s for s in self.services if getattr(s, "claims_by_address", False)]
        # signing name -> the services it reaches, in registration order
        self._by_signing_name: dict[str, list[Service]] = {}
        for service in self.services:
            for name in service.signing_names:
                self._by_signing_name.setdefault(name, []).append(service)

    def route(self, req: Request) -> Service | None:
        """The credential scope's service picks the candidates (a lookup), then the
        one that claims the request (SageMaker: X-Amz-Target, or the runtime's URI).
        Services known by address (invoke URLs) are asked first."""
        for service in self._by_address:
            if service.claims(req):
                return service
        name = signing_name(req)
        for service in self._by_signing_name.get(UNSIGNED if name is None else name, ()):
            if service.claims(req):
                return service
        return None

    def admit(self, req: Request) -> Response | BodyPlan:
        """Decide from the headers how to take the body (see `cove.http.server`)."""
        req.context.request_id = str(uuid.uuid4())
        service = req.service = self.route(req)
        if service is None:
            return _NO_SERVICE
        plan = service.body_plan(req)
        headers = req.headers
        declared = _declared_length(headers)
        if plan.stream:
            denied = self._authenticate(req, service)
            if denied is not None:
                return denied
            req.context.authenticated = True
        elif (
            (declared or 0) > PRECHECK_ABOVE
            or "transfer-encoding" in headers
            or "expect" in headers
        ):
            denied = self._precheck(req, service)
            if denied is not None:
                return denied
        if declared is not None and declared > plan.limit:
            return service.error_response(_as_aws_error(plan.too_large(declared)), req)
        return plan

    def refuse_body(self, req: Request, failure: BodyFailure, size: int) -> Response:
        """The answer to a body that broke its plan while it was read."""
        service = req.service or self.route(req)
        if service is None:
            return _NO_SERVICE
        if failure is BodyFailure.TOO_LARGE:
            err = _as_aws_error(service.body_plan(req).too_large(size))
        else:
            err = plans.request_timeout()
        return service.error_response(err, req)

    async def __call__(self, req: Request) -> Response:
        if not req.context.request_id:
            req.context.request_id = str(uuid.uuid4())
        service = req.service or self.route(req)
        if service is None:
            return _NO_SERVICE
        if not req.context.authenticated:
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
        (see `cove.http.server`)."""
        service = req.service or self.route(req)
        if service is None or not service.replies_by_callback:
            return False
        if not req.context.request_id:
            req.context.request_id = str(uuid.uuid4())
        denied = self._authenticate(req, service)
        if denied is not None:
            reply(denied)
            return True
        try:
            service.start(req, reply)
        except Exception:
            log.exception("internal error in %s %s", req.method, req.path)
            reply(service.error_response(internal_error(), req))
        return True

    def _authenticate(self, req: Request, service: Service) -> Response | None:
        """Verify the signature and note the principal; the error to answer, if any."""
        if service.own_authentication:
            return None
        try:
            cred = verify(req, self.credentials)
        except AuthFailure as failure:
            return self._denied(req, service, failure)
        req.context.principal = cred.principal
        return None

    def _precheck(self, req: Request, service: Service) -> Response | None:
        """What can be checked of the signature before the body it covers is read: that
        there is one and that it names a known key."""
        if service.own_authentication or sigv2_query.is_v2_query(req):
            return None
        try:
            parts = parse_signature(req)
        except AuthFailure as failure:
            return self._denied(req, service, failure)
        if self.credentials.get(parts.access_key) is None:
            return self._denied(req, service, AuthFailure("unknown_key", parts.access_key))
        return None

    def _denied(self, req: Request, service: Service, failure: AuthFailure) -> Response | None:
        if failure.kind == "missing":
            if service.anonymous_requests:
                return None  # the service decides, with no principal (S3 bucket policies)
            # a few read-only paths (metrics) may be read unsigned by a local operator
            if service.anonymous_from_loopback and is_loopback(req.context.source_ip):
                return None
        log.info("rejected %s %s: %s", req.method, req.path, failure.kind)
        return service.error_response(auth_error(failure, service.protocol), req)


def _declared_length(headers: dict[str, str]) -> int | None:
    """The body's size as the client announced it: of the content, for aws-chunked."""
    raw = headers.get("x-amz-decoded-content-length") or headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None  # the parser refuses a malformed Content-Length itself


def _as_aws_error(err: Exception) -> AwsError:
    return err if isinstance(err, AwsError) else internal_error()
