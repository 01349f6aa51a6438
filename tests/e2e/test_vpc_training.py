"""Training jobs with a VpcConfig run as hosts in their subnets (issue #12 item 8, its last
sentence): the job's ENI in one of its subnets, its process on that ENI, and SageMaker's
transfers for it (the channels before training, the model after) through the VPC as the
job's role, so the route tables, gateway endpoints and their policies decide.

AWS pages behind what is pinned: SageMaker DG, "Give SageMaker AI training jobs access to
resources in your Amazon VPC" (an ENI in the job's subnets with its groups; without
internet access the containers "can't connect to the Amazon S3 buckets that contain your
training data unless you create a VPC endpoint"); the FailureReason SageMaker gives a job
that cannot reach S3 from its subnet ("ClientError: Artifact upload failed:Please ensure
that the subnet's route table has a route to an S3 VPC endpoint or a NAT device, and both
the security groups and the subnet's network ACL allow outbound traffic to S3", as a job's
status reported it: github.com/aws/amazon-sagemaker-operator-for-k8s/pull/22; the download
side's "Data download failed:" is Cove's extrapolation of it); what S3 refuses the job's
role reads as outside a VPC (test_execution_roles.py)."""

from __future__ import annotations

import json
import time
from typing import Any

from training_support import LINEAR_LEARNER, both_channels, create_job, unique, upload_cancer
from vpc_support import eni_list, requires_vpc, vpc_network

pytestmark = requires_vpc()

S3 = "com.amazonaws.us-east-1.s3"
ADVICE = (
    "Please ensure that the subnet's route table has a route to an S3 VPC endpoint or a NAT "
    "device, and both the security groups and the subnet's network ACL allow outbound "
    "traffic to S3"
)


def _role(srv: Any, bucket: str) -> str:
    """A training role SageMaker may assume that lists, reads and writes `bucket`."""
    iam = srv.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
             "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}]}  # fmt: skip
    arn = iam.create_role(RoleName="trains-in-vpc", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": f"arn:aws:s3:::{bucket}/*"},
        # S3Prefix channels are listed (ListObjectsV2), as the job's role
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
    ]}  # fmt: skip
    iam.put_role_policy(RoleName="trains-in-vpc", PolicyName="data",
                        PolicyDocument=json.dumps(policy))  # fmt: skip
    return arn


def _train(srv: Any, net: dict[str, Any], role: str, data: str, bucket: str) -> dict[str, Any]:
    """A linear-learner job in the VPC's subnets; its description once done, with the
    descriptions of the ENIs seen in the VPC while it ran."""
    sm, ec2 = srv.client("sagemaker"), srv.client("ec2")
    name = unique("vpc-train")
    vpc = {"Subnets": net["subnets"], "SecurityGroupIds": [net["group"]]}
    create_job(sm, name, LINEAR_LEARNER, {"predictor_type": "binary_classifier"},
               both_channels(data), f"s3://{bucket}/output", role=role, VpcConfig=vpc)
    seen: set[str] = set()
    deadline = time.time() + 240
    while True:
        seen |= {e["Description"] for e in eni_list(ec2, net["vpc"])}
        job = sm.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return {**job, "seen": seen}
        assert time.time() < deadline, job["SecondaryStatus"]
        time.sleep(0.2)


def test_a_training_job_is_a_host_in_its_subnet_and_its_data_goes_through_the_vpc(
    make_server,
) -> None:
    srv = make_server()
    ec2 = srv.client("ec2")
    bucket = unique("vpc-train-data")
    data = upload_cancer(srv, bucket)
    role = _role(srv, bucket)
    net = vpc_network(ec2, "10.88.0.0", s3_gateway=False)
    first = net["subnets"][0]

    # no way to S3 from the subnet: the channels cannot be downloaded
    failed = _train(srv, net, role, data, bucket)
    assert failed["TrainingJobStatus"] == "Failed"
    assert failed["FailureReason"] == (
        f"ClientError: Data download failed:{ADVICE} (no route to S3 from subnet {first} "
        f"(route table {net['table']}): add an S3 gateway endpoint ({S3}) to that route "
        "table, an S3 interface endpoint with private DNS, or a route to an internet gateway)"
    )
    assert eni_list(ec2, net["vpc"]) == []  # its ENI went with it

    # the channels are listed through the VPC too: a gateway endpoint policy that denies
    # listing the bucket fails the download
    deny_listing = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{bucket}"}]})  # fmt: skip
    gateway = ec2.create_vpc_endpoint(
        VpcId=net["vpc"], ServiceName=S3, RouteTableIds=[net["table"]], PolicyDocument=deny_listing
    )["VpcEndpoint"]["VpcEndpointId"]
    unlisted = _train(srv, net, role, data, bucket)
    assert unlisted["TrainingJobStatus"] == "Failed"
    assert unlisted["FailureReason"].startswith(
        "ClientError: Data download failed:Failed to download data. ListObjectsV2 failed for "
        f"{data}/train : AccessDenied: "
    )
    assert "s3:ListBucket" in unlisted["FailureReason"]
    assert "with an explicit deny in a VPC endpoint policy" in unlisted["FailureReason"]

    # a gateway endpoint whose policy lets the data in but not the model out
    deny_output = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/output/*"}]})  # fmt: skip
    ec2.modify_vpc_endpoint(VpcEndpointId=gateway, PolicyDocument=deny_output)
    denied = _train(srv, net, role, data, bucket)
    assert denied["TrainingJobStatus"] == "Failed"
    assert denied["FailureReason"].startswith(
        f"ClientError: Artifact upload failed:Unable to upload object s3://{bucket}/output/"
    )
    assert "with an explicit deny in a VPC endpoint policy" in denied["FailureReason"]

    # with the policy reset, the job trains in the subnet and its model comes out
    ec2.modify_vpc_endpoint(VpcEndpointId=gateway, ResetPolicy=True)
    done = _train(srv, net, role, data, bucket)
    assert done["TrainingJobStatus"] == "Completed", done.get("FailureReason")
    name = done["TrainingJobName"]
    assert f"SageMaker training job {name} instance algo-1" in done["seen"]
    key = done["ModelArtifacts"]["S3ModelArtifacts"].split("/", 3)[3]
    assert srv.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    log = (srv.data_dir / "jobs" / "training" / name.lower() / "job.log").read_text()
    assert f"in subnet {first} (us-east-1a)" in log and "Host 10.88.1." in log
    assert eni_list(ec2, net["vpc"]) == []
