"""One fleet's instances of models in a VPC as hosts in their subnets: their ENIs
(network/sagemaker_hosts.py makes them), and the models' artifacts downloaded through
them, as SageMaker downloads the artifact on every instance: from each subnet new
instances are in, the archive itself the first time, then a check that it can be read
from there too (an instance whose subnet reaches no S3 fails the endpoint)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from cove.host.confinement import Confinement
from cove.network.s3_transfer import InSubnet, Transfer, TransferFailed
from cove.network.sagemaker_hosts import HostNic, PlacementFailed, SageMakerHosts, description
from cove.runtime.contract import VariantSpec, VpcPlacement
from cove.runtime.model_download import model_transfer
from cove.runtime.model_store import ModelCopy, ModelStore


def through_vpc(spec: VariantSpec) -> bool:
    """Whether the model's artifact comes through its VPC (an s3:// one of a model in one)."""
    return spec.vpc is not None and (spec.model_data_url or "").startswith("s3://")


class FleetEnis:
    def __init__(
        self, networks: SageMakerHosts | None, endpoint_name: str, confinement: Confinement,
        models: ModelStore,
    ) -> None:  # fmt: skip
        self.networks = networks
        self.endpoint_name = endpoint_name
        self.confinement = confinement
        self.models = models
        self._nics: dict[str, HostNic] = {}  # instance id -> its ENI

    async def attach(
        self, vpc: VpcPlacement, zone: str, placed: Sequence[str], instance_id: str
    ) -> HostNic:
        """The ENI of a new instance in `zone` (its variant's others are in `placed`);
        PlacementFailed."""
        if self.networks is None:
            raise PlacementFailed("The model has a VpcConfig, and this Cove builds no VPCs.")
        key = description(f"endpoint {self.endpoint_name}", instance_id)
        nic = self._nics[instance_id] = await self.networks.attach(
            vpc.subnets, vpc.security_group_ids, zone, placed, key
        )
        return nic

    async def release(self, instance_ids: Iterable[str]) -> None:
        """The ENIs of instances that stopped (or never started) go."""
        for instance_id in instance_ids:
            nic = self._nics.pop(instance_id, None)
            if nic is not None and self.networks is not None:
                await self.networks.release(nic)

    async def reach_model(
        self, spec: VariantSpec, new: Sequence[str], model: ModelCopy | None,
        reached: set[str], role_env: dict[str, str],
    ) -> ModelCopy | None:  # fmt: skip
        """The variant's model once `new` instances (ids) reached it from their subnets
        (`reached`, updated, are those it came from before); ModelDataError."""
        networks, url = self.networks, spec.model_data_url
        if not through_vpc(spec) or networks is None or url is None:
            return model
        sandbox = self.confinement.sandbox
        for instance_id in new:
            nic = self._nics[instance_id]
            if nic.subnet_id in reached:
                continue
            where = networks.transfers(nic, role_env, sandbox)

            def advice(exc: TransferFailed, nic: HostNic = nic) -> str:
                assert networks is not None
                return networks.s3_advice(nic, exc, "model's")

            async def fetch(url: str, archive: Path, where: InSubnet = where) -> None:
                await model_transfer(Transfer("get", url, archive), where, advice)

            if model is None:
                model = await self.models.prepare(url, fetch)
            else:
                await model_transfer(Transfer("head", url), where, advice)
            reached.add(nic.subnet_id)
        return model
