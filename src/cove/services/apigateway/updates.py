"""API Gateway's Update* operations (PATCH with `patchOperations`) and the account settings
(GetAccount, UpdateAccount): each reads the object, applies its patch table (cove.apis
updates and stage_patch), and writes what the table made."""

from __future__ import annotations

from functools import partial
from typing import Any

from cove.apis import stage_patch
from cove.apis.account import AccountSettings
from cove.apis.model import Integration
from cove.apis.patch import PatchTable, Wording, parse, rule
from cove.apis.store import ApiStore
from cove.apis.updates import (
    DEPLOYMENT,
    INTEGRATION,
    INTEGRATION_RESPONSE,
    METHOD,
    METHOD_RESPONSE,
    REST_API,
)
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.access import Access
from cove.services.apigateway import shapes
from cove.services.apigateway.credentials import checked_credentials
from cove.services.apigateway.errors import bad_request
from cove.services.apigateway.management import checked_integration, http_method_of

SERVICE_PRINCIPAL = "apigateway.amazonaws.com"
# UpdateAccount's refusal of a role API Gateway cannot use (seen from AWS in
# tmobile/jazz-installer#597)
ROLE_REFUSED = (
    "The role ARN does not have required permissions configured. Please grant trust "
    "permission for API Gateway and add the required role policy."
)
ACCOUNT = PatchTable[str | None](
    (rule("/cloudwatchRoleArn", "replace", lambda _, p: p.value or None),), Wording.BRIEF
)


def handlers(
    store: ApiStore, account: AccountSettings, access: Access
) -> dict[str, Handler]:
    def update_rest_api(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        patches = parse(p.get("patchOperations"))
        found = store.update_api(p["restApiId"], partial(REST_API.apply, patches=patches))
        return shapes.drop_none(shapes.rest_api(found))

    def update_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        found = store.update_resource(
            p["restApiId"], p["resourceId"], parse(p.get("patchOperations"))
        )
        return shapes.drop_none(shapes.resource(found))

    def update_method(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        patches = parse(p.get("patchOperations"))
        found = store.update_method(
            p["restApiId"], p["resourceId"], http_method_of(p),
            partial(METHOD.apply, patches=patches),
        )  # fmt: skip
        return shapes.drop_none(shapes.method(found))

    def update_integration(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        patches = parse(p.get("patchOperations"))

        def change(before: Integration) -> Integration:
            after = checked_integration(INTEGRATION.apply(before, patches))
            if after.credentials != before.credentials:  # a role newly passed to API Gateway
                after.credentials = checked_credentials(access, ctx, after.credentials)
            return after

        found = store.update_integration(
            p["restApiId"], p["resourceId"], http_method_of(p), change
        )
        return shapes.drop_none(shapes.integration(found))

    def update_method_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        patches = parse(p.get("patchOperations"))
        found = store.update_method_response(
            p["restApiId"], p["resourceId"], http_method_of(p), p["statusCode"],
            partial(METHOD_RESPONSE.apply, patches=patches),
        )  # fmt: skip
        return shapes.drop_none(shapes.method_response(found))

    def update_integration_response(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        patches = parse(p.get("patchOperations"))
        found = store.update_integration_response(
            p["restApiId"], p["resourceId"], http_method_of(p), p["statusCode"],
            partial(INTEGRATION_RESPONSE.apply, patches=patches),
        )  # fmt: skip
        return shapes.drop_none(shapes.integration_response(found))

    def update_deployment(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        patches = parse(p.get("patchOperations"))
        found = store.update_deployment(
            p["restApiId"], p["deploymentId"], partial(DEPLOYMENT.apply, patches=patches)
        )
        return shapes.drop_none(shapes.deployment(found))

    def update_stage(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        api_id = p["restApiId"]
        patches = parse(p.get("patchOperations"))
        ids = {d.id for d in store.deployments(api_id)}
        logging_allowed = account.cloudwatch_role_arn() is not None
        found = store.update_stage(
            api_id, p["stageName"],
            lambda s: stage_patch.apply(s, patches, ids.__contains__, logging_allowed),
        )  # fmt: skip
        return shapes.drop_none(shapes.stage(found))

    def get_account(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return shapes.account(account.cloudwatch_role_arn())

    def update_account(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        arn = ACCOUNT.apply(account.cloudwatch_role_arn(), parse(p.get("patchOperations")))
        if arn is not None:
            # API Gateway assumes the role and checks what it may do before taking it
            role = access.pass_role(ctx, arn, SERVICE_PRINCIPAL)
            if role is None or not access.role_allows(role, arn, "logs:PutLogEvents", "*"):
                raise bad_request(ROLE_REFUSED)
        account.set_cloudwatch_role_arn(arn)
        return shapes.account(arn)

    return {
        "UpdateRestApi": update_rest_api, "UpdateResource": update_resource,
        "UpdateMethod": update_method, "UpdateIntegration": update_integration,
        "UpdateMethodResponse": update_method_response,
        "UpdateIntegrationResponse": update_integration_response,
        "UpdateDeployment": update_deployment, "UpdateStage": update_stage,
        "GetAccount": get_account, "UpdateAccount": update_account,
    }  # fmt: skip

