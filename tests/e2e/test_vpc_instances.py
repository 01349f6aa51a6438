"""Endpoint instances of a model with a VpcConfig are hosts in its subnets (issue #12 items
2 and 9), against a real server as root, with a custom inference script that reports, in
its answer, its own address and what it can reach.

AWS pages behind what is pinned: SageMaker DG, "Give SageMaker AI hosted endpoints access
to resources in your Amazon VPC" (https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html:
SageMaker creates network interfaces in the model's subnets with its security groups, "at
least 2 private IP addresses" per instance, a VPC without internet access reaches nothing
outside it); EC2 API reference, "Error codes" (InsufficientFreeAddressesInSubnet: "There are
not enough free addresses in subnet '...' to satisfy the requested number of instances.",
as EC2 words it: github.com/PrairieLearn/PrairieLearn/issues/3271)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from typing import Any

import pytest
from models import SKLEARN_IMAGE, pack, sklearn_model, unique, upload

from cove.exec_host import HOSTS_PATH, _call
from cove.host.netns.namespaces import NetworkUnavailable, check_support


def _support() -> str | None:
    try:
        check_support()
    except NetworkUnavailable as why:
        return str(why)
    return None


pytestmark = pytest.mark.skipif(_support() is not None, reason=f"no VPC networks: {_support()}")

# The model's code: its address (the source of a packet towards the VPC resolver), a TCP
# connection to Cove's public edge in the VPC, to Cove's public listener on 127.0.0.1, to
# a listener on the host's own address, and STS by its real name with the model's role.
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
    if ask.get("only_ip"):
        return json.dumps(out)
    out |= {"edge": _tcp("198.18.0.10", 443),
           "public_listener": _tcp("127.0.0.1", ask["port"]),
           "host": _tcp(ask["host_ip"], ask["host_port"])}
    config = Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1})
    try:
        out["who"] = boto3.client("sts", config=config).get_caller_identity()["Arn"]
    except Exception as exc:
        out["who"] = type(exc).__name__
    return json.dumps(out)
"""


def _host_ip() -> str:
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


def _network(ec2: Any, cidr: str, zones: tuple[str, ...] = ("us-east-1a", "us-east-1b"),
             prefix: int = 24) -> dict[str, Any]:  # fmt: skip
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
    return {"vpc": vpc, "subnets": subnets, "group": group, "table": table,
            "resolver": f"{base}.0.2"}  # fmt: skip


def _internet(ec2: Any, net: dict[str, Any]) -> None:
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=net["vpc"])
    ec2.create_route(RouteTableId=net["table"], DestinationCidrBlock="0.0.0.0/0",
                     GatewayId=gateway)  # fmt: skip


def _role(srv: Any) -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
             "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}]}  # fmt: skip
    iam = srv.client("iam")
    try:
        return iam.create_role(RoleName="in-vpc", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return iam.get_role(RoleName="in-vpc")["Role"]["Arn"]


def _model(srv: Any, model_url: str, subnets: list[str], group: str, role: str) -> str:
    name = unique("vpc-model")
    srv.client("sagemaker").create_model(
        ModelName=name, ExecutionRoleArn=role,
        PrimaryContainer={"Image": SKLEARN_IMAGE, "ModelDataUrl": model_url},
        VpcConfig={"Subnets": subnets, "SecurityGroupIds": [group]},
    )  # fmt: skip
    return name


def _config(srv: Any, model: str, count: int) -> str:
    name = unique("vpc-config")
    srv.client("sagemaker").create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model,
                             "InstanceType": "ml.t2.medium", "InitialInstanceCount": count}],
    )  # fmt: skip
    return name


def _wait(sm: Any, name: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        out = sm.describe_endpoint(EndpointName=name)
        if out["EndpointStatus"] in ("InService", "Failed") or time.time() > deadline:
            return out
        time.sleep(0.5)


def _ask(srv: Any, endpoint: str, net: dict[str, Any], host: HostListener | None = None
         ) -> dict[str, Any]:  # fmt: skip
    """What the model's code reports (only its address without `host`)."""
    body = {"resolver": net["resolver"], "only_ip": True}
    if host is not None:
        body = {**body, "only_ip": False, "port": srv.port, "host_ip": _host_ip(),
                "host_port": host.port}  # fmt: skip
    answer = srv.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="application/json", Body=json.dumps(body)
    )
    return json.loads(answer["Body"].read())


def _enis(ec2: Any, vpc: str) -> list[dict[str, Any]]:
    return ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "NetworkInterfaces"
    ]


def _free(ec2: Any, subnets: list[str]) -> dict[str, int]:
    return {s["SubnetId"]: s["AvailableIpAddressCount"]
            for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]}  # fmt: skip


def test_instances_are_hosts_in_the_models_subnets_over_its_azs(make_server, tmp_path) -> None:
    srv = make_server()
    ec2, sm = srv.client("ec2"), srv.client("sagemaker")
    net = _network(ec2, "10.81.0.0")
    free_before = _free(ec2, net["subnets"])
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m", SCRIPT)))
    model = _model(srv, model_url, net["subnets"], net["group"], _role(srv))
    endpoint = unique("vpc-ep")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=_config(srv, model, 2))
    described = _wait(sm, endpoint)
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")

    # one requester-managed ENI per instance, one in each AZ (round robin over the
    # model's subnets), each with two private IPs and the model's group
    enis = _enis(ec2, net["vpc"])
    assert sorted(e["SubnetId"] for e in enis) == sorted(net["subnets"])
    assert sorted(e["AvailabilityZone"] for e in enis) == ["us-east-1a", "us-east-1b"]
    for eni in enis:
        assert (eni["InterfaceType"], eni["RequesterManaged"]) == ("interface", True)
        assert eni["RequesterId"] == "sagemaker.amazonaws.com"
        assert [a["Primary"] for a in eni["PrivateIpAddresses"]] == [True, False]
        assert [g["GroupId"] for g in eni["Groups"]] == [net["group"]]
        assert endpoint in eni["Description"]
    assert _free(ec2, net["subnets"]) == {s: n - 2 for s, n in free_before.items()}

    # the model's own traffic: from its ENI's address, nowhere without a route out
    host = HostListener()
    try:
        seen = [_ask(srv, endpoint, net, host) for _ in range(4)]
        primaries = {e["PrivateIpAddress"] for e in enis}
        assert {s["ip"] for s in seen} == primaries  # both instances answered, from their ENIs
        for answer in seen:
            assert answer["edge"] == "timed out"  # no internet-gateway route: dropped
            assert answer["public_listener"] == "ConnectionRefusedError"  # its own loopback
            assert answer["host"] == "timed out"  # the host is not on the VPC's network
            assert answer["who"] in ("ConnectTimeoutError", "EndpointConnectionError")
        # an internet-gateway route opens Cove's public edge, and STS by its real name
        # answers with the model's role's credentials, from its ENI's credentials endpoint
        _internet(ec2, net)
        time.sleep(0.5)
        routed = _ask(srv, endpoint, net, host)
        assert routed["edge"] == "connected"
        assert routed["who"].startswith("arn:aws:sts::000000000000:assumed-role/in-vpc/SageMaker-")
        assert routed["host"] == "timed out"  # still not the host
    finally:
        host.close()

    # the ENIs go with the endpoint, and their addresses are free again
    sm.delete_endpoint(EndpointName=endpoint)
    deadline = time.time() + 60
    while _enis(ec2, net["vpc"]) and time.time() < deadline:
        time.sleep(0.3)
    assert _enis(ec2, net["vpc"]) == []
    assert _free(ec2, net["subnets"]) == free_before


def test_a_subnet_without_room_fails_the_endpoint_naming_it(make_server, tmp_path) -> None:
    srv = make_server()
    ec2, sm = srv.client("ec2"), srv.client("sagemaker")
    net = _network(ec2, "10.82.0.0", prefix=28)  # 11 usable addresses in each
    subnet = net["subnets"][0]  # where the first instance goes
    for _ in range(10):  # hosts take all but one (cove exec's hosts, held by this process)
        _call(srv.data_dir, "POST", HOSTS_PATH,
              {"SubnetId": subnet, "SecurityGroupIds": [], "ClientPid": os.getpid()})
    assert _free(ec2, [subnet]) == {subnet: 1}
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m", SCRIPT)))
    model = _model(srv, model_url, net["subnets"], net["group"], _role(srv))
    endpoint = unique("vpc-full")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=_config(srv, model, 1))
    described = _wait(sm, endpoint)
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"] == (
        f"There are not enough free addresses in subnet '{subnet}' to satisfy the requested "
        "number of instances."
    )
    assert _free(ec2, [subnet]) == {subnet: 1}  # nothing held by the failed endpoint


def test_restart_brings_instances_back_into_their_enis(make_server, tmp_path) -> None:
    # What AWS would show: the endpoint never stopped, so its instances' ENIs (their ids,
    # addresses, AZs) are the ones it had; Cove's instances adopt them again.
    srv = make_server()
    ec2, sm = srv.client("ec2"), srv.client("sagemaker")
    net = _network(ec2, "10.83.0.0")
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m", SCRIPT)))
    model = _model(srv, model_url, net["subnets"], net["group"], _role(srv))
    endpoint = unique("vpc-restart")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=_config(srv, model, 2))
    assert _wait(sm, endpoint)["EndpointStatus"] == "InService"
    before = sorted((e["NetworkInterfaceId"], e["AvailabilityZone"], e["PrivateIpAddress"])
                    for e in _enis(ec2, net["vpc"]))  # fmt: skip
    for stop in (signal.SIGTERM, signal.SIGKILL):  # a clean stop, and a crash
        leftover = srv.stop(stop)
        assert stop == signal.SIGKILL or leftover == []
        srv.start(timeout=180)
        ec2, sm = srv.client("ec2"), srv.client("sagemaker")
        assert sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
        after = sorted((e["NetworkInterfaceId"], e["AvailabilityZone"], e["PrivateIpAddress"])
                       for e in _enis(ec2, net["vpc"]))  # fmt: skip
        assert after == before
        seen = {_ask(srv, endpoint, net)["ip"] for _ in range(4)}
        assert seen == {ip for _, _, ip in before}


def test_an_update_to_other_subnets_moves_traffic_once_they_serve(make_server, tmp_path) -> None:
    srv = make_server()
    ec2, sm = srv.client("ec2"), srv.client("sagemaker")
    net = _network(ec2, "10.84.0.0", zones=("us-east-1a", "us-east-1b", "us-east-1c",
                                            "us-east-1d"))  # fmt: skip
    first, others = net["subnets"][:2], net["subnets"][2:]
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m", SCRIPT)))
    role = _role(srv)
    endpoint = unique("vpc-update")
    sm.create_endpoint(EndpointName=endpoint,
                       EndpointConfigName=_config(srv, _model(srv, model_url, first,
                                                              net["group"], role), 1))  # fmt: skip
    assert _wait(sm, endpoint)["EndpointStatus"] == "InService"
    failures: list[str] = []
    seen: list[str] = []
    stop = threading.Event()

    def keep_calling() -> None:
        while not stop.is_set():
            try:
                seen.append(_ask(srv, endpoint, net)["ip"])
            except Exception as exc:  # every call must be answered
                failures.append(repr(exc))

    caller = threading.Thread(target=keep_calling)
    caller.start()
    try:
        moved = _model(srv, model_url, others, net["group"], role)
        sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=_config(srv, moved, 2))
        assert sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Updating"
        updated = _wait(sm, endpoint)
        assert updated["EndpointStatus"] == "InService", updated
        assert "FailureReason" not in updated, updated["FailureReason"]
    finally:
        stop.set()
        caller.join()
    assert failures == []
    deadline = time.time() + 30  # the old fleet stops once its last calls are answered
    while len(enis := _enis(ec2, net["vpc"])) > 2 and time.time() < deadline:
        time.sleep(0.3)
    assert sorted(e["SubnetId"] for e in enis) == sorted(others)  # the old instance's ENI went
    assert {ip for ip in seen if ip.startswith("10.84.1.")}, "the old instance served first"
    now = {_ask(srv, endpoint, net)["ip"] for _ in range(4)}
    assert now == {e["PrivateIpAddress"] for e in enis}  # and the new ones after the update
