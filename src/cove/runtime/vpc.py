"""The instances of a model with a VpcConfig are hosts in its subnets (SageMaker DG, "Give
SageMaker AI hosted endpoints access to resources in your Amazon VPC":
https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html).

- Placement: an endpoint's instances are spread over the AZs of the model's subnets, round
  robin (SubnetZones, the runtime's placement seam: a new instance goes to the AZ, in the
  order the subnets name them, that holds the fewest of its variant's instances); within
  an AZ its subnets take turns, and the next one is tried when one has no room.
- Each instance is one requester-managed ENI in its subnet with the model's security
  groups and two private IPs, a primary and a secondary one: the page asks for "at least
  2 private IP addresses" per instance and points to EC2's "Multiple IP addresses" (the
  addresses of one interface). The ENI shows in DescribeNetworkInterfaces (interface type
  `interface`, RequesterId sagemaker.amazonaws.com) and in the subnet's free count, and is
  released when its instance goes.
- A subnet without room fails the endpoint with EC2's InsufficientFreeAddressesInSubnet
  text, which names the subnet.
- After a restart an instance adopts the ENI it had (its addresses and AZ), as AWS, whose
  endpoint never stopped, would still show it; ENIs that no instance adopted once the
  endpoints are back are released.
- The model artifact is downloaded through the VPC, from each subnet the instances are in
  (network/s3_transfer.py): where S3 cannot be reached, the endpoint fails with AWS's
  words and what to add to which route table.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cove.host.network_attachment import NetworkAttachment
from cove.host.sandbox import Sandbox
from cove.network.attachments import Attachments, AttachmentUnavailable
from cove.network.failures import Failure, NetworkError
from cove.network.paths import S3Path, no_s3_route, s3_path
from cove.network.resources import SAGEMAKER_REQUESTER, NetworkInterface
from cove.network.s3_transfer import Transfer, TransferFailed, TransferFailure, transfer
from cove.network.store import NetworkStore
from cove.runtime.contract import VariantSpec, VpcPlacement
from cove.runtime.model_store import ModelDataError
from cove.runtime.placement import Placement, spread

INSTANCE_ADDRESSES = 2


class PlacementFailed(Exception):
    """The instance cannot be a host in the model's subnets; str() is a FailureReason."""


# SageMaker's FailureReason when an instance in a VPC cannot reach the model artifact (as
# CloudFormation reports it: github.com/aws-solutions-library-samples/guidance-for-text-
# generation-using-embeddings-from-enterprise-data-on-aws/issues/3)
UNREACHABLE_MODEL = (
    'Failed to download model data from URL "{url}". Please ensure that an S3 VPC endpoint '
    "exists in route table or NAT gateway for the VPC mode and the URL is reachable from "
    "within the subnets provided."
)


@dataclass(frozen=True)
class InstanceNic:
    """An instance's ENI: where it is, and how its process joins it."""

    eni_id: str
    vpc_id: str
    subnet_id: str
    az: str
    private_ips: tuple[str, ...]
    attachment: NetworkAttachment


def description(owner: str, instance_id: str) -> str:
    """What DescribeNetworkInterfaces shows for an instance's ENI (Cove's words: AWS's
    description of these ENIs is not documented) and what a restart finds it by."""
    return f"SageMaker {owner} instance {instance_id}"


def in_turn(subnets: Sequence[tuple[str, str]], zone: str, placed: Sequence[str]) -> list[str]:
    """The subnets to try for a new instance in `zone`, in order: that AZ's ((subnet, AZ)
    pairs), starting with the one whose turn it is after the variant's instances already
    there (`placed`: their AZs); all of them in turn when none is in `zone`."""
    own = [s for s, az in subnets if az == zone] or [s for s, _ in subnets]
    turn = sum(1 for p in placed if p == zone) % len(own)
    return own[turn:] + own[:turn]


class SubnetZones:
    """The runtime's placement (runtime/placement.py): a model with a VpcConfig spreads
    over the AZs of its subnets, in the order they name them; any other as `fallback`."""

    def __init__(self, store: NetworkStore, fallback: Placement) -> None:
        self.store = store
        self.fallback = fallback

    def zone(self, spec: VariantSpec, placed: Sequence[str]) -> str:
        zones = [z for _, z in _zones(self.store, spec.subnets)]
        if not zones:
            return self.fallback.zone(spec, placed)
        return spread(list(dict.fromkeys(zones)), placed)


def _zones(store: NetworkStore, subnet_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(subnet, its AZ) for the subnets that exist."""
    found = []
    for subnet_id in subnet_ids:
        try:
            found.append((subnet_id, store.subnet(subnet_id).zone.name))
        except NetworkError:
            continue  # deleted since CreateModel: no zone; creating its ENI says so
    return found


class InstanceNetworks:
    def __init__(self, attachments: Attachments) -> None:
        self.attachments = attachments
        self.store = attachments.store
        self._stale: dict[str, NetworkInterface] = {}  # a previous run's, by description
        self._lock = asyncio.Lock()

    def find_stale(self) -> None:
        """At start, before any endpoint comes back: the ENIs the last run's instances
        held, for them to adopt."""
        self._stale = {
            e.description: e for e in self.store.interfaces() if e.owner == SAGEMAKER_REQUESTER
        }

    async def release_unclaimed(self) -> None:
        """Once the endpoints are back: the ENIs no instance adopted go."""
        async with self._lock:
            stale, self._stale = list(self._stale.values()), {}
        for eni in stale:
            await self.attachments.release(eni.eni_id)

    async def attach(
        self, vpc: VpcPlacement, zone: str, placed: Sequence[str], key: str
    ) -> InstanceNic:
        """An ENI for a new instance (`key`, its description) in `zone`, beside its
        variant's instances in `placed` (their AZs), built and entered."""
        try:
            self.attachments.check()
            async with self._lock:
                eni = self._stale.get(key)
                if eni is not None and _fits(eni, vpc):
                    del self._stale[key]
                else:  # (one that no longer fits goes with the unclaimed)
                    eni = self._create(vpc, zone, placed, key)
            return InstanceNic(
                eni.eni_id, eni.vpc_id, eni.subnet_id, eni.zone.name, eni.private_ips,
                await self.attachments.attach(eni.eni_id),
            )  # fmt: skip
        except (NetworkError, AttachmentUnavailable) as exc:
            raise PlacementFailed(str(exc)) from None

    async def release(self, nic: InstanceNic) -> None:
        await self.attachments.release(nic.eni_id)

    async def model_transfer(
        self, nic: InstanceNic, job: Transfer, env: dict[str, str], sandbox: Sandbox
    ) -> None:
        """`job` (the model's download, or a check that it is reachable) made from the
        instance's ENI; ModelDataError with the endpoint's FailureReason."""
        work = Path(tempfile.mkdtemp(prefix=".transfer-", dir=job.local.parent if job.local
                                     else None))  # fmt: skip
        try:
            await transfer(job, nic.attachment, sandbox, work, env)
        except TransferFailed as exc:
            raise ModelDataError(self._unreachable(nic, job.uri, exc)) from None
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    def _unreachable(self, nic: InstanceNic, url: str, exc: TransferFailed) -> str:
        if exc.failure is TransferFailure.REFUSED:
            return f'Failed to download model data from URL "{url}": {exc}'
        snapshot = self.store.snapshot(nic.vpc_id)
        path = s3_path(snapshot, nic.subnet_id)
        if path is S3Path.NONE:
            advice = no_s3_route(snapshot, nic.subnet_id, self.store.region)
        else:
            advice = (
                f"S3 is routed from subnet {nic.subnet_id} through {path.value}, yet the "
                f"connection failed ({exc}): check that the model's security groups let it "
                "out (and an interface endpoint's groups let it in)"
            )
        return f"{UNREACHABLE_MODEL.format(url=url)} ({advice}.)"

    def _create(
        self, vpc: VpcPlacement, zone: str, placed: Sequence[str], key: str
    ) -> NetworkInterface:
        full: NetworkError | None = None
        for subnet_id in in_turn(_zones(self.store, vpc.subnets), zone, placed):
            try:
                return self.store.create_managed_interface(
                    subnet_id, list(vpc.security_group_ids), key, SAGEMAKER_REQUESTER,
                    INSTANCE_ADDRESSES,
                )  # fmt: skip
            except NetworkError as exc:
                if exc.failure is not Failure.SUBNET_FULL:
                    raise
                full = full or exc
        if full is None:  # none of the model's subnets exists any more
            raise NetworkError(Failure.SUBNET_NOT_FOUND, id=", ".join(vpc.subnets))
        raise full


def _fits(eni: NetworkInterface, vpc: VpcPlacement) -> bool:
    """A previous run's ENI still fits the model: in one of its subnets, with its groups."""
    return eni.subnet_id in vpc.subnets and set(eni.group_ids) == set(vpc.security_group_ids)
