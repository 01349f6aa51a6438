"""What a sandboxed process needs to run as a host in a VPC subnet (a function's worker, a
model instance, a training job): the network namespace of its ENI, entered with the
namespace's own argv prefix (`Namespace.enter_argv()`: it may carry more than `--net`,
e.g. a user namespace), the VPC's resolver as its /etc/resolv.conf, and Cove's CA, which
signs the TLS listeners inside VPCs, where AWS clients look for a CA bundle.

The process keeps no endpoint URL: boto3 and the AWS CLI reach services by their real
hostnames, as far as the VPC's routes, security groups and endpoints let them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cove.host.sandbox import Bind, Sandbox

VPC_CA = "/etc/cove-ca.pem"  # inside the sandbox
RESOLV_CONF = "/etc/resolv.conf"
CA_VARIABLES = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


@dataclass(frozen=True)
class NetworkAttachment:
    """Where a process runs in its VPC: its ENI's namespace (the argv prefix that enters
    it), the VPC's resolver, the CA its TLS listeners are signed by, and the ENI's
    primary address."""

    enter_argv: tuple[str, ...]
    resolver_ip: str
    ca_path: Path
    private_ip: str = ""

    def enter(self, command: list[str]) -> list[str]:
        """`command` run inside the namespace."""
        return [*self.enter_argv, *command]

    def binds(self, sandbox: Sandbox, directory: Path) -> tuple[Bind, ...]:
        """The resolver configuration and the CA, written to `directory` (which must
        exist) and placed where the process looks for them (blocking)."""
        resolv, ca = directory / "resolv.conf", directory / "ca.pem"
        resolv.write_text(f"nameserver {self.resolver_ip}\noptions timeout:2 attempts:2\n")
        ca.write_bytes(self.ca_path.read_bytes())
        for path in (resolv, ca):
            path.chmod(0o644)
        return sandbox.place(resolv, RESOLV_CONF), sandbox.place(ca, VPC_CA)

    @staticmethod
    def tls_environment() -> dict[str, str]:
        """What makes Python, botocore and the AWS CLI trust Cove's CA inside."""
        return dict.fromkeys(CA_VARIABLES, VPC_CA)
