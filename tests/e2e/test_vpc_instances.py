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

import os
import signal
import threading
import time

from models import pack, sklearn_model, unique, upload
from vpc_support import (
    SCRIPT,
    HostListener,
    ask_model,
    eni_list,
    free_ips,
    models_role,
    open_internet,
    requires_vpc,
    vpc_config,
    vpc_model,
    vpc_network,
    wait_settled,
)

from cove.exec_host import HOSTS_PATH, _call

pytestmark = requires_vpc()


def test_instances_are_hosts_in_the_models_subnets_over_its_azs(make_server, tmp_path) -> None:
    srv = make_server()
    ec2, sm = srv.client("ec2"), srv.client("sagemaker")
    net = vpc_network(ec2, "10.81.0.0")
    free_before = free_ips(ec2, net["subnets"])
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m", SCRIPT)))
    model = vpc_model(srv, model_url, net["subnets"], net["group"], models_role(srv))
    endpoint = unique("vpc-ep")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=vpc_config(srv, model, 2))
    described = wait_settled(sm, endpoint)
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")

    # one requester-managed ENI per instance, one in each AZ (round robin over the
    # model's subnets), each with two private IPs and the model's group
    enis = eni_list(ec2, net["vpc"])
    assert sorted(e["SubnetId"] for e in enis) == sorted(net["subnets"])
    assert sorted(e["AvailabilityZone"] for e in enis) == ["us-east-1a", "us-east-1b"]
    for eni in enis:
        assert (eni["InterfaceType"], eni["RequesterManaged"]) == ("interface", True)
        assert eni["RequesterId"] == "sagemaker.amazonaws.com"
        assert [a["Primary"] for a in eni["PrivateIpAddresses"]] == [True, False]
        assert [g["GroupId"] for g in eni["Groups"]] == [net["group"]]
        assert endpoint in eni["Description"]
    assert free_ips(ec2, net["subnets"]) == {s: n - 2 for s, n in free_before.items()}

    # the model's own traffic: from its ENI's address, nowhere without a route out
    host = HostListener()
    try:
        seen = [ask_model(srv, endpoint, net, host) for _ in range(4)]
        primaries = {e["PrivateIpAddress"] for e in enis}
        assert {s["ip"] for s in seen} == primaries  # both instances answered, from their ENIs
        for answer in seen:
            assert answer["edge"] == "timed out"  # no internet-gateway route: dropped
            assert answer["public_listener"] == "ConnectionRefusedError"  # its own loopback
            assert answer["host"] == "timed out"  # the host is not on the VPC's network
            assert answer["who"] in ("ConnectTimeoutError", "EndpointConnectionError")
        # an internet-gateway route opens Cove's public edge, and STS by its real name
        # answers with the model's role's credentials, from its ENI's credentials endpoint
        open_internet(ec2, net)
        time.sleep(0.5)
        routed = ask_model(srv, endpoint, net, host)
        assert routed["edge"] == "connected"
        assert routed["who"].startswith("arn:aws:sts::000000000000:assumed-role/in-vpc/SageMaker-")
        assert routed["host"] == "timed out"  # still not the host
    finally:
        host.close()

    # the ENIs go with the endpoint, and their addresses are free again
    sm.delete_endpoint(EndpointName=endpoint)
    deadline = time.time() + 60
    while eni_list(ec2, net["vpc"]) and time.time() < deadline:
        time.sleep(0.3)
    assert eni_list(ec2, net["vpc"]) == []
    assert free_ips(ec2, net["subnets"]) == free_before


def test_a_subnet_without_room_fails_the_endpoint_naming_it(make_server, tmp_path) -> None:
    srv = make_server()
    ec2, sm = srv.client("ec2"), srv.client("sagemaker")
    net = vpc_network(ec2, "10.82.0.0", prefix=28)  # 11 usable addresses in each
    subnet = net["subnets"][0]  # where the first instance goes
    for _ in range(10):  # hosts take all but one (cove exec's hosts, held by this process)
        _call(srv.data_dir, "POST", HOSTS_PATH,
              {"SubnetId": subnet, "SecurityGroupIds": [], "ClientPid": os.getpid()})
    assert free_ips(ec2, [subnet]) == {subnet: 1}
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m", SCRIPT)))
    model = vpc_model(srv, model_url, net["subnets"], net["group"], models_role(srv))
    endpoint = unique("vpc-full")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=vpc_config(srv, model, 1))
    described = wait_settled(sm, endpoint)
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"] == (
        f"There are not enough free addresses in subnet '{subnet}' to satisfy the requested "
        "number of instances."
    )
    assert free_ips(ec2, [subnet]) == {subnet: 1}  # nothing held by the failed endpoint


def test_restart_brings_instances_back_into_their_enis(make_server, tmp_path) -> None:
    # What AWS would show: the endpoint never stopped, so its instances' ENIs (their ids,
    # addresses, AZs) are the ones it had; Cove's instances adopt them again.
    srv = make_server()
    ec2, sm = srv.client("ec2"), srv.client("sagemaker")
    net = vpc_network(ec2, "10.83.0.0")
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m", SCRIPT)))
    model = vpc_model(srv, model_url, net["subnets"], net["group"], models_role(srv))
    endpoint = unique("vpc-restart")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=vpc_config(srv, model, 2))
    assert wait_settled(sm, endpoint)["EndpointStatus"] == "InService"
    before = sorted((e["NetworkInterfaceId"], e["AvailabilityZone"], e["PrivateIpAddress"])
                    for e in eni_list(ec2, net["vpc"]))  # fmt: skip
    for stop in (signal.SIGTERM, signal.SIGKILL):  # a clean stop, and a crash
        leftover = srv.stop(stop)
        assert stop == signal.SIGKILL or leftover == []
        srv.start(timeout=180)
        ec2, sm = srv.client("ec2"), srv.client("sagemaker")
        assert sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
        after = sorted((e["NetworkInterfaceId"], e["AvailabilityZone"], e["PrivateIpAddress"])
                       for e in eni_list(ec2, net["vpc"]))  # fmt: skip
        assert after == before
        seen = {ask_model(srv, endpoint, net)["ip"] for _ in range(4)}
        assert seen == {ip for _, _, ip in before}


def test_an_update_to_other_subnets_moves_traffic_once_they_serve(make_server, tmp_path) -> None:
    srv = make_server()
    ec2, sm = srv.client("ec2"), srv.client("sagemaker")
    net = vpc_network(ec2, "10.84.0.0", zones=("us-east-1a", "us-east-1b", "us-east-1c",
                                            "us-east-1d"))  # fmt: skip
    first, others = net["subnets"][:2], net["subnets"][2:]
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m", SCRIPT)))
    role = models_role(srv)
    endpoint = unique("vpc-update")
    sm.create_endpoint(EndpointName=endpoint,
                       EndpointConfigName=vpc_config(srv, vpc_model(srv, model_url, first,
                                                              net["group"], role), 1))  # fmt: skip
    assert wait_settled(sm, endpoint)["EndpointStatus"] == "InService"
    failures: list[str] = []
    seen: list[str] = []
    stop = threading.Event()

    def keep_calling() -> None:
        while not stop.is_set():
            try:
                seen.append(ask_model(srv, endpoint, net)["ip"])
            except Exception as exc:  # every call must be answered
                failures.append(repr(exc))

    caller = threading.Thread(target=keep_calling)
    caller.start()
    try:
        moved = vpc_model(srv, model_url, others, net["group"], role)
        sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=vpc_config(srv, moved, 2))
        assert sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Updating"
        updated = wait_settled(sm, endpoint)
        assert updated["EndpointStatus"] == "InService", updated
        assert "FailureReason" not in updated, updated["FailureReason"]
    finally:
        stop.set()
        caller.join()
    assert failures == []
    deadline = time.time() + 30  # the old fleet stops once its last calls are answered
    while len(enis := eni_list(ec2, net["vpc"])) > 2 and time.time() < deadline:
        time.sleep(0.3)
    assert sorted(e["SubnetId"] for e in enis) == sorted(others)  # the old instance's ENI went
    assert {ip for ip in seen if ip.startswith("10.84.1.")}, "the old instance served first"
    now = {ask_model(srv, endpoint, net)["ip"] for _ in range(4)}
    assert now == {e["PrivateIpAddress"] for e in enis}  # and the new ones after the update
