"""VpcConfig on CreateModel and CreateTrainingJob is checked as SageMaker checks it
(issue #12 part 1): 1 to 16 subnets and 1 to 5 security groups (the service model's
`Subnets` and `VpcSecurityGroupIds` shapes, API reference "VpcConfig",
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_VpcConfig.html), each of
which exists, all in one VPC.

The length errors are the service model's, in the form AWS sends them: `Value '[]' at
'vpcConfig.securityGroupIds' failed to satisfy constraint: Member must have length greater
than or equal to 1` (quoted from SageMaker in
https://github.com/aws-samples/aws-genai-llm-chatbot/issues/512). For a subnet or group
that does not exist, or a mix of VPCs, no page quotes SageMaker's own text; Cove answers
ValidationException with EC2's texts ("The subnet ID '...' does not exist", "The security
group '...' does not exist", EC2 API reference "Error codes").
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import CoveServer
from tests.models import ROLE, SKLEARN_IMAGE, unique

LINEAR_LEARNER = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


def error(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**params)
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture(scope="module")
def net(server: CoveServer) -> dict[str, str]:
    """Two VPCs: `a` with subnets in two AZs and a group, `b` with one of each."""
    ec2 = server.client("ec2")
    out: dict[str, str] = {}
    for vpc, base in (("a", "10.61"), ("b", "10.62")):
        vpc_id = ec2.create_vpc(CidrBlock=f"{base}.0.0/16")["Vpc"]["VpcId"]
        out[f"vpc_{vpc}"] = vpc_id
        for n, zone in enumerate(("us-east-1a", "us-east-1b"), 1):
            subnet = ec2.create_subnet(
                VpcId=vpc_id, CidrBlock=f"{base}.{n}.0/24", AvailabilityZone=zone
            )
            out[f"subnet_{vpc}{n}"] = subnet["Subnet"]["SubnetId"]
        group = ec2.create_security_group(
            GroupName=f"models-{vpc}", Description="models", VpcId=vpc_id
        )
        out[f"sg_{vpc}"] = group["GroupId"]
    return out


def create_model(sm: Any, vpc_config: dict[str, Any], name: str | None = None) -> Any:
    return sm.create_model(
        ModelName=name or unique("vpc-model"),
        PrimaryContainer={"Image": SKLEARN_IMAGE, "ModelDataUrl": "s3://b/model.tar.gz"},
        ExecutionRoleArn=ROLE,
        VpcConfig=vpc_config,
    )


def test_a_model_in_existing_subnets_and_groups_of_one_vpc(server: CoveServer, net) -> None:
    sm = server.client("sagemaker")
    name = unique("vpc-model")
    config = {"Subnets": [net["subnet_a1"], net["subnet_a2"]], "SecurityGroupIds": [net["sg_a"]]}
    create_model(sm, config, name)
    assert sm.describe_model(ModelName=name)["VpcConfig"] == {
        "Subnets": [net["subnet_a1"], net["subnet_a2"]],
        "SecurityGroupIds": [net["sg_a"]],
    }


def test_subnets_and_groups_that_do_not_exist_are_refused(server: CoveServer, net) -> None:
    sm = server.client("sagemaker")
    missing_subnet = {"Subnets": [net["subnet_a1"], "subnet-0000000000000000a"],
                      "SecurityGroupIds": [net["sg_a"]]}  # fmt: skip
    assert error(create_model, sm=sm, vpc_config=missing_subnet) == (
        "ValidationException",
        "The subnet ID 'subnet-0000000000000000a' does not exist",
    )
    missing_group = {"Subnets": [net["subnet_a1"]],
                     "SecurityGroupIds": [net["sg_a"], "sg-0000000000000000b"]}  # fmt: skip
    assert error(create_model, sm=sm, vpc_config=missing_group) == (
        "ValidationException",
        "The security group 'sg-0000000000000000b' does not exist",
    )


def test_subnets_and_groups_must_share_one_vpc(server: CoveServer, net) -> None:
    sm = server.client("sagemaker")
    a, b = net["vpc_a"], net["vpc_b"]
    group_elsewhere = {"Subnets": [net["subnet_a1"]], "SecurityGroupIds": [net["sg_b"]]}
    owners = sorted([f"{a}: {net['subnet_a1']}", f"{b}: {net['sg_b']}"])  # by VPC id
    assert error(create_model, sm=sm, vpc_config=group_elsewhere) == (
        "ValidationException",
        "The subnets and security groups in VpcConfig must belong to the same VPC "
        f"({'; '.join(owners)}).",
    )
    subnets_of_two = {"Subnets": [net["subnet_a1"], net["subnet_b1"]],
                      "SecurityGroupIds": [net["sg_a"]]}  # fmt: skip
    code, message = error(create_model, sm=sm, vpc_config=subnets_of_two)
    assert code == "ValidationException"
    assert message.startswith("The subnets and security groups in VpcConfig must belong to the")
    assert f"{b}: {net['subnet_b1']}" in message


def test_list_lengths_are_the_service_models(server: CoveServer, net) -> None:
    # botocore checks the minimum itself; without its validation the request reaches Cove
    sm = server.client("sagemaker", config=Config(parameter_validation=False))
    no_groups = {"Subnets": [net["subnet_a1"]], "SecurityGroupIds": []}
    assert error(create_model, sm=sm, vpc_config=no_groups) == (
        "ValidationException",
        "1 validation error detected: Value '[]' at 'vpcConfig.securityGroupIds' failed to "
        "satisfy constraint: Member must have length greater than or equal to 1",
    )
    many = {"Subnets": [net["subnet_a1"]] * 17, "SecurityGroupIds": [net["sg_a"]] * 6}
    code, message = error(create_model, sm=sm, vpc_config=many)
    assert code == "ValidationException"
    assert message.startswith("2 validation errors detected: ")
    assert "at 'vpcConfig.subnets' failed to satisfy constraint: Member must have length " \
        "less than or equal to 16" in message  # fmt: skip
    assert "at 'vpcConfig.securityGroupIds' failed to satisfy constraint: Member must have " \
        "length less than or equal to 5" in message  # fmt: skip


def test_a_training_jobs_vpc_config_is_checked_the_same_way(server: CoveServer, net) -> None:
    sm = server.client("sagemaker")

    def create_job(vpc_config: dict[str, Any]) -> Any:
        return sm.create_training_job(
            TrainingJobName=unique("vpc-job"),
            AlgorithmSpecification={"TrainingImage": LINEAR_LEARNER, "TrainingInputMode": "File"},
            RoleArn=ROLE,
            OutputDataConfig={"S3OutputPath": "s3://b/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1,
                            "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
            HyperParameters={"feature_dim": "2", "predictor_type": "binary_classifier"},
            VpcConfig=vpc_config,
        )  # fmt: skip

    missing = {"Subnets": ["subnet-0000000000000000c"], "SecurityGroupIds": [net["sg_a"]]}
    assert error(create_job, vpc_config=missing) == (
        "ValidationException",
        "The subnet ID 'subnet-0000000000000000c' does not exist",
    )
    mixed = {"Subnets": [net["subnet_b2"]], "SecurityGroupIds": [net["sg_a"]]}
    code, message = error(create_job, vpc_config=mixed)
    assert code == "ValidationException" and "must belong to the same VPC" in message
