"""Authorization decisions for a RequestContext.

The seam for IAM-style policies: today only the admin principal exists and it is allowed
everything; identity and VPC-endpoint policies plug in here.
"""

from __future__ import annotations

from cove.errors import AwsError
from cove.http.messages import RequestContext


def authorize(ctx: RequestContext, action: str, resource: str = "*") -> None:
    """Raise AccessDenied unless `ctx.principal` may perform `action` on `resource`."""
    principal = ctx.principal
    if principal is None:
        raise AwsError(
            "AccessDeniedException",
            f"User: anonymous is not authorized to perform: {action} on resource: {resource}",
            403,
        )
    if principal.is_root:
        return
    raise AwsError(
        "AccessDeniedException",
        f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource}",
        403,
    )
