"""S3 through the VPC (issue #12 item 3): a model in a VPC gets its artifact, and its code
reaches S3, the way the VPC allows: an S3 gateway endpoint in the subnet's route table
(whose policy applies), an S3 interface endpoint, or an internet route; with none, the
endpoint fails saying what to add.

AWS pages behind what is pinned: SageMaker DG, "Give SageMaker AI hosted endpoints access
to resources in your Amazon VPC" (https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html,
"Create an Amazon S3 VPC Endpoint": without internet access the containers "can't connect
to the Amazon S3 buckets that contain your data unless you create a VPC endpoint", and a
custom endpoint policy restricts what they reach); SageMaker's FailureReason for an
artifact its instances cannot reach ('Failed to download model data from URL "s3://...".
Please ensure that an S3 VPC endpoint exists in route table or NAT gateway for the VPC
mode and the URL is reachable from within the subnets provided.', as CloudFormation
reports it: github.com/aws-solutions-library-samples/guidance-for-text-generation-using-
embeddings-from-enterprise-data-on-aws/issues/3); VPC UG, "Gateway endpoints for Amazon
S3" (the route to S3's prefix list in the associated route tables; the endpoint policy);
IAM UG, "Troubleshoot access denied error messages" ("with an explicit deny in a VPC
endpoint policy"); and for an artifact S3 refuses, SageMaker's 'Failed to download model
data for container "container_1" from URL: "s3://...". Please ensure that there is an
object located at the URL and that the role passed to CreateModel has permissions to
download the object.' (github.com/aws-samples/cvat-on-aws-china/issues/3)."""

from __future__ import annotations

import json
import time
from typing import Any

from models import pack, sklearn_model, unique, upload
from vpc_support import (
    SCRIPT,
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

pytestmark = requires_vpc()

BUCKET = "cove-test-models"  # the models' bucket: the role may read it
S3 = "com.amazonaws.us-east-1.s3"


def _deny(*resources: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": [f"arn:aws:s3:::{r}" for r in resources]},
    ]})  # fmt: skip


def _deploy(srv: Any, model: str) -> tuple[str, dict[str, Any]]:
    endpoint = unique("vpc-s3")
    sm = srv.client("sagemaker")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=vpc_config(srv, model, 1))
    return endpoint, wait_settled(sm, endpoint)


def test_the_artifact_comes_through_a_gateway_endpoint_under_its_policy(
    make_server, tmp_path
) -> None:
    srv = make_server()
    ec2, s3 = srv.client("ec2"), srv.client("s3")
    net = vpc_network(ec2, "10.85.0.0", s3_gateway=False)  # no way to S3 at all
    first = net["subnets"][0]
    free_before = free_ips(ec2, net["subnets"])
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m", SCRIPT)), BUCKET)
    s3.put_object(Bucket=BUCKET, Key="data/open.txt", Body=b"open data")
    s3.put_object(Bucket=BUCKET, Key="data/closed.txt", Body=b"closed data")
    model = vpc_model(srv, model_url, net["subnets"], net["group"], models_role(srv))

    # no route to S3: the endpoint fails in AWS's words, with what to add where
    _, failed = _deploy(srv, model)
    assert failed["EndpointStatus"] == "Failed"
    assert failed["FailureReason"] == (
        f'Failed to download model data from URL "{model_url}". Please ensure that an S3 VPC '
        "endpoint exists in route table or NAT gateway for the VPC mode and the URL is "
        f"reachable from within the subnets provided. (no route to S3 from subnet {first} "
        f"(route table {net['table']}): add an S3 gateway endpoint ({S3}) to that route "
        "table, an S3 interface endpoint with private DNS, or a route to an internet gateway.)"
    )
    assert eni_list(ec2, net["vpc"]) == [] and free_ips(ec2, net["subnets"]) == free_before

    # a gateway endpoint on the subnets' route table carries it, under its policy
    gateway = ec2.create_vpc_endpoint(
        VpcId=net["vpc"], ServiceName=S3, RouteTableIds=[net["table"]],
        PolicyDocument=_deny(f"{BUCKET}/*"),
    )["VpcEndpoint"]["VpcEndpointId"]  # fmt: skip
    _, denied = _deploy(srv, model)
    assert denied["EndpointStatus"] == "Failed"
    assert denied["FailureReason"].startswith(
        f'Failed to download model data for container "container_1" from URL: "{model_url}". '
        "Please ensure that there is an object located at the URL and that the role passed "
        "to CreateModel has permissions to download the object. (AccessDenied: "
    )
    assert "with an explicit deny in a VPC endpoint policy" in denied["FailureReason"]
    ec2.modify_vpc_endpoint(VpcEndpointId=gateway, PolicyDocument=_deny(f"{BUCKET}/data/closed*"))
    endpoint, served = _deploy(srv, model)
    assert served["EndpointStatus"] == "InService", served.get("FailureReason")

    # the model's own S3 calls take the same way, under the same policy
    assert ask_model(srv, endpoint, net, s3=(BUCKET, "data/open.txt"))["s3"] == "open data"
    closed = ask_model(srv, endpoint, net, s3=(BUCKET, "data/closed.txt"))["s3"]
    assert closed.startswith("AccessDenied ") and "VPC endpoint policy" in closed
    # without the gateway's route, S3 is out of reach again (dropped: the call times out)
    ec2.modify_vpc_endpoint(VpcEndpointId=gateway, RemoveRouteTableIds=[net["table"]])
    time.sleep(0.5)
    cut = ask_model(srv, endpoint, net, s3=(BUCKET, "data/open.txt"))["s3"]
    assert cut.startswith(("ConnectTimeoutError", "EndpointConnectionError")), cut
    # with an internet route too, the gateway endpoint still carries S3 (its route is the
    # more specific one), and S3 is not served at another service's public name, which
    # would let a host of the subnet step around the endpoint's policy
    ec2.modify_vpc_endpoint(VpcEndpointId=gateway, AddRouteTableIds=[net["table"]])
    open_internet(ec2, net)
    time.sleep(0.5)
    closed = ask_model(srv, endpoint, net, s3=(BUCKET, "data/closed.txt"))["s3"]
    assert closed.startswith("AccessDenied ") and "VPC endpoint policy" in closed
    around = ask_model(srv, endpoint, net, s3=(BUCKET, "data/closed.txt"),
                       s3_url="https://sts.us-east-1.amazonaws.com")["s3"]  # fmt: skip
    assert "closed data" not in around, around


def test_an_interface_endpoint_or_an_internet_route_carries_it_too(make_server, tmp_path) -> None:
    srv = make_server()
    ec2 = srv.client("ec2")
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m", SCRIPT)), BUCKET)
    srv.client("s3").put_object(Bucket=BUCKET, Key="data/open.txt", Body=b"open data")
    role = models_role(srv)

    # an S3 interface endpoint with private DNS: S3's names resolve to its ENIs
    private = vpc_network(ec2, "10.86.0.0", s3_gateway=False)
    ec2.modify_vpc_attribute(VpcId=private["vpc"], EnableDnsHostnames={"Value": True})
    interface = ec2.create_vpc_endpoint(
        VpcId=private["vpc"], ServiceName=S3, VpcEndpointType="Interface",
        SubnetIds=private["subnets"], PrivateDnsEnabled=True,
    )["VpcEndpoint"]["VpcEndpointId"]  # fmt: skip
    deadline = time.time() + 30
    while ec2.describe_vpc_endpoints(VpcEndpointIds=[interface])["VpcEndpoints"][0][
        "State"
    ] != "available":
        assert time.time() < deadline
        time.sleep(0.2)
    # (in us-east-1 boto3 addresses S3 by its global name unless told to use the regional
    # one, which is what the endpoint's private DNS answers: the model's code is told so,
    # as aws-sdk-go's AWS_S3_US_EAST_1_REGIONAL_ENDPOINT=regional opt-in documents it:
    # github.com/aws/aws-sdk-go/commit/502ed1c4f99faa3ca47b41a74ff5e0f1150f9354)
    regional = {"AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": "regional"}
    model = vpc_model(srv, model_url, private["subnets"], private["group"], role, regional)
    endpoint, served = _deploy(srv, model)
    assert served["EndpointStatus"] == "InService", served.get("FailureReason")
    assert ask_model(srv, endpoint, private, s3=(BUCKET, "data/open.txt"))["s3"] == "open data"

    # an internet-gateway route: S3's public endpoint
    public = vpc_network(ec2, "10.87.0.0", s3_gateway=False)
    open_internet(ec2, public)
    model = vpc_model(srv, model_url, public["subnets"], public["group"], role)
    _, served = _deploy(srv, model)
    assert served["EndpointStatus"] == "InService", served.get("FailureReason")
