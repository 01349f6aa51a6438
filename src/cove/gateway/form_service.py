"""A query (IAM, STS) or ec2 (EC2) service: `Action=...` forms in the query string or a
form body, answered in XML; operations dispatched to handler functions.

Validation answers as these services do (AWS Common Errors): IAM and STS list every
broken constraint in one `ValidationError` ("1 validation error detected: Value null at
'userName' failed to satisfy constraint: Member must not be null"); EC2 names a missing
required parameter with `MissingParameter` ("The request must contain the parameter X")
and other bad values with `InvalidParameterValue`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import OperationModel

from cove.errors import AwsError
from cove.gateway.operations import Handler, KeysOf, Operations, ResourceOf, not_implemented
from cove.gateway.service import ServiceDefaults
from cove.http.messages import Request, Response
from cove.iam.policy import ROOT_ONLY, Authorizer
from cove.protocol import ec2, query
from cove.protocol.query_form import missing_parameter
from cove.protocol.shapes import service_model, validate

CONTENT_TYPE = "text/xml"


class FormService(ServiceDefaults):
    def __init__(
        self,
        service_name: str,
        handlers: Mapping[str, Handler],
        actions: Mapping[str, str | None] | None = None,
        failures: Mapping[type[Exception], Callable[[Any], AwsError]] | None = None,
        authorizer: Authorizer = ROOT_ONLY,
        resource_of: ResourceOf | None = None,
        keys_of: KeysOf | None = None,
    ) -> None:
        self.model = service_model(service_name)
        self.protocol = self.model.protocol
        if self.protocol not in ("query", "ec2"):
            raise ValueError(f"{service_name} speaks {self.protocol}, not query or ec2")
        self.operations = Operations(
            self.model, handlers, actions or {}, failures or {}, authorizer, resource_of, keys_of
        )
        # Signed requests only: an unsigned POST's Action is in a body not read yet, so
        # which of the form services it is for is not known when it is routed.
        self.signing_names = (self.model.signing_name,)

    def claims(self, req: Request) -> bool:
        return req.path == "/" and req.method in ("GET", "POST")

    def error_response(self, err: AwsError, req: Request) -> Response:
        request_id = req.context.request_id
        if err.code == "AccessDeniedException":  # the policy engine's denial, in this
            err = _denial(err, self.protocol)  # protocol's own code
        if self.protocol == "ec2":
            body = ec2.error_body(err, request_id)
        else:
            body = query.error_body(err, request_id, self.model)
        headers = [("Content-Type", CONTENT_TYPE), ("x-amzn-RequestId", request_id)]
        return Response(err.status, [*headers, *err.headers.items()], body)

    async def handle(self, req: Request) -> Response:
        codec = ec2 if self.protocol == "ec2" else query
        operation, params = codec.parse_request(self.model, req.query, req.body)
        missing = not_implemented("InvalidAction", operation.name)
        handler = self.operations.handler(operation, missing)
        self._validate(operation, params)
        result = await self.operations.call(req.context, operation, handler, params)
        request_id = req.context.request_id
        body = codec.response_body(operation, result, request_id)
        headers = [("Content-Type", CONTENT_TYPE), ("x-amzn-RequestId", request_id)]
        return Response(200, headers, body)

    def _validate(self, operation: OperationModel, params: dict[str, Any]) -> None:
        if self.protocol == "query":
            validate(operation, params, "ValidationError")
            return
        shape = operation.input_shape
        for name in shape.required_members if shape is not None else ():
            if params.get(name) is None:
                member = shape.members[name]
                raise missing_parameter(member.serialization.get("name", name))
        validate(operation, params, "InvalidParameterValue")


def _denial(err: AwsError, protocol: str) -> AwsError:
    """IAM and STS answer a denial with `AccessDenied`, EC2 with `UnauthorizedOperation`
    (IAM API reference and EC2 API reference, "Common Errors")."""
    if protocol == "ec2":
        return AwsError("UnauthorizedOperation", _ec2_denial_text(err.message), err.status,
                        fields=err.fields, headers=err.headers)  # fmt: skip
    return AwsError("AccessDenied", err.message, err.status, fields=err.fields, headers=err.headers)


def _ec2_denial_text(message: str) -> str:
    """EC2's wording around IAM's: "You are not authorized to perform this operation. User:
    ... on resource: <arn> because ... action. Encoded authorization failure message: ..."
    (https://repost.aws/knowledge-center/ec2-not-auth-launch), without "on resource" for an
    action on no resource, the Describe calls (as EC2 answers DescribeVpcs:
    https://github.com/hashicorp/terraform-provider-aws/issues/34234). Cove has no
    sts:DecodeAuthorizationMessage, so it gives no encoded message."""
    return "You are not authorized to perform this operation. " + message.replace(
        " on resource: * ", " ", 1
    )
