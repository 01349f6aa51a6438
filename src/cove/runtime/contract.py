"""What the control plane asks of the data plane, and what it gets back.

The control plane turns an endpoint config into `VariantSpec`s and asks the `Runtime`
for a `Fleet`; a fleet is healthy or raises `FleetFailed` with a reason a person can
act on. The router sends invocations to the fleet installed for an endpoint; an update
installs a new fleet only after it is healthy, then stops the old one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class VpcPlacement:
    """The model's VpcConfig: its instances are hosts in these subnets, in these groups."""

    subnets: tuple[str, ...]
    security_group_ids: tuple[str, ...]


@dataclass(frozen=True)
class VariantSpec:
    variant_name: str
    model_name: str
    image: str  # PrimaryContainer.Image: a SageMaker image URI, an alias, or a local command
    model_data_url: str | None  # s3://... or file://... model.tar.gz (or a directory)
    environment: dict[str, str] = field(default_factory=dict)
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    weight: float = 1.0
    role_arn: str | None = None  # the model's ExecutionRoleArn: what its code may do
    # the model's VpcConfig: where its instances go (empty: no VPC)
    subnets: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    # EnableNetworkIsolation (the model's or the endpoint config's): no network, no
    # credentials for the instances' code
    network_isolation: bool = False

    @property
    def vpc(self) -> VpcPlacement | None:
        """The model's VpcConfig, if it has one."""
        if not self.subnets:
            return None
        return VpcPlacement(self.subnets, self.security_group_ids)


class FleetFailed(Exception):
    """A fleet could not become healthy; str(exc) is the endpoint's FailureReason."""


@dataclass
class InvokeResult:
    body: bytes
    content_type: str
    variant_name: str
    custom_attributes: str | None = None
    model_latency_us: float = 0.0  # time the instance took, as seen from the gateway


class Fleet(Protocol):
    """The instances serving one endpoint (one generation of it)."""

    variants: dict[str, VariantSpec]

    async def start(self) -> None:
        """Start every instance and return once all are healthy; raise FleetFailed."""

    async def stop(self) -> None:
        """Let in-flight requests finish, then stop every instance process."""

    def set_weight(self, variant_name: str, weight: float) -> None: ...

    async def set_instance_count(self, variant_name: str, count: int) -> None:
        """Grow or shrink a variant; new instances serve only once healthy."""


class Runtime(Protocol):
    def create_fleet(self, endpoint_name: str, specs: list[VariantSpec]) -> Fleet: ...

    def install(self, endpoint_name: str, fleet: Fleet) -> Fleet | None:
        """Route `endpoint_name` to `fleet`; returns the fleet it replaces."""

    def uninstall(self, endpoint_name: str) -> Fleet | None: ...

    async def shutdown(self) -> None:
        """Stop every fleet and leave no child process behind."""
