"""The EC2 API's network operations over the network store (ec2 protocol).

- Failures: the store's NetworkError carries EC2's code and text; all are client errors,
  HTTP 400 (EC2 API reference, "Error codes for the Amazon EC2 API":
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
- DryRun: "Checks whether you have the required permissions for the action, without
  actually making the request ... If you have the required permissions, the error response
  is DryRunOperation. Otherwise, it is UnauthorizedOperation." (every action's DryRun
  parameter, e.g. EC2 API reference "DeleteSecurityGroup"); the permission is checked
  first, by the frame, so a denied dry run answers UnauthorizedOperation. DryRunOperation
  is HTTP 412 with "Request would have succeeded, but DryRun flag is set.".
- IAM actions are `ec2:<Operation>`, on the resources resources.py names (each in turn),
  with the condition keys condition_keys.py sets; a denial is UnauthorizedOperation in
  EC2's wording (the frame's).
"""

from __future__ import annotations

import inspect
from typing import Any

from cove.errors import AwsError
from cove.gateway.form_service import FormService
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.iam.policy import Authorizer
from cove.network.failures import NetworkError
from cove.network.store import NetworkStore
from cove.services.ec2 import endpoints, groups, routing, tags, vpcs
from cove.services.ec2.condition_keys import keys_of
from cove.services.ec2.resources import Ec2Resources

DRY_RUN = AwsError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


def _wire(exc: NetworkError) -> AwsError:
    return AwsError(exc.code, exc.message, 400)


def _dry_run_aware(handler: Handler) -> Handler:
    async def handle(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("DryRun"):
            raise DRY_RUN
        result = handler(ctx, params)
        if inspect.isawaitable(result):
            result = await result
        return result

    return handle


def ec2_service(store: NetworkStore, access: Authorizer) -> FormService:
    handlers: dict[str, Handler] = {}
    for area in (vpcs, groups, routing, endpoints, tags):
        handlers.update(area.handlers(store))
    return FormService(
        "ec2",
        {name: _dry_run_aware(h) for name, h in handlers.items()},
        failures={NetworkError: _wire},
        authorizer=access,
        resource_of=Ec2Resources(store),
        keys_of=keys_of,
    )
