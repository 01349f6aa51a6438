"""Stages' invoke URLs on Cove's listeners. The API is chosen by the Host header, as AWS
does with `{api id}.execute-api.{region}.amazonaws.com`:

    http://{restapi_id}.execute-api.localhost:<port>/{stage}/{path}
    http://{restapi_id}.execute-api.{region}.amazonaws.com/{stage}/{path}  (inside a VPC)

and, for clients that cannot set the host, path-style:

    http://localhost:<port>/_cove/execute-api/{restapi_id}/{stage}/{path}

NONE methods take any request; AWS_IAM ones need a SigV4 signature for `execute-api` and
an `execute-api:Invoke` allow on the method's ARN (API Gateway Developer Guide, "Control
access to a REST API with IAM permissions"). Every failure is API Gateway's
`{"message": ...}` document."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qsl

from cove.apis.engine import ApiEngine, gateway_response, missing_token
from cove.apis.model import AuthorizationType
from cove.apis.requests import ApiRequest, ApiResponse, Caller
from cove.auth.credentials import CredentialStore
from cove.auth.sigv4 import AuthFailure, AuthKind, auth_error, verify
from cove.errors import AwsError
from cove.gateway.service import UNSIGNED, ServiceDefaults
from cove.http.messages import Request, Response
from cove.iam.policy import Authorizer

PATH_PREFIX = "/_cove/execute-api/"
SIGNING_NAME = "execute-api"
_HOST = re.compile(r"^([a-z0-9]{10})\.execute-api\.(localhost|[a-z0-9-]+\.amazonaws\.com)(:\d+)?$")


def api_of_host(host: str) -> str | None:
    found = _HOST.match(host.lower())
    return None if found is None else found.group(1)


def _split(req: Request) -> tuple[str, str, str] | None:
    """(api id, stage, path below the stage) of an invoke URL; None for another request."""
    api_id = api_of_host(req.headers.get("host", ""))
    path = req.path
    if api_id is None:
        if not path.startswith(PATH_PREFIX):
            return None
        api_id, _, path = path.removeprefix(PATH_PREFIX).partition("/")
        path = "/" + path
    stage, _, rest = path.lstrip("/").partition("/")
    return api_id, stage, "/" + rest


def _as_response(answer: ApiResponse) -> Response:
    return Response(answer.status, answer.headers, answer.body)


class InvokeService(ServiceDefaults):
    protocol = "rest-json"
    signing_names = (UNSIGNED, SIGNING_NAME)
    own_authentication = True  # NONE methods are public; AWS_IAM ones verify here
    claims_by_address = True  # an invoke URL is API Gateway's, whatever a signature says

    def __init__(
        self, engine: ApiEngine, credentials: CredentialStore, authorizer: Authorizer
    ) -> None:
        self.engine = engine
        self.credentials = credentials
        self.authorizer = authorizer

    def claims(self, req: Request) -> bool:
        return _split(req) is not None

    def error_response(self, err: AwsError, req: Request) -> Response:
        return _as_response(gateway_response(err.status, err.message, err.code))

    async def handle(self, req: Request) -> Response:
        split = _split(req)
        if split is None:
            return _as_response(missing_token())
        api_id, stage, path = split
        request = ApiRequest(
            api_id=api_id, stage=stage, method=req.method.upper(), path=path,
            query=parse_qsl(req.query, keep_blank_values=True), headers=req.headers,
            body=req.body, source_ip=req.context.source_ip,
            request_id=req.context.request_id or str(uuid.uuid4()),
            domain_name=req.headers.get("host", ""),
        )  # fmt: skip
        route = self.engine.route(request)
        if route is None:
            return _as_response(missing_token())
        if route.matched.method.authorization_type is AuthorizationType.AWS_IAM:
            refused = self._authorize(req, request)
            if refused is not None:
                return _as_response(refused)
        return _as_response(await self.engine.execute(route, request))

    def _authorize(self, req: Request, request: ApiRequest) -> ApiResponse | None:
        """The caller's signature and its execute-api:Invoke permission."""
        try:
            credential = verify(req, self.credentials)
        except AuthFailure as failure:
            if failure.kind is AuthKind.MISSING:
                return missing_token()
            err = auth_error(failure, "rest-json")
            return gateway_response(403, err.message, err.code)
        if req.context.service != SIGNING_NAME:
            return gateway_response(
                403, f"Credential should be scoped to correct service: '{SIGNING_NAME}'.",
                "InvalidSignatureException",
            )  # fmt: skip
        principal = credential.principal
        req.context.principal = principal
        try:
            self.authorizer.authorize(req.context, "execute-api:Invoke",
                                      self.engine.invoke_arn(request))  # fmt: skip
        except AwsError as err:
            return gateway_response(403, err.message, "AccessDeniedException")
        request.caller = Caller(
            principal.arn, principal.account_id, principal.access_key, principal.user_id,
            identity=req.context,  # what Lambda authorizes when the caller is passed through
        )  # fmt: skip
        return None
