"""ENIs that code Cove runs is attached to (a function's workers, a model instance, a
training job): the fabric builds the ENI's namespace, and what runs there gets it as a
NetworkAttachment (the namespace's own argv prefix, the VPC's resolver, Cove's CA). The
ENIs are requester-managed: their owner makes them and releases them, not the account."""

from __future__ import annotations

from pathlib import Path

from cove.host.network_attachment import NetworkAttachment
from cove.network.fabric import Fabric
from cove.network.store import NetworkStore


class AttachmentUnavailable(Exception):
    """No VPC network can be built here, or this ENI's could not be; str() says why."""


class Attachments:
    def __init__(self, store: NetworkStore, fabric: Fabric, ca_path: Path) -> None:
        self.store = store
        self.fabric = fabric
        self.ca_path = ca_path

    def check(self) -> None:
        """AttachmentUnavailable when this host builds no VPC networks (fail closed)."""
        if self.fabric.unavailable is not None:
            raise AttachmentUnavailable(
                f"VPC networks cannot be built here: {self.fabric.unavailable}"
            )

    async def attach(self, eni_id: str) -> NetworkAttachment:
        """The ENI's network, built (it may be new or just changed)."""
        self.check()
        eni = self.store.interface(eni_id)
        await self.fabric.reconcile(eni.vpc_id)
        namespace = self.fabric.namespace_of(eni_id)
        if namespace is None:
            raise AttachmentUnavailable(f"the network of {eni_id} could not be built")
        resolver = self.store.snapshot(eni.vpc_id).vpc.resolver_ip
        return NetworkAttachment(
            tuple(namespace.enter_argv()), resolver, self.ca_path, eni.private_ip
        )

    async def release(self, eni_id: str) -> None:
        """Its owner is done with the ENI: it goes, and its addresses are free again."""
        vpc_id = self.store.interface(eni_id).vpc_id
        self.store.release_interface(eni_id)
        await self.fabric.reconcile(vpc_id)
