"""The hosts SageMaker makes in a VpcConfig's subnets for an endpoint's instances and a
job's (SageMaker DG, "Give SageMaker AI hosted endpoints access to resources in your
Amazon VPC": https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html, and "Give
SageMaker AI training jobs access to resources in your Amazon VPC").

- Each is one requester-managed ENI in one of the subnets with the VpcConfig's security
  groups and two private IPs, a primary and a secondary one: the pages ask for "at least
  2 private IP addresses" per instance and point to EC2's "Multiple IP addresses" (the
  addresses of one interface). It shows in DescribeNetworkInterfaces (interface type
  `interface`, RequesterId sagemaker.amazonaws.com) and in the subnet's free count, and
  is released when its instance goes.
- In the AZ its caller placed it, the AZ's subnets take turns; the next one is tried when
  one has no room, and none with room fails with EC2's InsufficientFreeAddressesInSubnet
  text, which names the subnet.
- After a restart an instance adopts the ENI it had (its addresses and AZ), as AWS, whose
  endpoint never stopped, would still show it; ENIs that none adopted once the endpoints
  are back are released.
- What SageMaker moves to and from S3 for them goes through the VPC (`transfers`, an
  s3_transfer.InSubnet); when S3 cannot be reached, `s3_advice` says what to add to which
  route table.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from cove.host.network_attachment import NetworkAttachment
from cove.host.sandbox import Sandbox
from cove.network.attachments import Attachments, AttachmentUnavailable
from cove.network.fabric import CREDENTIALS_ADDRESS
from cove.network.failures import Failure, NetworkError
from cove.network.paths import S3Path, no_s3_route, s3_path
from cove.network.resources import SAGEMAKER_REQUESTER, NetworkInterface
from cove.network.s3_transfer import InSubnet, TransferFailed
from cove.network.store import NetworkStore

log = logging.getLogger(__name__)

INSTANCE_ADDRESSES = 2
URI_VARIABLE = "AWS_CONTAINER_CREDENTIALS_FULL_URI"  # botocore's container provider reads it


def credentials_inside(role_env: dict[str, str]) -> dict[str, str]:
    """The role's credentials variables (identity/vending.py's) for code on an ENI: the
    provider asks the ENI's container credentials address (ECS's 169.254.170.2, which
    botocore allows over HTTP), and no endpoint URL points anywhere (real names only)."""
    env = {k: v for k, v in role_env.items() if k != "AWS_ENDPOINT_URL"}
    if URI_VARIABLE in env:
        env[URI_VARIABLE] = f"http://{CREDENTIALS_ADDRESS}{urlparse(env[URI_VARIABLE]).path}"
    return env


class PlacementFailed(Exception):
    """The instance cannot be a host in the subnets; str() is a FailureReason."""


@dataclass(frozen=True)
class HostNic:
    """An instance's ENI: where it is, and how its processes join it."""

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
    pairs), starting with the one whose turn it is after the instances already there
    (`placed`: their AZs); all of them in turn when none is in `zone`."""
    own = [s for s, az in subnets if az == zone] or [s for s, _ in subnets]
    turn = sum(1 for p in placed if p == zone) % len(own)
    return own[turn:] + own[:turn]


def subnet_zones(store: NetworkStore, subnet_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(subnet, its AZ) for the subnets that exist."""
    found = []
    for subnet_id in subnet_ids:
        try:
            found.append((subnet_id, store.subnet(subnet_id).zone.name))
        except NetworkError:
            continue  # deleted since CreateModel: no zone; creating its ENI says so
    return found


class SageMakerHosts:
    def __init__(self, attachments: Attachments) -> None:
        self.attachments = attachments
        self.store = attachments.store
        # a previous run's, by description: several can share one (the old and the new
        # fleet of a blue/green update both number their instances from <variant>-1)
        self._stale: dict[str, list[NetworkInterface]] = {}
        self._lock = asyncio.Lock()

    def find_stale(self) -> None:
        """At start, before any endpoint comes back: the ENIs the last run's instances
        held, for them to adopt."""
        self._stale = {}
        for eni in self.store.interfaces():
            if eni.owner == SAGEMAKER_REQUESTER:
                self._stale.setdefault(eni.description, []).append(eni)

    async def release_unclaimed(self) -> None:
        """Once the endpoints are back: the ENIs no instance adopted go."""
        async with self._lock:
            stale, self._stale = [e for es in self._stale.values() for e in es], {}
        for eni in stale:
            await self.attachments.release(eni.eni_id)

    async def attach(
        self, subnets: Sequence[str], groups: Sequence[str], zone: str, placed: Sequence[str],
        key: str,
    ) -> HostNic:  # fmt: skip
        """An ENI for a new instance (`key`, its description) in `zone`, beside the
        instances in `placed` (their AZs), built and entered; PlacementFailed."""
        try:
            self.attachments.check()
            async with self._lock:
                eni = self._adopt(subnets, groups, key) or self._create(
                    subnets, groups, zone, placed, key
                )
            try:
                attachment = await self.attachments.attach(eni.eni_id)
            except BaseException:  # (cancelled too) no instance holds it: it goes
                await self._discard(eni.eni_id)
                raise
        except (NetworkError, AttachmentUnavailable) as exc:
            raise PlacementFailed(str(exc)) from None
        return HostNic(
            eni.eni_id, eni.vpc_id, eni.subnet_id, eni.zone.name, eni.private_ips, attachment
        )

    def _adopt(
        self, subnets: Sequence[str], groups: Sequence[str], key: str
    ) -> NetworkInterface | None:
        """A stale ENI described `key` that still fits (the ones that no longer do go
        with the unclaimed)."""
        stale = self._stale.get(key, [])
        for eni in stale:
            if eni.subnet_id in subnets and set(eni.group_ids) == set(groups):
                stale.remove(eni)
                return eni
        return None

    async def _discard(self, eni_id: str) -> None:
        """Release an ENI on the way out of a failure, which stays what is raised (the
        store changed: should this pass not build the VPC, the fabric's next one does)."""
        try:
            await self.attachments.release(eni_id)
        except Exception:
            log.warning("releasing %s failed", eni_id, exc_info=True)

    async def release(self, nic: HostNic) -> None:
        await self.attachments.release(nic.eni_id)

    def transfers(self, nic: HostNic, role_env: dict[str, str], sandbox: Sandbox) -> InSubnet:
        """Where SageMaker's transfers for the instance are made: on its ENI, as the role
        whose credentials variables `role_env` holds."""
        return InSubnet(nic.attachment, sandbox, credentials_inside(role_env))

    def s3_advice(self, nic: HostNic, exc: TransferFailed, whose: str) -> str:
        """What to do about a transfer that reached no S3 from the ENI (`whose` groups)."""
        snapshot = self.store.snapshot(nic.vpc_id)
        path = s3_path(snapshot, nic.subnet_id)
        if path is S3Path.NONE:
            return no_s3_route(snapshot, nic.subnet_id, self.store.region)
        return (
            f"S3 is routed from subnet {nic.subnet_id} through {path.value}, yet the "
            f"connection failed ({exc}): check that the {whose} security groups let it "
            "out (and an interface endpoint's groups let it in)"
        )

    def _create(
        self, subnets: Sequence[str], groups: Sequence[str], zone: str, placed: Sequence[str],
        key: str,
    ) -> NetworkInterface:  # fmt: skip
        full: NetworkError | None = None
        for subnet_id in in_turn(subnet_zones(self.store, subnets), zone, placed):
            try:
                return self.store.create_managed_interface(
                    subnet_id, list(groups), key, SAGEMAKER_REQUESTER, INSTANCE_ADDRESSES
                )
            except NetworkError as exc:
                if exc.failure is not Failure.SUBNET_FULL:
                    raise
                full = full or exc
        if full is None:  # none of the subnets exists any more
            raise NetworkError(Failure.SUBNET_NOT_FOUND, id=", ".join(subnets))
        raise full
