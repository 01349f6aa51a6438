"""`GET /_cove/credentials`: execution-role credentials for the code Cove runs, in the
answer botocore's container credential provider reads (`AccessKeyId`, `SecretAccessKey`,
`Token`, `Expiration`), for the grant the `Authorization` header's token names. Asked
from loopback by instances and jobs, which hold no signing key, or, for those in a VPC,
on the container credentials endpoint of their ENI; anything else is 403."""

from __future__ import annotations

import datetime as dt
import json

from cove.errors import AwsError
from cove.gateway.dispatch import is_loopback
from cove.gateway.service import UNSIGNED, ServiceDefaults
from cove.http.messages import Request, Response
from cove.identity.vending import PATH, CredentialVending

_JSON = [("Content-Type", "application/json")]


class CredentialsService(ServiceDefaults):
    protocol = "rest-json"
    signing_names = (UNSIGNED,)
    own_authentication = True  # the token is the credential

    def __init__(self, vending: CredentialVending) -> None:
        self.vending = vending

    def claims(self, req: Request) -> bool:
        return req.method == "GET" and req.path == PATH

    def error_response(self, err: AwsError, req: Request) -> Response:
        body = json.dumps({"code": err.code, "message": err.message}).encode()
        return Response(err.status, _JSON, body)

    async def handle(self, req: Request) -> Response:
        # the sandboxes reach Cove on loopback, or inside a VPC on their ENI's own address
        inside = req.context.listener.kind == "credentials"
        if not (inside or is_loopback(req.context.source_ip)):
            raise AwsError("AccessDenied", "Credentials are served on loopback only.", 403)
        session = self.vending.credentials(req.headers.get("authorization", ""))
        if session is None:
            raise AwsError("AccessDenied", "No credentials for this token.", 403)
        expiration = dt.datetime.fromtimestamp(session.expires, dt.UTC)
        body = {
            "AccessKeyId": session.access_key_id,
            "SecretAccessKey": session.secret,
            "Token": session.token,
            "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return Response(200, _JSON, json.dumps(body).encode())
