"""Functions in a VPC (Lambda DG, "Giving Lambda functions access to resources in an
Amazon VPC"): the function gets an ENI in one of its subnets with its security groups,
described `AWS Lambda VPC ENI-<function>`, and its workers run as hosts there. They reach
services as the VPC allows: through interface endpoints, or over an internet-gateway
route; with neither, their calls time out, as a Lambda function in a private subnet's do.
One ENI per function version's workers, as Lambda shares an ENI among the execution
environments of a function (per subnet and group set)."""

from __future__ import annotations

import asyncio

from cove.functions.contracts import FunctionSpec, NetworkAttachment
from cove.network.attachments import Attachments
from cove.network.resources import InterfaceType

DESCRIPTION = "AWS Lambda VPC ENI-"


class FunctionEnis:
    """FunctionNetworks on the network store and the fabric."""

    def __init__(self, attachments: Attachments) -> None:
        self.attachments = attachments
        self.store = attachments.store
        self._enis: dict[str, str] = {}  # function arn -> its ENI
        self._lock = asyncio.Lock()

    def forget_stale(self) -> None:
        """At start: a previous run's function ENIs go; workers that need one make it."""
        for eni in self.store.interfaces():
            if eni.interface_type is InterfaceType.LAMBDA:
                self.store.release_interface(eni.eni_id)

    async def attach(self, spec: FunctionSpec) -> NetworkAttachment:
        assert spec.vpc is not None
        self.attachments.check()
        async with self._lock:
            eni_id = self._enis.get(spec.function_arn)
            if eni_id is None:
                eni = self.store.create_function_interface(
                    spec.vpc.subnet_ids[0], list(spec.vpc.security_group_ids),
                    f"{DESCRIPTION}{spec.name}",
                )  # fmt: skip
                eni_id = self._enis[spec.function_arn] = eni.eni_id
            return await self.attachments.attach(eni_id)

    async def detach(self, function_arn: str) -> None:
        async with self._lock:
            eni_id = self._enis.pop(function_arn, None)
            if eni_id is not None:
                await self.attachments.release(eni_id)
