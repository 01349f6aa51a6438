"""`/_cove/hosts`: hosts in a subnet for `cove exec`, the way RunInstances makes an EC2
instance there: an ENI with a private IP from the subnet and the given security groups
(the VPC's default group when none), a namespace holding it, the VPC's resolver, and, with
a role, that role's credentials through the host's instance metadata service. The caller
signs as for EC2 and needs `ec2:RunInstances` (and `iam:PassRole` on the role, which must
trust `ec2.amazonaws.com`, as an instance profile's role must: IAM User Guide, "Use an IAM
role to grant permissions to applications running on Amazon EC2 instances").

POST /_cove/hosts {"SubnetId", "SecurityGroupIds", "RoleArn", "ClientPid"} -> the host;
DELETE /_cove/hosts/<instance id> ends it (its namespace and everything in it), and so
does the end of the process ClientPid names (a killed `cove exec`)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from cove.errors import AwsError
from cove.gateway.service import ServiceDefaults
from cove.host.pids import alive
from cove.http.messages import Request, Response
from cove.identity.access import Access
from cove.identity.vending import CredentialVending
from cove.network.fabric import Fabric
from cove.network.hosts import Host, new_instance_id
from cove.network.store import NetworkStore

log = logging.getLogger(__name__)

PATH = "/_cove/hosts"
REAP_EVERY = 2.0  # seconds between looks for hosts whose cove exec was killed
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
        self, store: NetworkStore, fabric: Fabric, access: Access,
        vending: CredentialVending, registry: HostRegistry, region: str,
    ) -> None:  # fmt: skip
        self.store = store
        self.fabric = fabric
        self.access = access
        self.vending = vending
        self.region = region
        self.registry = registry
        self._clients: dict[str, int] = {}  # instance id -> the pid of its cove exec

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
        client_pid = params.get("ClientPid")
        self.access.authorize(ctx, "ec2:RunInstances", "*")
        if self.fabric.unavailable is not None:
            raise AwsError("Unsupported", f"VPC networks cannot be built here: "
                                          f"{self.fabric.unavailable}", 400)  # fmt: skip
        if role_arn is not None:
            self._check_role(req, role_arn)
        eni = self.store.create_host_interface(subnet_id, groups, HOST_DESCRIPTION)
        instance_id = new_instance_id()
        token = self.vending.grant(role_arn, instance_id) if role_arn else None
        names = tuple(self.store.group(g).name for g in eni.group_ids)
        host = Host(instance_id, eni, role_arn, token, names)
        self.registry.by_instance[instance_id] = host
        if isinstance(client_pid, int):
            self._clients[instance_id] = client_pid
        try:
            await self.fabric.reconcile(eni.vpc_id)
            namespace = self.fabric.namespace_of(eni.eni_id)
            if namespace is None:
                raise AwsError("InternalError", "the host's network could not be built", 500)
            vpc = self.store.snapshot(eni.vpc_id).vpc
        except BaseException:
            await self._end(host)  # nothing of a host that never ran stays behind
            raise
        body = {
            "InstanceId": instance_id,
            "NetworkInterfaceId": eni.eni_id,
            "PrivateIpAddress": eni.private_ip,
            "SubnetId": eni.subnet_id,
            "VpcId": eni.vpc_id,
            "AvailabilityZone": eni.zone.name,
            "NamespacePath": namespace.path,
            # a rootless server's namespaces are entered through the user namespace it owns
            "UserNamespacePath": namespace.owner.path if namespace.owner is not None else None,
            # the VPC's resolver, as DHCP gives it to an instance (AmazonProvidedDNS)
            "ResolverIp": vpc.resolver_ip,
            "Region": self.region,
        }
        return Response(200, _JSON, json.dumps(body).encode())

    def _check_role(self, req: Request, role_arn: str) -> None:
        if self.access.pass_role(req.context, role_arn, EC2_PRINCIPAL) is None:
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
        self._clients.pop(host.instance_id, None)
        if host.credentials_token:
            self.vending.revoke(host.credentials_token)
        self.store.delete_interface(host.interface.eni_id)
        await self.fabric.reconcile(host.interface.vpc_id)

    async def reap(self, every: float = REAP_EVERY) -> None:
        """End the hosts whose `cove exec` is gone without saying so (killed): their
        namespace, the processes left in it, their IP and their credentials go too."""
        while True:
            await asyncio.sleep(every)
            for instance_id, pid in list(self._clients.items()):
                host = self.registry.by_instance.get(instance_id)
                if host is not None and not alive(pid):
                    log.info("ending %s: its cove exec (pid %d) is gone", instance_id, pid)
                    await self._end(host)

    def forget_stale(self) -> None:
        """A previous run's hosts ended with it: their ENIs go (before the fabric builds)."""
        for eni in self.store.interfaces():
            if not eni.requester_managed and eni.description == HOST_DESCRIPTION:
                self.store.delete_interface(eni.eni_id)

    async def end_all(self) -> None:
        for host in list(self.registry.by_instance.values()):
            await self._end(host)

