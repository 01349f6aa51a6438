"""The control plane as the server runs it: its context, and its start and stop."""

from __future__ import annotations

from cove.config import Settings
from cove.control.context import ControlContext
from cove.control.deployments import Deployments
from cove.control.vpc import NetworkLookup
from cove.host.confinement import Confinement
from cove.identity.vending import RoleCredentials
from cove.runtime.contract import Runtime
from cove.storage.artifacts import ArtifactStore
from cove.storage.resources import ResourceStore


class ControlPlane:
    def __init__(self, context: ControlContext) -> None:
        self.context = context

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


def build_control_plane(
    settings: Settings,
    resources: ResourceStore,
    runtime: Runtime,
    artifacts: ArtifactStore,
    confinement: Confinement,
    credentials: RoleCredentials | None = None,
    network: NetworkLookup | None = None,
) -> ControlPlane:
    deployments = Deployments(resources, runtime, network)
    return ControlPlane(
        ControlContext(
            settings,
            resources,
            runtime,
            artifacts,
            deployments,
            confinement,
            credentials=credentials,
            network=network,
        )
    )
