"""A real network store with one VPC (two subnets in two AZs, a security group), and a
stand-in for the part of the fabric that `Attachments` uses, which builds nothing: an ENI's
namespace is a placeholder, or none (`broken`: its build failed), and one build can be
made to hang until it is cancelled (`hang_at`), as a long build or download would, or to
raise (`raise_at`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from cove.network.attachments import Attachments
from cove.network.resources import SAGEMAKER_REQUESTER, NetworkInterface
from cove.network.sagemaker_hosts import SageMakerHosts
from cove.network.store import NetworkStore
from cove.storage.db import open_engine


class _Namespace:
    def enter_argv(self) -> list[str]:
        return ["true"]


class StandInFabric:
    def __init__(self) -> None:
        self.unavailable: str | None = None
        self.broken = False
        self.builds = 0
        self.hang_at: int | None = None  # the build (1, 2, ...) that hangs
        self.raise_at: int | None = None  # the build that raises OSError
        self.hanging = asyncio.Event()

    async def reconcile(self, vpc_id: str) -> None:
        self.builds += 1
        if self.builds == self.raise_at:
            raise OSError(f"build {self.builds} failed")
        if self.builds == self.hang_at:
            self.hanging.set()
            await asyncio.get_running_loop().create_future()  # until cancelled

    def namespace_of(self, eni_id: str) -> _Namespace | None:
        return None if self.broken else _Namespace()


@dataclass
class Vpc:
    store: NetworkStore
    fabric: StandInFabric
    hosts: SageMakerHosts
    subnets: tuple[str, str]  # in us-east-1a, us-east-1b
    group: str

    def enis(self) -> list[NetworkInterface]:
        """SageMaker's ENIs in the store."""
        return [e for e in self.store.interfaces() if e.owner == SAGEMAKER_REQUESTER]

    def free(self) -> list[int]:
        return [self.store.subnet(s).available_ips for s in self.subnets]


def vpc(tmp_path: Path) -> Vpc:
    store = NetworkStore(open_engine(f"sqlite:///{tmp_path / 'network.db'}"), "us-east-1",
                         "0" * 12)  # fmt: skip
    vpc_id = store.create_vpc("10.0.0.0/16").vpc_id
    a = store.create_subnet(vpc_id, "10.0.1.0/24", "us-east-1a").subnet_id
    b = store.create_subnet(vpc_id, "10.0.2.0/24", "us-east-1b").subnet_id
    group = store.create_group(vpc_id, "models", "the models' group").group_id
    fabric = StandInFabric()
    attachments = Attachments(store, fabric, tmp_path / "ca.pem")  # type: ignore[arg-type]
    return Vpc(store, fabric, SageMakerHosts(attachments), (a, b), group)
