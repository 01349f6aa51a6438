"""Roles passed to SageMaker: the caller needs iam:PassRole on the role, and the role must
exist and trust sagemaker.amazonaws.com, which SageMaker checks by assuming it. A role
that fails that answers ValidationException "Could not assume role <arn>. Please ensure
that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role."
(IAM User Guide, "Grant a user permissions to pass a role to an AWS service"; SageMaker
Developer Guide, "How to use SageMaker AI execution roles")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cove.errors import validation_error
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.access import Access

SERVICE_PRINCIPAL = "sagemaker.amazonaws.com"
# operation -> the input member that passes a role; later jobs add their entry here
ROLE_MEMBERS = {"CreateModel": "ExecutionRoleArn", "CreateTrainingJob": "RoleArn"}


class PassedRoles:
    def __init__(self, access: Access) -> None:
        self.access = access

    def check(self, ctx: RequestContext, role_arn: str) -> None:
        if self.access.pass_role(ctx, role_arn, SERVICE_PRINCIPAL) is None:
            raise validation_error(
                f"Could not assume role {role_arn}. Please ensure that the role exists and "
                f"allows principal '{SERVICE_PRINCIPAL}' to assume the role."
            )

    def guard(self, handlers: Mapping[str, Handler]) -> dict[str, Handler]:
        """The handlers, those that pass a role checking it first."""
        guarded = dict(handlers)
        for operation, member in ROLE_MEMBERS.items():
            if operation in guarded:
                guarded[operation] = self._checked(guarded[operation], member)
        return guarded

    def _checked(self, handler: Handler, member: str) -> Handler:
        def checked(ctx: RequestContext, params: dict[str, Any]) -> Any:
            if params.get(member):
                self.check(ctx, params[member])
            return handler(ctx, params)

        return checked
