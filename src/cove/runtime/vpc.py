"""The instances of a model with a VpcConfig are hosts in its subnets (SageMaker DG, "Give
SageMaker AI hosted endpoints access to resources in your Amazon VPC":
https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html); their ENIs are
network/sagemaker_hosts.py's.

- Placement: an endpoint's instances are spread over the AZs of the model's subnets, round
  robin (SubnetZones, the runtime's placement seam: a new instance goes to the AZ, in the
  order the subnets name them, that holds the fewest of its variant's instances).
- The model artifact is downloaded through the VPC, from each subnet the instances are in
  (fleet_vpc.py, model_download.py): where S3 cannot be reached, the endpoint fails with
  AWS's words and what to add to which route table.
"""

from __future__ import annotations

from collections.abc import Sequence

from cove.network.sagemaker_hosts import subnet_zones
from cove.network.store import NetworkStore
from cove.runtime.contract import VariantSpec
from cove.runtime.placement import Placement, spread


class SubnetZones:
    """The runtime's placement (runtime/placement.py): a model with a VpcConfig spreads
    over the AZs of its subnets, in the order they name them; any other as `fallback`."""

    def __init__(self, store: NetworkStore, fallback: Placement) -> None:
        self.store = store
        self.fallback = fallback

    def zone(self, spec: VariantSpec, placed: Sequence[str]) -> str:
        zones = [z for _, z in subnet_zones(self.store, spec.subnets)]
        if not zones:
            return self.fallback.zone(spec, placed)
        return spread(list(dict.fromkeys(zones)), placed)
