"""What an endpoint keeps in the metadata store, typed: the variants it deployed (or is
deploying) and the deployment in progress. Documents keep the keys they always had, so
data dirs written before these types read back unchanged."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from cove.runtime.contract import VariantSpec

# VariantSpec fields a document leaves out while they hold their defaults, as documents
# written before specs had them did (so those read back and are written again unchanged)
_LEFT_OUT_AT_DEFAULT = ("role_arn", "subnets", "security_group_ids", "network_isolation")
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(VariantSpec)}
_TUPLES = ("subnets", "security_group_ids")  # lists in a document


@dataclass
class VariantRecord:
    """One production variant: the spec resolved from its model when the endpoint was
    created or updated (the config and model may be deleted since), what is wanted of it
    and, once a fleet runs it, what it runs at."""

    spec: VariantSpec
    serverless_config: dict[str, Any] | None
    desired_weight: float
    desired_instance_count: int
    current_weight: float | None = None
    current_instance_count: int | None = None
    resolution_time: float | None = None  # when its image was resolved for the first fleet

    @property
    def name(self) -> str:
        return self.spec.variant_name

    @property
    def deployed(self) -> bool:
        return self.current_weight is not None

    def fleet_spec(self) -> VariantSpec:
        """What to start: the spec at the desired weight and instance count."""
        return dataclasses.replace(
            self.spec, weight=self.desired_weight, instance_count=self.desired_instance_count
        )

    def mark_deployed(self, at: float) -> None:
        self.current_weight = self.desired_weight
        self.current_instance_count = self.desired_instance_count
        if self.resolution_time is None:
            self.resolution_time = at

    def roll_back_desired(self) -> None:
        """After a failed scaling: what runs is still the current values."""
        if self.current_weight is not None:
            self.desired_weight = self.current_weight
        if self.current_instance_count is not None:
            self.desired_instance_count = self.current_instance_count

    def to_doc(self) -> dict[str, Any]:
        spec = dataclasses.asdict(self.spec)
        for key in _LEFT_OUT_AT_DEFAULT:
            if spec[key] == _DEFAULTS[key]:
                del spec[key]
        for key in _TUPLES:
            if key in spec:
                spec[key] = list(spec[key])
        doc: dict[str, Any] = {
            "VariantName": self.name,
            "Spec": spec,
            "ServerlessConfig": self.serverless_config,
            "DesiredWeight": self.desired_weight,
            "DesiredInstanceCount": self.desired_instance_count,
        }
        if self.deployed:
            doc["CurrentWeight"] = self.current_weight
            doc["CurrentInstanceCount"] = self.current_instance_count
            doc["ResolutionTime"] = self.resolution_time
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> VariantRecord:
        return cls(
            spec=_spec(doc["Spec"]),
            serverless_config=doc.get("ServerlessConfig"),
            desired_weight=doc["DesiredWeight"],
            desired_instance_count=doc["DesiredInstanceCount"],
            current_weight=doc.get("CurrentWeight"),
            current_instance_count=doc.get("CurrentInstanceCount"),
            resolution_time=doc.get("ResolutionTime"),
        )


def _spec(doc: dict[str, Any]) -> VariantSpec:
    return VariantSpec(**{k: tuple(v) if k in _TUPLES else v for k, v in doc.items()})


@dataclass
class PendingDeployment:
    """An endpoint config being deployed by CreateEndpoint or UpdateEndpoint."""

    config_name: str
    variants: list[VariantRecord]
    start_time: float

    def to_doc(self) -> dict[str, Any]:
        return {
            "EndpointConfigName": self.config_name,
            "Variants": [v.to_doc() for v in self.variants],
            "StartTime": self.start_time,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PendingDeployment:
        return cls(
            doc["EndpointConfigName"],
            [VariantRecord.from_doc(v) for v in doc["Variants"]],
            doc["StartTime"],
        )


@dataclass
class EndpointRecord:
    """An endpoint's document. `variants` is what serves (None until the first fleet
    does); `pending` what is being deployed; UpdateEndpointWeightsAndCapacities changes
    the desired values of `variants` in place, with no pending deployment."""

    config_name: str
    variants: list[VariantRecord] | None = None
    pending: PendingDeployment | None = None
    failure_reason: str | None = None
    deployment_config: dict[str, Any] | None = None
    tags: list[dict[str, str]] = field(default_factory=list)

    def variant(self, name: str) -> VariantRecord | None:
        return next((v for v in self.variants or [] if v.name == name), None)

    def settle(self, reason: str | None) -> None:
        """A transition ended: its reason (or none) is the endpoint's FailureReason."""
        self.failure_reason = reason
        self.pending = None

    def to_doc(self) -> dict[str, Any]:
        return {
            "EndpointConfigName": self.config_name,
            "Variants": None if self.variants is None else [v.to_doc() for v in self.variants],
            "Pending": None if self.pending is None else self.pending.to_doc(),
            "FailureReason": self.failure_reason,
            "DeploymentConfig": self.deployment_config,
            "Tags": self.tags,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> EndpointRecord:
        variants, pending = doc.get("Variants"), doc.get("Pending")
        return cls(
            config_name=doc["EndpointConfigName"],
            variants=None if variants is None else [VariantRecord.from_doc(v) for v in variants],
            pending=None if pending is None else PendingDeployment.from_doc(pending),
            failure_reason=doc.get("FailureReason"),
            deployment_config=doc.get("DeploymentConfig"),
            tags=list(doc.get("Tags") or []),
        )
