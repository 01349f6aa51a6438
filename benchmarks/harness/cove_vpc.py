"""Cove from a host inside a VPC (issue #11's row): InvokeEndpoint over TLS with
keep-alive, from wrk running in a `cove exec` host, either through the SageMaker Runtime
interface endpoint (its vpce DNS name, private DNS off) or through Cove's public endpoint
inside the VPC network (the default hostname, reached over an internet-gateway route):
the same client, the same TLS, one path through PrivateLink and one over the public path.

And issue #12's cross-AZ pair: a two-instance endpoint spread over two AZs, a host in AZ a,
and a 1 ms delay on calls served in another AZ than their caller's (`cove server
--cross-az-delay-ms`): through the interface endpoint by its private DNS name (AZ-local
routing keeps calls in AZ a) and over the public path (any AZ serves).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

from harness.cove import COVE, REGION, Cove, _capture
from harness.model import Artifact
from harness.wrk import HttpRequest

PUBLIC_HOSTNAME = f"runtime.sagemaker.{REGION}.amazonaws.com"


class CoveVpcEndpoint(Cove):
    name, role = "cove-vpce", "cove-vpce"
    zones = ("a",)  # the VPC's subnets (one each), the endpoint's ENIs; the host in the first
    private_dns = False

    def start(self, artifact: Artifact, work: Path) -> float:
        cold = super().start(artifact, work)
        ec2 = self._client("ec2", self._data_dir)
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        if self.private_dns:  # AWS needs both DNS attributes of the VPC for private DNS
            ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24",
                              AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
            for i, zone in enumerate(self.zones, start=1)
        ]  # fmt: skip
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
        ec2.create_route(RouteTableId=table["RouteTables"][0]["RouteTableId"],
                         DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
        endpoint = ec2.create_vpc_endpoint(
            VpcId=vpc, VpcEndpointType="Interface", SubnetIds=subnets,
            ServiceName=f"com.amazonaws.{REGION}.sagemaker.runtime",
            PrivateDnsEnabled=self.private_dns,
        )["VpcEndpoint"]
        for _ in range(200):
            found = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
            if found["VpcEndpoints"][0]["State"] == "available":
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the interface endpoint never became available")
        subnet = subnets[0]  # the host's: AZ a
        self._vpce_name = found["VpcEndpoints"][0]["DnsEntries"][0]["DnsName"]
        self._enter = (str(COVE), "exec", "--data-dir", str(self._data_dir),
                       "--subnet", subnet, "--")
        self._runtime = self._tls_client(self._hostname())
        self._runtime.meta.events.register("before-send.sagemaker-runtime.InvokeEndpoint",
                                           _capture)
        return cold

    def _hostname(self) -> str:
        return self._vpce_name

    def _tls_client(self, hostname: str) -> object:
        doc = json.loads((self._data_dir / "credentials.json").read_text())
        return boto3.client(
            "sagemaker-runtime", endpoint_url=f"https://{hostname}", region_name=REGION,
            aws_access_key_id=doc["access_key_id"], aws_secret_access_key=doc["secret_access_key"],
            config=Config(retries={"max_attempts": 1}),
        )

    def request(self) -> HttpRequest:
        req = super().request()
        return HttpRequest(req.method, req.path, req.headers, req.body, self._hostname(), 443,
                           "https", self._enter)

    def verify(self, artifact: Artifact) -> None:
        # the captured request from inside the VPC host (Cove.verify's boto3 call goes to
        # the loopback listener, which says nothing of this path)
        super(Cove, self).verify(artifact)


class CoveVpcPublic(CoveVpcEndpoint):
    """The same host and TLS client on the public path: the default hostname resolves to
    Cove's public edge inside the VPC network, reached through the internet gateway."""

    name, role = "cove-vpc-tls", "cove-vpc-tls"

    def _hostname(self) -> str:
        return PUBLIC_HOSTNAME


CROSS_AZ_DELAY_MS = "1"


class CoveAzPrivate(CoveVpcEndpoint):
    """Two instances in us-east-1a and b, a host in a, through the interface endpoint by
    the service's default hostname (private DNS): AZ-local routing serves it in a."""

    name, role = "cove-az-private", "cove-az-private"
    zones, private_dns, instances = ("a", "b"), True, 2
    server_env = {"COVE_CROSS_AZ_DELAY_MS": CROSS_AZ_DELAY_MS}

    def _hostname(self) -> str:
        return PUBLIC_HOSTNAME

    def describe(self) -> str:
        running = self.proc is not None and self.proc.poll() is None
        share = f"; calls served by AZ so far: {self._served_by_zone()}" if running else ""
        return f"{super().describe()}; cross-AZ delay {CROSS_AZ_DELAY_MS} ms{share}"

    def _served_by_zone(self) -> str:
        """The instances' cove_instance_invocations_total from /metrics, by AZ, in %."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            text = r.read().decode()
        counts: dict[str, float] = {}
        for zone, value in re.findall(
            r'^cove_instance_invocations_total\{[^}]*availability_zone="([^"]+)"[^}]*\} (\S+)',
            text, re.MULTILINE,
        ):  # fmt: skip
            counts[zone] = counts.get(zone, 0) + float(value)
        total = sum(counts.values()) or 1
        return ", ".join(f"{z} {100 * n / total:.0f}%" for z, n in sorted(counts.items()))


class CoveAzPublic(CoveAzPrivate):
    """The same endpoint, host and delay over the public path (the default hostname is
    Cove's public edge here, through the internet gateway): any AZ serves."""

    name, role = "cove-az-public", "cove-az-public"
    private_dns = False
