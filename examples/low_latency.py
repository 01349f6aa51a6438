"""Seed 002, "Low latency real-time inference with AWS PrivateLink": deploy a model with
`VpcConfig` in the client's subnets (two AZs), behind a two-instance endpoint, and call it
from a host in the VPC through the SageMaker Runtime interface endpoint with private DNS,
so that invocation traffic stays inside the VPC and in the client's AZ.

    eval "$(cove env)"                          # a running `cove server` (see the README)
    python examples/breast_cancer.py            # leaves its endpoint and model running
    python examples/low_latency.py [--cleanup]  # or --source-model NAME: any model

What it makes: a VPC (10.50.0.0/16, DNS hostnames on, as private DNS needs) with a subnet
in us-east-1a and one in us-east-1b; security groups for the clients, the interface
endpoint (HTTPS from the clients) and the model; the runtime interface endpoint with
private DNS in both subnets; an S3 gateway endpoint on the VPC's route table (SageMaker
downloads the model artifact through the model's VPC, which has no other way to S3); a
model with the source model's container and role and
`VpcConfig` in both subnets; a two-instance endpoint (one instance per AZ); a role the
client host runs with (trusted by EC2, allowed sagemaker:InvokeEndpoint). Then, from a
host in us-east-1a (`cove exec`), the seed's call,

    boto3.client('sagemaker-runtime').invoke_endpoint(
        EndpointName=..., ContentType='text/csv', Body=payload)

--calls times, and prints how many calls each AZ served (from Cove's /metrics): all of
them in us-east-1a. With --cleanup it deletes everything it made; otherwise it leaves it,
and prints the ids as one JSON line (`resources: {...}`) for scripts.

Uses boto3 only, plus the `cove` command (COVE, default `cove`) for the host.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError

# The validation row from seed 004's data set (what breast_cancer.py's model takes).
SEED_ROW = (
    "13.49,22.3,86.91,561.0,0.08752,0.07697999999999999,0.047510000000000004,"
    "0.033839999999999995,0.1809,0.057179999999999995,0.2338,1.3530000000000002,1.735,20.2,"
    "0.004455,0.013819999999999999,0.02095,0.01184,0.01641,0.001956,15.15,31.82,99.0,698.8,"
    "0.1162,0.1711,0.2282,0.1282,0.2871,0.06917000000000001"
)
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}  # fmt: skip
INVOKE_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*"}],
}
# The seed's client, run inside the host: it finds the endpoint by the default hostname
# (private DNS) and the role's credentials through the instance metadata service.
CLIENT = """
import sys, time, boto3
endpoint_name, payload, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
runtime = boto3.client('sagemaker-runtime')
for _ in range(calls):
    started = time.perf_counter()
    response = runtime.invoke_endpoint(EndpointName=endpoint_name, ContentType='text/csv',
                                       Body=payload)
    answer = response['Body'].read().decode()
    print(f"{(time.perf_counter() - started) * 1000:7.2f} ms  {answer[:70]}", flush=True)
"""


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def wait_for_endpoint(sm, name: str) -> None:  # type: ignore[no-untyped-def]
    while True:
        desc = sm.describe_endpoint(EndpointName=name)
        if desc["EndpointStatus"] == "InService":
            return
        if desc["EndpointStatus"] == "Failed":
            raise SystemExit(f"endpoint {name} failed: {desc.get('FailureReason')}")
        time.sleep(1)


def wait_for_vpc_endpoint(ec2, vpce_id: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(300):
        found = ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce_id])["VpcEndpoints"][0]
        if found["State"] == "available":
            return
        time.sleep(0.2)
    raise SystemExit(f"{vpce_id} stayed {found['State']}")


def source_model_of(sm, endpoint_name: str) -> str:  # type: ignore[no-untyped-def]
    config = sm.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    variants = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    return variants[0]["ModelName"]


def served_by_zone(endpoint_url: str, endpoint_name: str) -> dict[str, int]:
    """The calls each AZ's instances answered (cove_instance_invocations_total)."""
    with urllib.request.urlopen(f"{endpoint_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    pattern = (rf'^cove_instance_invocations_total\{{endpoint="{re.escape(endpoint_name)}",'
               r'[^}]*availability_zone="([^"]+)"\} (\d+)$')  # fmt: skip
    counts: dict[str, int] = {}
    for zone, count in re.findall(pattern, text, re.MULTILINE):
        counts[zone] = counts.get(zone, 0) + int(count)
    return counts


def build(args: argparse.Namespace, made: dict[str, str]) -> None:
    session = boto3.Session()
    region = session.region_name or "us-east-1"
    ec2, sm, iam = session.client("ec2"), session.client("sagemaker"), session.client("iam")
    zones = [f"{region}a", f"{region}b"]

    step(f"A VPC with a subnet in {zones[0]} and one in {zones[1]}, DNS hostnames on")
    made["vpc"] = vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.50.{n}.0/24",
                          AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for n, zone in enumerate(zones, start=1)
    ]  # fmt: skip
    made["subnets"] = ",".join(subnets)
    print(f"{vpc}: {subnets[0]} ({zones[0]}), {subnets[1]} ({zones[1]})")

    step("Security groups: the clients', the endpoint's (HTTPS from the clients), the model's")

    def group(name: str, description: str) -> str:
        return ec2.create_security_group(VpcId=vpc, GroupName=name,
                                         Description=description)["GroupId"]  # fmt: skip

    made["clients"] = clients = group("clients", "hosts that call the model")
    vpce_group = group("runtime-endpoint", "HTTPS from the clients")
    model_group = group("model", "the model's instances")
    ec2.authorize_security_group_ingress(GroupId=vpce_group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "UserIdGroupPairs": [{"GroupId": clients}]}])  # fmt: skip

    step("The SageMaker Runtime interface endpoint, private DNS on, in both subnets")
    made["vpce"] = vpce = ec2.create_vpc_endpoint(
        VpcId=vpc, VpcEndpointType="Interface", SubnetIds=subnets,
        SecurityGroupIds=[vpce_group], PrivateDnsEnabled=True,
        ServiceName=f"com.amazonaws.{region}.sagemaker.runtime",
    )["VpcEndpoint"]["VpcEndpointId"]  # fmt: skip
    wait_for_vpc_endpoint(ec2, vpce)
    print(f"{vpce}: runtime.sagemaker.{region}.amazonaws.com now resolves to it in {vpc}")

    step("An S3 gateway endpoint: the model artifact comes to the instances through the VPC")
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]  # fmt: skip
    made["s3_vpce"] = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{region}.s3", RouteTableIds=[table]
    )["VpcEndpoint"]["VpcEndpointId"]

    source_name = args.source_model or source_model_of(sm, args.source_endpoint)
    step(f"The model in the clients' subnets (VpcConfig), from {source_name}'s container")
    source = sm.describe_model(ModelName=source_name)
    container = {k: v for k, v in source["PrimaryContainer"].items()
                 if k in ("Image", "ModelDataUrl", "Environment")}  # fmt: skip
    sm.create_model(
        ModelName=args.name, PrimaryContainer=container,
        ExecutionRoleArn=source["ExecutionRoleArn"],
        VpcConfig={"SecurityGroupIds": [model_group], "Subnets": subnets},
    )  # fmt: skip
    made["model"] = args.name
    sm.create_endpoint_config(EndpointConfigName=args.name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": args.name, "InitialInstanceCount": 2,
        "InstanceType": args.instance_type}])  # fmt: skip
    made["endpoint_config"] = args.name
    sm.create_endpoint(EndpointName=args.name, EndpointConfigName=args.name)
    made["endpoint"] = args.name
    wait_for_endpoint(sm, args.name)
    print(f"endpoint {args.name}: InService, one instance in each AZ")

    step("A role for the client host: trusted by EC2, may invoke endpoints")
    role = iam.create_role(RoleName=f"{args.name}-client",
                           AssumeRolePolicyDocument=json.dumps(EC2_TRUST))["Role"]  # fmt: skip
    made["role"] = role["RoleName"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="invoke",
                        PolicyDocument=json.dumps(INVOKE_ONLY))  # fmt: skip
    made["role_arn"] = role["Arn"]

    step(f"From a host in {zones[0]}: {args.calls} calls, as the seed makes them")
    before = served_by_zone(args.endpoint_url, args.name)
    done = subprocess.run(
        [os.environ.get("COVE", "cove"), "exec", "--subnet", subnets[0],
         "--security-group", clients, "--role", role["Arn"], "--",
         sys.executable, "-c", CLIENT, args.name, args.payload, str(args.calls)],
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the client host failed (exit {done.returncode})")
    after = served_by_zone(args.endpoint_url, args.name)
    served = {zone: after.get(zone, 0) - before.get(zone, 0) for zone in sorted(after)}
    print("served by AZ: " + ", ".join(f"{zone} {n}" for zone, n in served.items()))


def cleanup(made: dict[str, str]) -> None:
    session = boto3.Session()
    ec2, sm, iam = session.client("ec2"), session.client("sagemaker"), session.client("iam")
    step("Deleting what it made")
    with contextlib.suppress(ClientError, KeyError):
        iam.delete_role_policy(RoleName=made["role"], PolicyName="invoke")
        iam.delete_role(RoleName=made["role"])
    for call, key, param in ((sm.delete_endpoint, "endpoint", "EndpointName"),
                             (sm.delete_endpoint_config, "endpoint_config", "EndpointConfigName"),
                             (sm.delete_model, "model", "ModelName")):  # fmt: skip
        if key in made:
            with contextlib.suppress(ClientError):
                call(**{param: made[key]})
    endpoints = [made[key] for key in ("vpce", "s3_vpce") if key in made]
    if endpoints:
        ec2.delete_vpc_endpoints(VpcEndpointIds=endpoints)
    if "vpc" not in made:
        return
    # the instances' ENIs go with the endpoint; subnets and groups wait for them
    for _ in range(100):
        enis = ec2.describe_network_interfaces(
            Filters=[{"Name": "vpc-id", "Values": [made["vpc"]]}])["NetworkInterfaces"]
        if not enis:
            break
        time.sleep(0.2)
    for subnet in made.get("subnets", "").split(","):
        if subnet:
            ec2.delete_subnet(SubnetId=subnet)
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [made["vpc"]]}])
    for sg in groups["SecurityGroups"]:
        if sg["GroupName"] != "default":
            ec2.delete_security_group(GroupId=sg["GroupId"])
    ec2.delete_vpc(VpcId=made["vpc"])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--source-model",
                        help="an existing model whose container (image, artifact) and role "
                        "the VPC model uses (default: the model --source-endpoint serves)")
    parser.add_argument("--source-endpoint",
                        default="linear-learner-breast-cancer-prediction-endpoint",
                        help="breast_cancer.py's endpoint, whose model is the source")
    parser.add_argument("--name", default="low-latency", help="the model, config and endpoint")
    parser.add_argument("--instance-type", default="ml.m5.large")
    parser.add_argument("--calls", type=int, default=20, help="calls the client host makes")
    parser.add_argument("--payload", default=SEED_ROW, help="the CSV row sent")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL", ""),
                        help="Cove's URL, for /metrics (default: AWS_ENDPOINT_URL)")
    parser.add_argument("--cleanup", action="store_true", help="delete everything at the end")
    args = parser.parse_args()
    if not args.endpoint_url:
        parser.error("set AWS_ENDPOINT_URL (eval \"$(cove env)\") or pass --endpoint-url")
    made: dict[str, str] = {}
    try:
        build(args, made)
    except BaseException:
        cleanup(made)
        raise
    if args.cleanup:
        cleanup(made)
    else:
        print("resources: " + json.dumps(made), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
