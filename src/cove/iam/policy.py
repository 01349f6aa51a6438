"""The authorization seam every service calls: `authorize(ctx, action, resource)` raises
AccessDenied unless the caller may. Without the account's directory wired in (unit tests of
a single service), only the root user is allowed; the server wires `cove.identity.access`,
which evaluates the caller's policies with this package's engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cove.errors import AwsError
from cove.http.messages import RequestContext
from cove.iam.request import ResourceKeys


class Authorizer(Protocol):
    def authorize(
        self,
        ctx: RequestContext,
        action: str,
        resource: str = "*",
        resource_policies: Sequence[str] = (),
        resource_keys: ResourceKeys = (),
    ) -> None:
        """Raise AccessDenied unless `ctx.principal` may perform `action` on `resource`,
        given the resource's own policies (an S3 bucket policy) as documents and the
        condition keys that describe it (aws:ResourceTag/<key>, ...)."""
        ...


def unrestricted(ctx: RequestContext) -> bool:
    """Whether only a resource's own policy could refuse this caller: the account's root
    user outside any VPC endpoint (no identity policy applies to it; IAM User Guide, "Policy
    evaluation logic"). A service may skip gathering condition keys for it."""
    principal = ctx.principal
    return principal is not None and principal.is_root and not ctx.listener.through_endpoint


def denied(message: str) -> AwsError:
    """Each protocol's front end renames the code as its service does (IAM AccessDenied,
    EC2 UnauthorizedOperation, S3 AccessDenied)."""
    return AwsError("AccessDeniedException", message, 403)


def is_denial(err: AwsError) -> bool:
    """Whether `err` is an authorizer's refusal (as `denied` makes them), not a failure."""
    return err.code == "AccessDeniedException"


def relabeled(err: AwsError, resource: str, label: str) -> AwsError:
    """The denial `err` with `resource` named by `label`, as a service words its own
    resources (IAM's "on resource: role <name>")."""
    named, message = f" on resource: {resource}", err.message
    if f"{named} " in message or message.endswith(named):
        message = message.replace(named, f" on resource: {label}", 1)
    return AwsError(err.code, message, err.status, fields=err.fields, headers=err.headers)


def anonymous_denied(action: str, resource: str) -> AwsError:
    return denied(f"User: anonymous is not authorized to perform: {action} on resource: {resource}")


class RootOnly:
    """Allows the account's root user everything and everyone else nothing."""

    def authorize(
        self,
        ctx: RequestContext,
        action: str,
        resource: str = "*",
        resource_policies: Sequence[str] = (),
        resource_keys: ResourceKeys = (),
    ) -> None:
        principal = ctx.principal
        if principal is None:
            raise anonymous_denied(action, resource)
        if principal.is_root:
            return
        raise denied(
            f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource}"
        )


ROOT_ONLY = RootOnly()
