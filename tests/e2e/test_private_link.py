"""Seed 000 end to end: examples/private_link.sh against a real server, as root, with the
AWS CLI and `cove exec` hosts making real TLS connections and real DNS lookups inside a
VPC built from network namespaces; then nothing of it is left, and a restart brings the
endpoint back `available` at the same addresses.

AWS pages behind what is pinned: PrivateLink guide, "Access an AWS service using an
interface VPC endpoint" (regional and zonal DnsEntries, private DNS answering the default
hostname inside the VPC); VPC UG, "Security groups" (a connection the rules do not allow
is dropped: the client times out); IAM UG, "Troubleshoot access denied error messages"
("with an explicit deny in a VPC endpoint policy")."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from models import SKLEARN_IMAGE, breast_cancer, csv_rows, deploy, pack, sklearn_model, upload
from netns_watch import NamespaceWatch, left_over
from vpc_support import requires_vpc

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "examples" / "private_link.sh"
BIN = ROOT / ".venv" / "bin"


pytestmark = requires_vpc()


def _env(srv) -> dict[str, str]:
    return {
        **srv.aws_env(),
        "COVE_HOME": str(srv.data_dir),
        "COVE": str(BIN / "cove"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }


def test_seed_000_walkthrough_runs_as_written(make_server, tmp_path) -> None:
    links_before = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    srv = make_server()
    name = deploy(srv, SKLEARN_IMAGE, upload(srv, pack(sklearn_model(tmp_path / "m"))))
    rows, labels = breast_cancer()
    row = csv_rows(rows[:1]).strip()
    with NamespaceWatch(srv.proc.pid) as made:
        proc = subprocess.run(
            ["bash", str(SCRIPT), name, row], env=_env(srv), capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    predictions = [line for line in out.splitlines() if line.startswith("Prediction: ")]
    assert len(predictions) == 2  # by the vpce name, then by the default hostname
    assert all(p.strip().removeprefix("Prediction: ") for p in predictions)
    assert "runtime.sagemaker.us-east-1.amazonaws.com" in out  # getent inside the VPC
    assert "The outsider's connection timed out" in out
    assert "with an explicit deny in a VPC endpoint policy" in out
    # the script deleted what it made
    ec2 = srv.client("ec2")
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []
    assert srv.stop() == []  # no holder, nsenter or shell outlives the server
    assert len(made.seen) >= 3  # the router and the endpoint's ENIs, at least
    assert left_over(made.seen) == set()
    after = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert after == links_before


def _create_endpoint(ec2, private_dns: bool = False) -> dict:
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in ((1, "us-east-1a"), (2, "us-east-1b"))
    ]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, VpcEndpointType="Interface", SubnetIds=subnets,
        ServiceName="com.amazonaws.us-east-1.sagemaker.runtime", PrivateDnsEnabled=private_dns,
    )["VpcEndpoint"]  # fmt: skip
    assert endpoint["State"] == "pending"  # until its listeners answer
    return {"vpc": vpc, "subnets": subnets, "endpoint": endpoint["VpcEndpointId"]}


def _wait_available(ec2, endpoint_id: str) -> dict:
    for _ in range(100):
        found = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]
        if found["State"] == "available":
            return found
        time.sleep(0.1)
    raise AssertionError(f"{endpoint_id} stayed {found['State']}")


def _exec(srv, subnet: str, *command: str, role: str | None = None) -> subprocess.CompletedProcess:
    argv = [str(BIN / "cove"), "exec", "--subnet", subnet, *(["--role", role] if role else [])]
    return subprocess.run(
        [*argv, "--", *command], env=_env(srv), capture_output=True, text=True, timeout=120
    )


def test_hosts_resolve_zonal_names_to_their_own_az_and_the_default_group_applies(
    make_server,
) -> None:
    srv = make_server()
    ec2 = srv.client("ec2")
    made = _create_endpoint(ec2)
    found = _wait_available(ec2, made["endpoint"])
    regional, *zonal = [e["DnsName"] for e in found["DnsEntries"]]
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=found["NetworkInterfaceIds"])
    ip_by_zone = {e["AvailabilityZone"]: e["PrivateIpAddress"] for e in enis["NetworkInterfaces"]}
    # regional name: both ENIs, the asking host's AZ first
    for subnet, zone in zip(made["subnets"], ("us-east-1a", "us-east-1b"), strict=True):
        done = _exec(srv, subnet, "getent", "ahostsv4", regional)
        assert done.returncode == 0, done.stderr
        first = done.stdout.split()[0]
        assert first == ip_by_zone[zone]
    zonal_b = next(z for z in zonal if "-us-east-1b." in z)
    done = _exec(srv, made["subnets"][0], "getent", "hosts", zonal_b)
    assert done.stdout.split()[0] == ip_by_zone["us-east-1b"]
    # the endpoint got the VPC's default group, which admits members only: a host in the
    # default group connects (TLS verified against Cove's CA)
    done = _exec(srv, made["subnets"][0], "curl", "-sS", "-m", "5", "-o", "/dev/null",
                 "-w", "%{http_code}", f"https://{regional}/endpoints/x/invocations")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout != "000"
    # outside the VPC nothing changes: the host's own resolver does not know the name
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(regional, 443)


def test_imds_gives_the_role_credentials_and_nothing_else_reaches_the_host(
    make_server,
) -> None:
    srv = make_server()
    ec2, iam = srv.client("ec2"), srv.client("iam")
    made = _create_endpoint(ec2)
    _wait_available(ec2, made["endpoint"])
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
             "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]}  # fmt: skip
    role = iam.create_role(RoleName="host", AssumeRolePolicyDocument=json.dumps(trust))
    arn = role["Role"]["Arn"]
    script = (
        "T=$(curl -sS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "
        "http://169.254.169.254/latest/api/token); "
        "curl -s -o /dev/null -w '%{http_code} ' http://169.254.169.254/latest/meta-data/; "
        'curl -sS -H "X-aws-ec2-metadata-token: $T" '
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/; echo; "
        'curl -sS -H "X-aws-ec2-metadata-token: $T" '
        "http://169.254.169.254/latest/meta-data/local-ipv4"
    )
    done = _exec(srv, made["subnets"][0], "sh", "-c", script, role=arn)
    assert done.returncode == 0, done.stderr
    status, role_name, ip = done.stdout.split()
    # IMDSv2 required: a GET without a valid token is 401 Unauthorized (EC2 User Guide,
    # "Retrieve instance metadata", HTTP error codes: 400 for an invalid PUT, 401 for an
    # invalid token, 403 when not allowed)
    assert status == "401"
    assert role_name == "host"
    assert ip.startswith("10.20.1.")
    # boto3 inside finds the role's credentials there, with no variable set for it
    who = _exec(
        srv, made["subnets"][0], str(BIN / "python"), "-c",
        "import boto3; print(boto3.client('sts', endpoint_url='http://127.0.0.1:1')"
        ".meta.region_name, boto3.Session().get_credentials().access_key[:4])",
        role=arn,
    )  # fmt: skip
    assert who.returncode == 0, who.stderr
    assert who.stdout.split() == ["us-east-1", "ASIA"]
    # a role that does not trust EC2 is refused
    # (Cove's default role trusts SageMaker and Lambda only)
    refused = _exec(srv, made["subnets"][0], "true", role="arn:aws:iam::000000000000:role/cove")
    assert refused.returncode == 125 and "InvalidParameterValue" in refused.stderr


def test_restart_brings_endpoints_back_available_at_the_same_addresses(make_server) -> None:
    srv = make_server()
    ec2 = srv.client("ec2")
    made = _create_endpoint(ec2)
    before = _wait_available(ec2, made["endpoint"])
    ips = sorted(
        e["PrivateIpAddress"]
        for e in ec2.describe_network_interfaces(NetworkInterfaceIds=before["NetworkInterfaceIds"])[
            "NetworkInterfaces"
        ]
    )
    srv.stop()
    srv.start()
    ec2 = srv.client("ec2")
    after = ec2.describe_vpc_endpoints(VpcEndpointIds=[made["endpoint"]])["VpcEndpoints"][0]
    assert after["State"] == "available"  # before the server said it was serving
    again = sorted(
        e["PrivateIpAddress"]
        for e in ec2.describe_network_interfaces(NetworkInterfaceIds=after["NetworkInterfaceIds"])[
            "NetworkInterfaces"
        ]
    )
    assert again == ips
    done = _exec(srv, made["subnets"][1], "curl", "-sS", "-m", "5", "-o", "/dev/null", "-w",
                 "%{http_code}", f"https://{ips[1]}/ping")  # fmt: skip
    # curl verified the ENI's certificate (its IP is in it) against AWS_CA_BUNDLE
    assert done.returncode == 0 and done.stdout != "000", done.stderr


def test_public_hostnames_are_reachable_only_through_an_internet_gateway_route(
    make_server,
) -> None:
    # Inside a VPC the services' default hostnames resolve (Route 53 Resolver answers
    # public names), but a connection needs a route out: without an internet gateway
    # route it fails (VPC UG, "Route tables"; "Connect to the internet using an internet
    # gateway"). Cove's public endpoints are served inside the VPC network for that path.
    srv = make_server()
    ec2, iam = srv.client("ec2"), srv.client("iam")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24")["Subnet"]["SubnetId"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
             "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]}  # fmt: skip
    arn = iam.create_role(RoleName="edge", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    call = ("aws", "sts", "get-caller-identity", "--query", "Arn", "--output", "text",
            "--cli-connect-timeout", "3")  # fmt: skip
    private = _exec(srv, subnet, *call, role=arn)
    assert private.returncode != 0  # no route out: the connection times out
    assert "sts.us-east-1.amazonaws.com" in private.stderr
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][
        0
    ]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    time.sleep(0.5)  # the router's rules follow within a second
    public = _exec(srv, subnet, *call, role=arn)
    assert public.returncode == 0, public.stderr
    assert public.stdout.strip().startswith("arn:aws:sts::000000000000:assumed-role/edge/")
    # S3 by its real name, virtual-hosted as the CLI addresses AWS (bucket.s3.amazonaws.com)
    srv.client("s3").create_bucket(Bucket="edge-data")
    srv.client("s3").put_object(Bucket="edge-data", Key="hello.txt", Body=b"from the bucket")
    iam.attach_role_policy(
        RoleName="edge", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    read = _exec(srv, subnet, "aws", "s3", "cp", "s3://edge-data/hello.txt", "-", role=arn)
    assert read.returncode == 0, read.stderr
    assert read.stdout == "from the bucket"


def test_endpoint_subnets_and_group_rules_change_live(make_server) -> None:
    # ModifyVpcEndpoint adds and removes subnets (their ENIs come and go); a security
    # group change applies to the next connection (VPC UG, "Security group rules":
    # "changes are automatically applied"); the exit code passes through cove exec.
    srv = make_server()
    ec2 = srv.client("ec2")
    made = _create_endpoint(ec2)
    found = _wait_available(ec2, made["endpoint"])
    regional = found["DnsEntries"][0]["DnsName"]
    subnet_a, subnet_b = made["subnets"]
    ec2.modify_vpc_endpoint(VpcEndpointId=made["endpoint"], RemoveSubnetIds=[subnet_b])
    time.sleep(0.5)
    done = _exec(srv, subnet_a, "getent", "ahostsv4", regional)
    now = ec2.describe_vpc_endpoints(VpcEndpointIds=[made["endpoint"]])["VpcEndpoints"][0]
    assert len(now["NetworkInterfaceIds"]) == 1
    left = ec2.describe_network_interfaces(NetworkInterfaceIds=now["NetworkInterfaceIds"])
    assert {line.split()[0] for line in done.stdout.splitlines()} == {
        left["NetworkInterfaces"][0]["PrivateIpAddress"]
    }
    assert len(done.stdout.splitlines()) <= 3  # one address (getent prints per socktype)
    ec2.modify_vpc_endpoint(VpcEndpointId=made["endpoint"], AddSubnetIds=[subnet_b])
    _wait_available(ec2, made["endpoint"])
    again = _exec(srv, subnet_b, "getent", "ahostsv4", regional)
    assert len({line.split()[0] for line in again.stdout.splitlines()}) == 2

    # the default group admits its members: revoking that rule drops the next connection
    default = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [made["vpc"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]
    curl = ("curl", "-sS", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}",
            f"https://{regional}/endpoints/x/invocations")  # fmt: skip
    assert _exec(srv, subnet_a, *curl).returncode == 0
    ec2.revoke_security_group_ingress(
        GroupId=default["GroupId"],
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default["GroupId"]}]}],
    )
    time.sleep(1.0)
    dropped = _exec(srv, subnet_a, *curl)
    assert dropped.returncode == 28, dropped.stderr  # curl: timed out, not refused
    assert _exec(srv, subnet_a, "sh", "-c", "echo out; echo err >&2; exit 7").returncode == 7


def test_a_host_cannot_read_the_data_dir_see_the_server_or_leave_its_network(
    make_server,
) -> None:
    # the trust boundary: what runs in a host holds no capability, sees an empty data dir
    # and only its own processes (DESIGN.md, "Trust boundary")
    srv = make_server()
    ec2 = srv.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.50.1.0/24")["Subnet"]["SubnetId"]
    script = (
        f"ls -A {srv.data_dir} | wc -l; "
        "ls /proc | grep -c '^[0-9]'; "
        "nsenter --net=/proc/1/ns/net true 2>/dev/null && echo escaped || echo contained; "
        "nft list ruleset 2>/dev/null && echo firewall || echo no-firewall"
    )
    done = _exec(srv, subnet, "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    files, processes, namespace, firewall = done.stdout.split()
    assert files == "0"  # an empty tmpfs over it
    assert int(processes) <= 5  # sh, ls, grep (and the PID namespace's init)
    assert (namespace, firewall) == ("contained", "no-firewall")
    assert (srv.data_dir / "credentials.json").exists()  # hidden inside only


def test_s3_through_its_interface_endpoint_and_an_invoke_url_by_its_real_name(
    make_server,
) -> None:
    # S3's interface endpoint: the endpoint-specific name bucket.vpce-... takes path-style
    # requests (Amazon S3 User Guide, "AWS PrivateLink for Amazon S3"); an API's invoke URL
    # answers inside the VPC at {api}.execute-api.{region}.amazonaws.com over the public
    # path (API Gateway DG, "Invoke a REST API"), here through an internet-gateway route.
    srv = make_server()
    ec2, iam, s3 = srv.client("ec2"), srv.client("iam"), srv.client("s3")
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.60.1.0/24")["Subnet"]["SubnetId"]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, VpcEndpointType="Interface", SubnetIds=[subnet],
        ServiceName="com.amazonaws.us-east-1.s3", PrivateDnsEnabled=False,
    )["VpcEndpoint"]  # fmt: skip
    found = _wait_available(ec2, endpoint["VpcEndpointId"])
    regional = found["DnsEntries"][0]["DnsName"]  # *.vpce-...s3.us-east-1.vpce.amazonaws.com
    assert regional.startswith("*.vpce-")
    s3.create_bucket(Bucket="through-vpce")
    s3.put_object(Bucket="through-vpce", Key="k.txt", Body=b"via privatelink")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
             "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]}  # fmt: skip
    arn = iam.create_role(RoleName="s3-reader", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    iam.attach_role_policy(
        RoleName="s3-reader", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    url = "https://bucket." + regional.removeprefix("*.")
    read = _exec(srv, subnet, "aws", "s3", "cp", "s3://through-vpce/k.txt", "-",
                 "--endpoint-url", url, role=arn)  # fmt: skip
    assert read.returncode == 0, read.stderr
    assert read.stdout == "via privatelink"

    apigw = srv.client("apigateway")
    api = apigw.create_rest_api(name="inside")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    common = {"restApiId": api, "resourceId": root, "httpMethod": "GET"}
    apigw.put_method(**common, authorizationType="NONE")
    apigw.put_integration(
        **common, type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'}
    )
    apigw.put_method_response(**common, statusCode="200")
    apigw.put_integration_response(
        **common, statusCode="200", responseTemplates={"application/json": '{"from": "vpc"}'}
    )
    apigw.create_deployment(restApiId=api, stageName="test")
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][
        0
    ]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    time.sleep(0.5)
    called = _exec(srv, subnet, "curl", "-sS", "-m", "5",
                   f"https://{api}.execute-api.us-east-1.amazonaws.com/test/")  # fmt: skip
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout) == {"from": "vpc"}


VPC_FUNCTION = """
import socket
import boto3


def lambda_handler(event, context):
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect((event["resolver"], 53))
    return {"ip": probe.getsockname()[0],
            "arn": boto3.client("sts").get_caller_identity()["Arn"]}
"""


def test_a_function_with_vpc_config_runs_as_a_host_in_its_subnet(make_server) -> None:
    # Lambda DG, "Giving Lambda functions access to resources in an Amazon VPC": the
    # function's ENI is in its subnet with its groups; it reaches AWS services as the VPC
    # lets it (here an internet-gateway route), and without a route its calls time out.
    import io
    import zipfile

    srv = make_server()
    ec2, iam = srv.client("ec2"), srv.client("iam")
    lam = srv.client("lambda")
    vpc = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.70.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "SecurityGroups"
    ][0]["GroupId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][
        0
    ]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
             "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip
    role = iam.create_role(RoleName="in-vpc", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("lambda_function.py", VPC_FUNCTION)
    lam.create_function(
        FunctionName="in-vpc", Runtime="python3.11", Role=role, Timeout=8,
        Handler="lambda_function.lambda_handler", Code={"ZipFile": package.getvalue()},
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]},
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(
        FunctionName="in-vpc", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    out = lam.invoke(FunctionName="in-vpc", Payload=json.dumps({"resolver": "10.70.0.2"}))
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, body
    assert body["ip"].startswith("10.70.1.")  # its ENI's address in the subnet
    assert body["arn"].startswith("arn:aws:sts::000000000000:assumed-role/in-vpc/")
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet]}])[
        "NetworkInterfaces"
    ]
    assert [e["Description"] for e in enis] == ["AWS Lambda VPC ENI-in-vpc"]
    assert enis[0]["PrivateIpAddress"] == body["ip"]
    # Lambda's, not the account's (EC2 API reference, NetworkInterfaceType "lambda")
    assert (enis[0]["InterfaceType"], enis[0]["RequesterManaged"]) == ("lambda", True)

    ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    time.sleep(0.5)
    cut = lam.invoke(FunctionName="in-vpc", Payload=json.dumps({"resolver": "10.70.0.2"}))
    assert cut["FunctionError"] == "Unhandled"
    assert "Task timed out after" in json.loads(cut["Payload"].read())["errorMessage"]
