"""Cove from a host inside a VPC (issue #11's row): InvokeEndpoint over TLS with
keep-alive, from wrk running in a `cove exec` host, either through the SageMaker Runtime
interface endpoint (its vpce DNS name, private DNS off) or through Cove's public endpoint
inside the VPC network (the default hostname, reached over an internet-gateway route):
the same client, the same TLS, one path through PrivateLink and one over the public path.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
from botocore.config import Config

from harness.cove import COVE, REGION, Cove, _capture
from harness.model import Artifact
from harness.wrk import HttpRequest

PUBLIC_HOSTNAME = f"runtime.sagemaker.{REGION}.amazonaws.com"


class CoveVpcEndpoint(Cove):
    name, role = "cove-vpce", "cove-vpce"

    def start(self, artifact: Artifact, work: Path) -> float:
        cold = super().start(artifact, work)
        ec2 = self._client("ec2", self._data_dir)
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24",
                                   AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
        ec2.create_route(RouteTableId=table["RouteTables"][0]["RouteTableId"],
                         DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
        endpoint = ec2.create_vpc_endpoint(
            VpcId=vpc, VpcEndpointType="Interface", SubnetIds=[subnet],
            ServiceName=f"com.amazonaws.{REGION}.sagemaker.runtime", PrivateDnsEnabled=False,
        )["VpcEndpoint"]
        for _ in range(200):
            found = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
            if found["VpcEndpoints"][0]["State"] == "available":
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the interface endpoint never became available")
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
