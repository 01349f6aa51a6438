"""The instances of a model with a VpcConfig are hosts in its subnets (SageMaker DG, "Give
SageMaker AI hosted endpoints access to resources in your Amazon VPC":
https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html); their ENIs are
network/sagemaker_hosts.py's.

- Placement: an endpoint's instances are spread over the AZs of the model's subnets, round
  robin (SubnetZones, the runtime's placement seam: a new instance goes to the AZ, in the
  order the subnets name them, that holds the fewest of its variant's instances).
- The model artifact is downloaded through the VPC, from each subnet the instances are in
  (network/s3_transfer.py): where S3 cannot be reached, the endpoint fails with AWS's
  words and what to add to which route table.
"""

from __future__ import annotations

from collections.abc import Sequence

from cove.host.sandbox import Sandbox
from cove.network.s3_transfer import Transfer, TransferFailed, TransferFailure
from cove.network.sagemaker_hosts import HostNic, SageMakerHosts, subnet_zones
from cove.network.store import NetworkStore
from cove.runtime.contract import VariantSpec
from cove.runtime.model_store import ModelDataError
from cove.runtime.placement import Placement, spread

# SageMaker's FailureReason when an instance in a VPC cannot reach the model artifact (as
# CloudFormation reports it: github.com/aws-solutions-library-samples/guidance-for-text-
# generation-using-embeddings-from-enterprise-data-on-aws/issues/3)
UNREACHABLE_MODEL = (
    'Failed to download model data from URL "{url}". Please ensure that an S3 VPC endpoint '
    "exists in route table or NAT gateway for the VPC mode and the URL is reachable from "
    "within the subnets provided."
)


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


async def model_transfer(
    hosts: SageMakerHosts, nic: HostNic, job: Transfer, env: dict[str, str], sandbox: Sandbox
) -> None:
    """`job` (the model's download, or a check that it is reachable) made from the
    instance's ENI; ModelDataError with the endpoint's FailureReason."""
    try:
        await hosts.transfer(nic, job, env, sandbox)
    except TransferFailed as exc:
        if exc.failure is TransferFailure.REFUSED:
            reason = f'Failed to download model data from URL "{job.uri}": {exc}'
        else:
            advice = hosts.s3_advice(nic, exc, "model's")
            reason = f"{UNREACHABLE_MODEL.format(url=job.uri)} ({advice}.)"
        raise ModelDataError(reason) from None
