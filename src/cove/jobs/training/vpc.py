"""A training job with a VpcConfig is a host in one of its subnets (SageMaker DG, "Give
SageMaker AI training jobs access to resources in your Amazon VPC": its ENI in one of the
subnets with the job's security groups, at least 2 private IP addresses; without internet
access its containers "can't connect to the Amazon S3 buckets that contain your training
data unless you create a VPC endpoint"). Its process runs on that ENI, and SageMaker's own
transfers go through the VPC too, as the job's role (transfers.py): the channels'
listings (or manifest files) and objects before training, the model after.

With no way to S3 the job fails as SageMaker's do: "ClientError: Artifact upload
failed:Please ensure that the subnet's route table has a route to an S3 VPC endpoint or a
NAT device, and both the security groups and the subnet's network ACL allow outbound
traffic to S3" (as a job's status reports it: github.com/aws/amazon-sagemaker-operator-
for-k8s/pull/22); a channel that cannot be downloaded says the same after "Data download
failed:" (Cove's extrapolation of that text), and Cove adds which route table needs what."""

from __future__ import annotations

from typing import Any

from cove.host.sandbox import Sandbox
from cove.jobs.training.errors import ClientError
from cove.network.s3_transfer import InSubnet, TransferFailed
from cove.network.sagemaker_hosts import (
    HostNic,
    PlacementFailed,
    SageMakerHosts,
    description,
    subnet_zones,
)

ROUTE_ADVICE = (
    "Please ensure that the subnet's route table has a route to an S3 VPC endpoint or a NAT "
    "device, and both the security groups and the subnet's network ACL allow outbound "
    "traffic to S3"
)


class JobHost:
    """The job's ENI, where SageMaker's transfers for it are made."""

    def __init__(
        self, hosts: SageMakerHosts, nic: HostNic, role_env: dict[str, str], sandbox: Sandbox
    ) -> None:
        self.hosts = hosts
        self.nic = nic
        self.role_env = role_env  # the job's role, asked on its ENI
        self.sandbox = sandbox

    @classmethod
    async def place(
        cls, hosts: SageMakerHosts, name: str, vpc: dict[str, Any], role_env: dict[str, str],
        sandbox: Sandbox,
    ) -> JobHost:  # fmt: skip
        """An ENI in the first AZ of the job's subnets (one with room); ClientError."""
        subnets, groups = vpc["Subnets"], vpc["SecurityGroupIds"]
        zones = subnet_zones(hosts.store, subnets)
        zone = zones[0][1] if zones else ""
        try:
            key = description(f"training job {name}", "algo-1")
            nic = await hosts.attach(subnets, groups, zone, [], key)
        except PlacementFailed as exc:
            raise ClientError(str(exc)) from None
        return cls(hosts, nic, role_env, sandbox)

    def transfers(self) -> InSubnet:
        return self.hosts.transfers(self.nic, self.role_env, self.sandbox)

    def advice(self, exc: TransferFailed) -> str:
        """What to do about S3 out of reach from the job's subnet."""
        return self.hosts.s3_advice(self.nic, exc, "job's")

    async def release(self) -> None:
        await self.hosts.release(self.nic)
