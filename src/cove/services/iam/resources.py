"""The resource an IAM operation acts on, as its policy Resource names it: the ARN of the
user, group or role its input names (with the identity's path when it exists), or of the
managed policy (Service Authorization Reference, "Actions, resources, and condition keys
for AWS Identity and Access Management"). SimulatePrincipalPolicy acts on the identity whose
policies it simulates: AWS's denial names PolicySourceArn ("... is not authorized to
perform: iam:SimulatePrincipalPolicy on resource: arn:aws:iam::xxxx:role/pod-1-silo-qa-xxxx
because no identity-based policy allows ...", as quoted in
https://github.com/aws/aws-toolkit-vscode/issues/3969)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cove.http.messages import RequestContext
from cove.identity.directory import Directory
from cove.identity.errors import IdentityError
from cove.identity.kinds import EntityKind

# AttachUserPolicy names a user and a policy, and acts on the user.
_NAMED = (
    ("UserName", EntityKind.USER),
    ("GroupName", EntityKind.GROUP),
    ("RoleName", EntityKind.ROLE),
)


# Operations whose UserName is optional act on the caller's own user without one.
_CALLERS_OWN = frozenset({
    "GetUser", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
})  # fmt: skip


def resource_of(directory: Directory) -> Callable[[RequestContext, str, dict[str, Any]], str]:
    account = directory.account_id

    def resource(ctx: RequestContext, operation: str, params: dict[str, Any]) -> str:
        if operation in _CALLERS_OWN and not params.get("UserName") and ctx.principal:
            return ctx.principal.arn
        if isinstance(params.get("PolicySourceArn"), str):
            return params["PolicySourceArn"]
        for member, kind in _NAMED:
            name = params.get(member)
            if isinstance(name, str):
                try:
                    return directory.entities.get(kind, name).arn(account)
                except IdentityError:  # the handler answers NoSuchEntity, once allowed
                    return f"arn:aws:iam::{account}:{kind.value}/{name}"
        if isinstance(params.get("PolicyArn"), str):
            return params["PolicyArn"]
        return "*"

    return resource
