"""What every handler provider of the control plane is built from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cove.config import Settings
from cove.control.tags import TagIndex
from cove.control.vpc import NetworkLookup
from cove.host.confinement import Confinement
from cove.identity.vending import RoleCredentials
from cove.network.sagemaker_hosts import SageMakerHosts
from cove.runtime.contract import Runtime
from cove.storage.artifacts import ArtifactStore
from cove.storage.resources import ResourceStore

if TYPE_CHECKING:
    from cove.control.deployments import Deployments


@dataclass
class ControlContext:
    settings: Settings
    resources: ResourceStore
    runtime: Runtime
    artifacts: ArtifactStore  # the s3:// and file:// reader and writer
    deployments: Deployments
    confinement: Confinement  # the sandbox and cgroups job processes run in
    # execution roles' credentials for the jobs' code; None: jobs run without any
    credentials: RoleCredentials | None = None
    # the account's subnets and security groups, which VpcConfigs name; None: unchecked
    network: NetworkLookup | None = None
    # where jobs with a VpcConfig get their ENIs (set once the network fabric is made)
    hosts: SageMakerHosts | None = None
    # Providers with long-running work of their own (e.g. a job runner) register here:
    # `on_start` runs after the endpoints are reconciled, `on_stop` before the runtime stops.
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # every resource's tags, kept current by the store's change notices (aws:ResourceTag)
    tags: TagIndex = field(init=False)

    def __post_init__(self) -> None:
        self.tags = TagIndex(self.resources)
