"""A request to a stage's invoke URL and its answer, as the engine sees them (the front
end builds them from HTTP), and what templates and proxy events know of the request
(`$context`, `requestContext`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cove.apis.model import Resource, Stage


@dataclass(frozen=True)
class Caller:
    """Who signed the request (AWS_IAM methods)."""

    arn: str
    account_id: str
    access_key: str
    user_id: str
    # the front end's own record of the signed request, handed to the Lambda front end
    # when an integration passes the caller's identity through (opaque here)
    identity: object | None = field(default=None, compare=False, repr=False)


@dataclass
class ApiRequest:
    api_id: str
    stage: str
    method: str
    path: str  # below the stage: "/predictbreastcancer"
    query: list[tuple[str, str]]  # decoded, in order, repeated names repeated
    headers: dict[str, str]  # as received (lower-cased names)
    body: bytes
    source_ip: str
    request_id: str
    domain_name: str = ""
    caller: Caller | None = None
    received: float = field(default_factory=time.time)

    def first_query(self) -> dict[str, str]:
        """One value per name: the last one, as API Gateway's queryStringParameters."""
        return {k: v for k, v in self.query}

    def multi_query(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, value in self.query:
            out.setdefault(key, []).append(value)
        return out

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass
class ApiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def request_time(epoch: float) -> str:
    """`requestTime`, in the CLF format API Gateway writes: 04/Mar/2020:19:15:17 +0000."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch))


def request_context(
    req: ApiRequest, account_id: str, resource: Resource, stage: Stage
) -> dict[str, Any]:
    """`requestContext` of a proxy event and `$context` of a template (the same facts)."""
    caller = req.caller
    prefix = req.domain_name.split(".")[0] if req.domain_name else req.api_id
    return {
        "accountId": account_id,
        "apiId": req.api_id,
        "domainName": req.domain_name,
        "domainPrefix": prefix,
        "extendedRequestId": req.request_id,
        "httpMethod": req.method,
        "identity": {
            "accessKey": caller.access_key if caller else None,
            "accountId": caller.account_id if caller else None,
            "caller": caller.user_id if caller else None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": req.source_ip,
            "user": caller.user_id if caller else None,
            "userAgent": req.headers.get("user-agent"),
            "userArn": caller.arn if caller else None,
        },
        "path": f"/{req.stage}{req.path}",
        "protocol": "HTTP/1.1",
        "requestId": req.request_id,
        "requestTime": request_time(req.received),
        "requestTimeEpoch": int(req.received * 1000),
        "resourceId": resource.id,
        "resourcePath": resource.path,
        "stage": stage.name,
    }
