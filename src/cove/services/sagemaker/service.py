"""The SageMaker API (json 1.1): every handler provider merged into one service.

Adding operations is one line: append "<module>:<function>" to HANDLER_PROVIDERS. The
function takes the ControlContext (settings, resource store, runtime, artifacts,
deployments) and returns {"OperationName": handler}; a handler takes
(ctx: RequestContext, params: dict) and returns a dict or an awaitable of one, which is
filtered by the operation's output shape. A provider with background work of its own
appends coroutine functions to `context.on_start` / `context.on_stop`.
"""

from __future__ import annotations

import importlib
from typing import Any

from cove.control.context import ControlContext
from cove.gateway.json_service import Handler, JsonRpcService
from cove.iam.policy import ROOT_ONLY, Authorizer
from cove.services.sagemaker.condition_keys import keys_of
from cove.services.sagemaker.passed_roles import PassedRoles
from cove.services.sagemaker.resources import resource_of

HANDLER_PROVIDERS = [
    "cove.services.sagemaker.models:handlers",
    "cove.services.sagemaker.endpoint_configs:handlers",
    "cove.services.sagemaker.endpoints:handlers",
    "cove.services.sagemaker.tags:handlers",
    "cove.services.sagemaker.training_jobs:handlers",
]


def _load(provider: str) -> Any:
    module, _, function = provider.partition(":")
    return getattr(importlib.import_module(module), function)


def sagemaker_service(
    context: ControlContext,
    authorizer: Authorizer = ROOT_ONLY,
    passed_roles: PassedRoles | None = None,
) -> JsonRpcService:
    """`passed_roles` checks the roles CreateModel and the jobs pass (iam:PassRole and the
    role's trust); without it (a control plane alone, in unit tests) roles go unchecked."""
    handlers: dict[str, Handler] = {}
    for provider in HANDLER_PROVIDERS:
        provided = _load(provider)(context)
        clash = handlers.keys() & provided.keys()
        if clash:
            raise RuntimeError(f"{provider} redefines {sorted(clash)}")
        handlers.update(provided)
    if passed_roles is not None:
        handlers = passed_roles.guard(handlers)
    return JsonRpcService(
        "sagemaker",
        handlers,
        authorizer=authorizer,
        resource_of=resource_of(context.settings, context.tags),
        keys_of=keys_of,
    )
