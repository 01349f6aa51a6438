"""Functions in a VPC (Lambda DG, "Giving Lambda functions access to resources in an
Amazon VPC"): the function gets an ENI in one of its subnets with its security groups,
described `AWS Lambda VPC ENI-<function>`, and its workers run as hosts there. They reach
services as the VPC allows: through interface endpoints, or over an internet-gateway
route; with neither, their calls time out, as a Lambda function in a private subnet's do.
One ENI per function version's workers, as Lambda shares an ENI among the execution
environments of a function (per subnet and group set)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cove.functions.contracts import FunctionSpec, NetworkAttachment
from cove.network.fabric import Fabric
from cove.network.resources import InterfaceType
from cove.network.store import NetworkStore

DESCRIPTION = "AWS Lambda VPC ENI-"


class FunctionEnis:
    """FunctionNetworks on the network store and the fabric."""

    def __init__(self, store: NetworkStore, fabric: Fabric, ca_path: Path) -> None:
        self.store = store
        self.fabric = fabric
        self.ca_path = ca_path
        self._enis: dict[str, str] = {}  # function arn -> its ENI
        self._lock = asyncio.Lock()

    def forget_stale(self) -> None:
        """At start: a previous run's function ENIs go; workers that need one make it."""
        for eni in self.store.interfaces():
            if eni.interface_type is InterfaceType.LAMBDA:
                self.store.release_interface(eni.eni_id)

    async def attach(self, spec: FunctionSpec) -> NetworkAttachment:
        assert spec.vpc is not None
        if self.fabric.unavailable is not None:
            raise RuntimeError(f"VPC networks cannot be built here: {self.fabric.unavailable}")
        async with self._lock:
            eni_id = self._enis.get(spec.function_arn)
            if eni_id is None:
                eni = self.store.create_function_interface(
                    spec.vpc.subnet_ids[0], list(spec.vpc.security_group_ids),
                    f"{DESCRIPTION}{spec.name}",
                )  # fmt: skip
                eni_id = self._enis[spec.function_arn] = eni.eni_id
            eni = self.store.interface(eni_id)
            await self.fabric.reconcile(eni.vpc_id)
            namespace = self.fabric.namespace_of(eni_id)
            if namespace is None:
                raise RuntimeError(f"the network of {eni_id} could not be built")
            resolver = self.store.snapshot(eni.vpc_id).vpc.resolver_ip
        return NetworkAttachment(tuple(namespace.enter_argv()), resolver, self.ca_path)

    async def detach(self, function_arn: str) -> None:
        async with self._lock:
            eni_id = self._enis.pop(function_arn, None)
            if eni_id is None:
                return
            vpc_id = self.store.interface(eni_id).vpc_id
            self.store.release_interface(eni_id)
        await self.fabric.reconcile(vpc_id)
