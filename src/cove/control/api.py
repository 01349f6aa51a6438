"""The SageMaker json 1.1 service: every handler provider merged into one service.

Adding operations from another subsystem is one line: append "<module>:<function>" to
HANDLER_PROVIDERS below. The function takes the ControlContext (settings, resource store,
runtime, artifacts, deployments) and returns {"OperationName": handler}; a handler takes
(ctx: RequestContext, params: dict) and returns a dict or an awaitable of one, which is
filtered by the operation's output shape. A provider with background work of its own
appends coroutine functions to `context.on_start` / `context.on_stop`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from cove.config import Settings
from cove.control.context import ControlContext
from cove.control.deployments import Deployments
from cove.host.confinement import Confinement
from cove.protocol.json_rpc import Handler, JsonRpcService
from cove.runtime.contract import Runtime
from cove.storage.resources import ResourceStore

HANDLER_PROVIDERS = [
    "cove.control.models:handlers",
    "cove.control.endpoint_configs:handlers",
    "cove.control.endpoints:handlers",
    "cove.control.tags:handlers",
    "cove.jobs.training.api:handlers",
]


class ControlPlane:
    def __init__(self, context: ControlContext, handlers: Mapping[str, Handler]) -> None:
        self.context = context
        self.service = JsonRpcService("sagemaker", handlers)

    async def start(self) -> None:
        """Reconcile endpoints with the data plane, then start the providers' own work."""
        await self.context.deployments.start()
        for hook in self.context.on_start:
            await hook()

    async def stop(self) -> None:
        """Cancel in-flight work; what was persisted is resumed by the next start."""
        for hook in reversed(self.context.on_stop):
            await hook()
        await self.context.deployments.stop()


def _load(provider: str) -> Any:
    module, _, function = provider.partition(":")
    return getattr(importlib.import_module(module), function)


def build_control_plane(
    settings: Settings,
    resources: ResourceStore,
    runtime: Runtime,
    artifacts: Any,
    confinement: Confinement,
) -> ControlPlane:
    context = ControlContext(
        settings, resources, runtime, artifacts, Deployments(resources, runtime), confinement
    )
    handlers: dict[str, Handler] = {}
    for provider in HANDLER_PROVIDERS:
        provided = _load(provider)(context)
        clash = handlers.keys() & provided.keys()
        if clash:
            raise RuntimeError(f"{provider} redefines {sorted(clash)}")
        handlers.update(provided)
    return ControlPlane(context, handlers)
