"""AZ placement and AZ-local routing against a real server, as root: an endpoint's three
instances spread over us-east-1a, b and c (no VpcConfig: the region's AZs); `cove exec`
hosts in two AZs of a VPC call InvokeEndpoint with boto3 through the SageMaker Runtime
interface endpoint's private DNS name, and /metrics shows every call served in the
caller's AZ; with the AZ-a instance killed, AZ a's calls are served from another AZ.

AWS pages behind it: SageMaker DG, "Low latency real-time inference with AWS
PrivateLink" (seed 002: with private DNS, invocation traffic stays in the client's AZ;
instances of an endpoint are deployed in at least two AZs and instances in any AZ can
serve); PrivateLink guide, "Access an AWS service using an interface VPC endpoint"
(private DNS needs enableDnsHostnames and enableDnsSupport)."""

from __future__ import annotations

import json
import subprocess
import time

from az_support import BIN, ROW, calls, delta, served_by_zone, served_elsewhere_while_down
from models import SKLEARN_IMAGE, deploy, pack, sklearn_model, upload
from vpc_support import requires_vpc

ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
pytestmark = requires_vpc()


def vpc_with_endpoint(srv, prefix: str, private_dns: bool) -> tuple[dict[str, str], str, str]:
    """A VPC with subnets in AZs a and b, an internet-gateway route (the public edge) and
    the SageMaker Runtime interface endpoint in both; a role hosts may call with. Returns
    the subnets by AZ, the endpoint's regional DNS name and the role's ARN."""
    ec2, iam = srv.client("ec2"), srv.client("iam")
    vpc = ec2.create_vpc(CidrBlock=f"{prefix}.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = {
        zone: ec2.create_subnet(VpcId=vpc, CidrBlock=f"{prefix}.{n}.0/24", AvailabilityZone=zone)[
            "Subnet"
        ]["SubnetId"]
        for n, zone in enumerate(ZONES[:2], 1)
    }
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][
        0
    ]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    vpce = ec2.create_vpc_endpoint(
        VpcId=vpc, VpcEndpointType="Interface", SubnetIds=list(subnets.values()),
        ServiceName="com.amazonaws.us-east-1.sagemaker.runtime", PrivateDnsEnabled=private_dns,
    )["VpcEndpoint"]["VpcEndpointId"]  # fmt: skip
    for _ in range(100):
        found = ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"][0]
        if found["State"] == "available":
            break
        time.sleep(0.1)
    assert found["State"] == "available"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
             "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]}  # fmt: skip
    role = iam.create_role(RoleName="client", AssumeRolePolicyDocument=json.dumps(trust))
    allow = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*"}]}  # fmt: skip
    iam.put_role_policy(RoleName="client", PolicyName="invoke", PolicyDocument=json.dumps(allow))
    return subnets, found["DnsEntries"][0]["DnsName"], role["Role"]["Arn"]


def test_calls_through_an_interface_endpoint_are_served_in_the_callers_az(
    make_server, tmp_path
) -> None:
    srv = make_server()
    endpoint = deploy(
        srv, SKLEARN_IMAGE, upload(srv, pack(sklearn_model(tmp_path / "m"))),
        variants=[{"VariantName": "AllTraffic", "InitialInstanceCount": 3,
                   "InstanceType": "ml.t2.medium"}],
    )  # fmt: skip
    assert served_by_zone(srv, endpoint) == dict.fromkeys(ZONES, 0)  # one instance in each

    subnets, _, arn = vpc_with_endpoint(srv, "10.40", private_dns=True)

    # the default hostname, resolved by the VPC's DNS to the ENI in the caller's AZ
    for zone in ZONES[:2]:
        before = served_by_zone(srv, endpoint)
        assert calls(srv, subnets[zone], arn, endpoint, 12) == ["ok"] * 12
        assert delta(before, served_by_zone(srv, endpoint)) == {
            z: 12 if z == zone else 0 for z in ZONES
        }
    # the public listener is not AZ-local: calls from here go to every AZ
    rt = srv.client("sagemaker-runtime")
    before = served_by_zone(srv, endpoint)
    for _ in range(9):
        rt.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=ROW)
    assert all(n > 0 for n in delta(before, served_by_zone(srv, endpoint)).values())

    # AZ a's instance killed: AZ a's calls go on, served by another AZ while it is down
    served_elsewhere_while_down(srv, endpoint, subnets["us-east-1a"], arn)


# Runs inside a host: the median milliseconds of a few calls through the interface
# endpoint's DNS name, and of as many on the public path (the default hostname, which
# with private DNS off is the VPC's public edge, over the internet-gateway route).
TIMER = """
import json, statistics, sys, time, boto3
from botocore.config import Config
name, row, url = sys.argv[1], sys.argv[2], sys.argv[3]
config = Config(retries={"total_max_attempts": 1})
out = {}
for path, extra in (("endpoint", {"endpoint_url": url}), ("public", {})):
    rt = boto3.client("sagemaker-runtime", config=config, **extra)
    took = []
    for n in range(6):
        start = time.perf_counter()
        rt.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=row)
        if n:  # the first one connects
            took.append((time.perf_counter() - start) * 1000)
    out[path] = statistics.median(took)
print(json.dumps(out))
"""
DELAY_MS = 250


def test_the_cross_az_delay_applies_to_calls_served_in_another_az(make_server, tmp_path) -> None:
    srv = make_server(env={"COVE_CROSS_AZ_DELAY_MS": str(DELAY_MS)})
    endpoint = deploy(srv, SKLEARN_IMAGE, upload(srv, pack(sklearn_model(tmp_path / "m"))))
    assert served_by_zone(srv, endpoint) == {"us-east-1a": 0}  # its one instance
    subnets, dns, arn = vpc_with_endpoint(srv, "10.41", private_dns=False)
    env = {**srv.aws_env(), "COVE_HOME": str(srv.data_dir)}
    medians = {}
    for zone, subnet in subnets.items():
        done = subprocess.run(
            [str(BIN / "cove"), "exec", "--subnet", subnet, "--role", arn, "--",
             str(BIN / "python"), "-c", TIMER, endpoint, ROW, f"https://{dns}"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        medians[zone] = json.loads(done.stdout)
    # from AZ a, served in AZ a: no delay, through the endpoint or on the public path
    assert max(medians["us-east-1a"].values()) < DELAY_MS / 2, medians
    # from AZ b (its ENI, or a host of its subnet on the public path), served in AZ a
    assert min(medians["us-east-1b"].values()) >= DELAY_MS, medians
    # a caller in no AZ (the listener on loopback) pays none
    rt = srv.client("sagemaker-runtime")
    took = []
    for _ in range(5):
        start = time.perf_counter()
        rt.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=ROW)
        took.append((time.perf_counter() - start) * 1000)
    assert sorted(took)[2] < DELAY_MS / 2, took
