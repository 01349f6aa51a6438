"""What the gateway knows of a service: the signing names that reach it, which requests
under them are its own, and the capabilities it declares (answering from parser
callbacks, unsigned reads from loopback or anonymous requests, how its operations take
their bodies)."""

from __future__ import annotations

from typing import Protocol

from cove.errors import AwsError
from cove.gateway import plans
from cove.http.messages import BodyPlan, Request, Response
from cove.http.server import Reply

UNSIGNED = ""  # the signing name of a request that carries no SigV4 credential scope


class Service(Protocol):
    protocol: str  # json | rest-json | rest-xml | query | ec2
    # Credential-scope services (SigV4 signing names) whose requests may be this
    # service's; UNSIGNED among them to answer unsigned ones with its own error shape.
    signing_names: tuple[str, ...]
    # `start(req, reply)` answers through a callback instead of a coroutine (the
    # invocation hot path): it calls `reply` exactly once, and raises only before.
    replies_by_callback: bool
    # An unsigned request from a loopback address may be served (metrics scrapes).
    anonymous_from_loopback: bool
    # An unsigned request reaches it without a principal, to be decided by its resources'
    # own policies (S3: a bucket policy naming "Principal": "*").
    anonymous_requests: bool
    # It authenticates requests itself, with no SigV4 at all (the execution-role
    # credentials endpoint, by its token in Authorization).
    own_authentication: bool
    # Its requests are known by where they go (an invoke URL's Host), whatever service a
    # signature names: it is asked before the signing-name lookup.
    claims_by_address: bool

    def claims(self, req: Request) -> bool:
        """Among the services of its signing name: whether this request is its own."""
        ...

    def body_plan(self, req: Request) -> BodyPlan: ...

    async def handle(self, req: Request) -> Response: ...

    def start(self, req: Request, reply: Reply) -> None: ...

    def error_response(self, err: AwsError, req: Request) -> Response: ...


class ServiceDefaults:
    """The usual answers to what `Service` asks, for services to inherit."""

    protocol: str
    replies_by_callback = False
    anonymous_from_loopback = False
    anonymous_requests = False
    own_authentication = False
    claims_by_address = False

    def body_plan(self, req: Request) -> BodyPlan:
        return plans.BY_PROTOCOL.get(self.protocol, plans.DEFAULT_PLAN)

    def start(self, req: Request, reply: Reply) -> None:
        raise NotImplementedError(f"{type(self).__name__} answers through handle()")
