"""Helpers for the tests of endpoints in a VPC (test_vpc_instances.py, test_vpc_s3.py): a
VPC with subnets per AZ, the models' role, a model with a VpcConfig whose code reports its
own address and what it reaches, and the calls and waits the tests repeat.

Not a test module.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from typing import Any

import pytest
from models import SKLEARN_IMAGE, unique

from cove.host.netns.namespaces import NetworkUnavailable, check_support


def support() -> str | None:
    try:
        check_support()
    except NetworkUnavailable as why:
        return str(why)
    return None


def requires_vpc() -> pytest.MarkDecorator:
    """Skips a module where VPC networks cannot be built."""
    why = support()
    return pytest.mark.skipif(why is not None, reason=f"no VPC networks: {why}")

# The model's code: its address (the source of a packet towards the VPC resolver), a TCP
# connection to Cove's public edge in the VPC, to Cove's public listener on 127.0.0.1, to
# a listener on the host's own address, STS by its real name with the model's role, and
# (asked for) an S3 object.
SCRIPT = """
import json, socket
import boto3
from botocore.config import Config


def model_fn(model_dir):
    return None


def _tcp(host, port):
    try:
        with socket.create_connection((host, port), timeout=2):
            return "connected"
    except socket.timeout:
        return "timed out"
    except OSError as exc:
        return type(exc).__name__


def transform_fn(model, data, content_type, accept):
    ask = json.loads(data)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect((ask["resolver"], 53))
    out = {"ip": probe.getsockname()[0]}
    config = Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1})
    if "s3" in ask:  # the container's own S3 call, by S3's real name, as its role
        bucket, key = ask["s3"]
        try:
            s3 = boto3.client("s3", config=config, endpoint_url=ask.get("s3_url"))
            out["s3"] = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except Exception as exc:
            error = getattr(exc, "response", {}).get("Error", {})
            out["s3"] = error.get("Code", type(exc).__name__) + " " + error.get("Message", "")
    if ask.get("only_ip"):
        return json.dumps(out)
    out |= {"edge": _tcp("198.18.0.10", 443),
           "public_listener": _tcp("127.0.0.1", ask["port"]),
           "host": _tcp(ask["host_ip"], ask["host_port"])}
    try:
        out["who"] = boto3.client("sts", config=config).get_caller_identity()["Arn"]
    except Exception as exc:
        out["who"] = type(exc).__name__
    return json.dumps(out)
"""


def host_ip() -> str:
    """The host's own address on its default route."""
    shown = subprocess.run(["ip", "-j", "route", "get", "1.1.1.1"], capture_output=True,
                           text=True, check=True)  # fmt: skip
    route = json.loads(shown.stdout)
    return route[0]["prefsrc"]


class HostListener:
    """A TCP listener on all of the host's addresses: what a VPC host must not reach."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()


def vpc_network(ec2: Any, cidr: str, zones: tuple[str, ...] = ("us-east-1a", "us-east-1b"),
             prefix: int = 24, s3_gateway: bool = True) -> dict[str, Any]:  # fmt: skip
    """A VPC with a subnet per zone, no way out, and (`s3_gateway`) an S3 gateway
    endpoint on its main route table."""
    base = cidr.rsplit(".", 2)[0]
    vpc = ec2.create_vpc(CidrBlock=f"{base}.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.{n}.0/{prefix}",
                          AvailabilityZone=zone)["Subnet"]["SubnetId"]  # fmt: skip
        for n, zone in enumerate(zones, 1)
    ]
    group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "SecurityGroups"
    ][0]["GroupId"]
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"
    ][0]["RouteTableId"]
    if s3_gateway:  # the model artifact comes through the VPC (test_vpc_s3.py)
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3",
                                RouteTableIds=[table])  # fmt: skip
    return {"vpc": vpc, "subnets": subnets, "group": group, "table": table,
            "resolver": f"{base}.0.2"}  # fmt: skip


def open_internet(ec2: Any, net: dict[str, Any]) -> None:
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=net["vpc"])
    ec2.create_route(RouteTableId=net["table"], DestinationCidrBlock="0.0.0.0/0",
                     GatewayId=gateway)  # fmt: skip


def models_role(srv: Any, reads: str = "cove-test-models") -> str:
    """The models' execution role: SageMaker may assume it, and it may read `reads` (the
    model artifacts' bucket: SageMaker downloads them as the role)."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
             "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}]}  # fmt: skip
    iam = srv.client("iam")
    try:
        arn = iam.create_role(RoleName="in-vpc", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_role(RoleName="in-vpc")["Role"]["Arn"]
    reading = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
               "s3:GetObject", "Resource": f"arn:aws:s3:::{reads}/*"}]}  # fmt: skip
    iam.put_role_policy(RoleName="in-vpc", PolicyName="reads",
                        PolicyDocument=json.dumps(reading))  # fmt: skip
    return arn


def vpc_model(srv: Any, model_url: str, subnets: list[str], group: str, role: str,
              environment: dict[str, str] | None = None) -> str:  # fmt: skip
    name = unique("vpc-model")
    container = {"Image": SKLEARN_IMAGE, "ModelDataUrl": model_url,
                 "Environment": environment or {}}  # fmt: skip
    srv.client("sagemaker").create_model(
        ModelName=name, ExecutionRoleArn=role, PrimaryContainer=container,
        VpcConfig={"Subnets": subnets, "SecurityGroupIds": [group]},
    )  # fmt: skip
    return name


def vpc_config(srv: Any, model: str, count: int) -> str:
    name = unique("vpc-config")
    srv.client("sagemaker").create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model,
                             "InstanceType": "ml.t2.medium", "InitialInstanceCount": count}],
    )  # fmt: skip
    return name


def wait_settled(sm: Any, name: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        out = sm.describe_endpoint(EndpointName=name)
        if out["EndpointStatus"] in ("InService", "Failed") or time.time() > deadline:
            return out
        time.sleep(0.5)


def ask_model(srv: Any, endpoint: str, net: dict[str, Any], host: HostListener | None = None,
              s3: tuple[str, str] | None = None, s3_url: str | None = None,
              ) -> dict[str, Any]:  # fmt: skip
    """What the model's code reports (only its address without `host`, and what it read
    of the `s3` (bucket, key) asked for, at `s3_url` if given)."""
    body: dict[str, Any] = {"resolver": net["resolver"], "only_ip": True, "s3_url": s3_url}
    if s3 is not None:
        body["s3"] = list(s3)
    if host is not None:
        body = {**body, "only_ip": False, "port": srv.port, "host_ip": host_ip(),
                "host_port": host.port}  # fmt: skip
    answer = srv.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="application/json", Body=json.dumps(body)
    )
    return json.loads(answer["Body"].read())


def eni_list(ec2: Any, vpc: str) -> list[dict[str, Any]]:
    return ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "NetworkInterfaces"
    ]


def free_ips(ec2: Any, subnets: list[str]) -> dict[str, int]:
    return {s["SubnetId"]: s["AvailableIpAddressCount"]
            for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]}  # fmt: skip
