"""The API Gateway management API (rest-json). Its IAM actions are the HTTP verbs on the
resource path (`apigateway:POST` on `arn:aws:apigateway:<region>::/restapis`; Service
Authorization Reference, "Actions, resources, and condition keys for Amazon API Gateway
Management")."""

from __future__ import annotations

import re
from typing import Any

from cove.apis.account import AccountSettings
from cove.apis.failures import ApiFailure
from cove.apis.store import ApiStore
from cove.gateway.rest_service import RestService
from cove.http.messages import RequestContext
from cove.identity.access import Access
from cove.protocol.shapes import service_model
from cove.services.apigateway import updates
from cove.services.apigateway.errors import api_error
from cove.services.apigateway.management import handlers

_LABEL = re.compile(r"\{([^}+]+)\+?\}")


def apigateway_service(
    store: ApiStore, account: AccountSettings, access: Access
) -> RestService:
    model = service_model("apigateway")
    implemented = handlers(store, access) | updates.handlers(store, account, access)
    actions: dict[str, str | None] = {
        name: f"apigateway:{model.operation_model(name).http['method']}" for name in implemented
    }

    def resource_of(ctx: RequestContext, operation: str, params: dict[str, Any]) -> str:
        op = model.operation_model(operation)
        by_label = {
            m.serialization.get("name", n): params.get(n, "")
            for n, m in op.input_shape.members.items()
            if m.serialization.get("location") == "uri"
        }
        path = _LABEL.sub(lambda g: str(by_label.get(g.group(1), "*")), op.http["requestUri"])
        return f"arn:aws:apigateway:{store.region}::{path.split('?')[0]}"

    return RestService(
        "apigateway",
        implemented,
        actions,
        failures={ApiFailure: api_error},
        authorizer=access,
        resource_of=resource_of,
        # as AWS answers a broken constraint: "1 validation error detected: Value 'x' at
        # 'updateStageInput.patchOperations.1.member.op' failed to satisfy constraint: ..."
        validation_code="ValidationException",
        validation_root=lambda operation: operation[:1].lower() + operation[1:] + "Input",
    )
