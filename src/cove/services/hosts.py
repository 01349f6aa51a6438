"""`/_cove/hosts`: hosts in a subnet for `cove exec`, the way RunInstances makes an EC2
instance there: an ENI with a private IP from the subnet and the given security groups
(the VPC's default group when none), a namespace holding it, the VPC's resolver, and, with
a role, that role's credentials through the host's instance metadata service. The caller
signs as for EC2 and needs `ec2:RunInstances` (and `iam:PassRole` on the role, which must
trust `ec2.amazonaws.com`, as an instance profile's role must: IAM User Guide, "Use an IAM
role to grant permissions to applications running on Amazon EC2 instances").

POST /_cove/hosts {"SubnetId", "SecurityGroupIds", "RoleArn"} -> the host;
DELETE /_cove/hosts/<instance id> ends it (its namespace and everything in it)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cove.errors import AwsError
from cove.gateway.service import ServiceDefaults
from cove.http.messages import Request, Response
from cove.identity.access import Access
from cove.identity.directory import Directory
from cove.identity.vending import CredentialVending
from cove.network.fabric import Fabric
from cove.network.hosts import Host, new_instance_id
from cove.network.store import NetworkStore

PATH = "/_cove/hosts"
HOST_DESCRIPTION = "cove exec host"
EC2_PRINCIPAL = "ec2.amazonaws.com"
_JSON = [("Content-Type", "application/json")]


@dataclass
class HostRegistry:
    """The hosts alive now, by instance id and by ENI (the metadata service asks)."""

    by_instance: dict[str, Host]

    def host(self, interface_id: str) -> Host | None:
        return next(
            (h for h in self.by_instance.values() if h.interface.eni_id == interface_id), None
        )


class HostsService(ServiceDefaults):
    protocol = "rest-json"
    signing_names = ("ec2",)

    def __init__(
        self, store: NetworkStore, fabric: Fabric, directory: Directory, access: Access,
        vending: CredentialVending, registry: HostRegistry, state_dir: Path, region: str,
    ) -> None:  # fmt: skip
        self.store = store
        self.fabric = fabric
        self.directory = directory
        self.access = access
        self.vending = vending
        self.state_dir = state_dir
        self.region = region
        self.registry = registry

    def claims(self, req: Request) -> bool:
        return req.path == PATH or req.path.startswith(PATH + "/")

    def error_response(self, err: AwsError, req: Request) -> Response:
        body = {"Code": err.code, "Message": err.message}
        return Response(err.status, _JSON, json.dumps(body).encode())

    async def handle(self, req: Request) -> Response:
        if req.method == "POST" and req.path == PATH:
            return await self._create(req)
        if req.method == "DELETE" and req.path.startswith(PATH + "/"):
            return await self._delete(req, req.path.removeprefix(PATH + "/"))
        raise AwsError("InvalidAction", f"{req.method} {req.path} is not an operation", 400)

    async def _create(self, req: Request) -> Response:
        ctx = req.context
        try:
            params: dict[str, Any] = json.loads(req.body or b"{}")
        except ValueError:
            raise AwsError("InvalidParameterValue", "The body is not JSON.", 400) from None
        subnet_id = params.get("SubnetId")
        if not isinstance(subnet_id, str) or not subnet_id:
            raise AwsError(
                "MissingParameter", "The request must contain the parameter SubnetId", 400
            )
        groups = [str(g) for g in params.get("SecurityGroupIds") or []]
        role_arn = params.get("RoleArn") or None
        self.access.authorize(ctx, "ec2:RunInstances", "*")
        if self.fabric.unavailable is not None:
            raise AwsError("Unsupported", f"VPC networks cannot be built here: "
                                          f"{self.fabric.unavailable}", 400)  # fmt: skip
        if role_arn is not None:
            self._check_role(req, role_arn)
        eni = self.store.create_host_interface(subnet_id, groups, HOST_DESCRIPTION)
        instance_id = new_instance_id()
        token = self.vending.grant(role_arn, instance_id) if role_arn else None
        host = Host(instance_id, eni, role_arn, token)
        self.registry.by_instance[instance_id] = host
        await self.fabric.reconcile(eni.vpc_id)
        namespace = self.fabric.namespace_of(eni.eni_id)
        if namespace is None:
            await self._end(host)
            raise AwsError("InternalError", "the host's network could not be built", 500)
        vpc = self.store.snapshot(eni.vpc_id).vpc
        resolv = self.state_dir / f"{instance_id}.resolv.conf"
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # the VPC's resolver, as DHCP gives it to an instance (AmazonProvidedDNS); private
        # like everything in the data dir
        fd = os.open(resolv, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(f"nameserver {vpc.resolver_ip}\noptions timeout:2 attempts:2\n")
        body = {
            "InstanceId": instance_id,
            "NetworkInterfaceId": eni.eni_id,
            "PrivateIpAddress": eni.private_ip,
            "SubnetId": eni.subnet_id,
            "VpcId": eni.vpc_id,
            "AvailabilityZone": eni.zone.name,
            "NamespacePath": namespace.path,
            "ResolvConf": str(resolv),
            "Region": self.region,
        }
        return Response(200, _JSON, json.dumps(body).encode())

    def _check_role(self, req: Request, role_arn: str) -> None:
        self.access.authorize(req.context, "iam:PassRole", role_arn)
        role = self.directory.role_by_arn(role_arn)
        if role is None or not self.access.trusts_service(role, role_arn, EC2_PRINCIPAL):
            raise AwsError(
                "InvalidParameterValue",
                f"Value ({role_arn}) for parameter iamInstanceProfile.arn is invalid: the role "
                f"does not exist or does not trust '{EC2_PRINCIPAL}'.",
                400,
            )

    async def _delete(self, req: Request, instance_id: str) -> Response:
        self.access.authorize(req.context, "ec2:TerminateInstances", "*")
        host = self.registry.by_instance.get(instance_id)
        if host is None:
            raise AwsError(
                "InvalidInstanceID.NotFound",
                f"The instance ID '{instance_id}' does not exist",
                400,
            )
        await self._end(host)
        return Response(200, _JSON, json.dumps({"InstanceId": instance_id}).encode())

    async def _end(self, host: Host) -> None:
        self.registry.by_instance.pop(host.instance_id, None)
        if host.credentials_token:
            self.vending.revoke(host.credentials_token)
        self.store.delete_interface(host.interface.eni_id)
        await self.fabric.reconcile(host.interface.vpc_id)
        (self.state_dir / f"{host.instance_id}.resolv.conf").unlink(missing_ok=True)

    def forget_stale(self) -> None:
        """A previous run's hosts ended with it: their ENIs go (before the fabric builds)."""
        for eni in self.store.interfaces():
            if not eni.requester_managed and eni.description == HOST_DESCRIPTION:
                self.store.delete_interface(eni.eni_id)

    async def end_all(self) -> None:
        for host in list(self.registry.by_instance.values()):
            await self._end(host)
