"""The SageMaker Python SDK's own identity calls against a real `cove server` (issue #10,
item 8): its functions, unmodified, with boto3 pointed at Cove by AWS_ENDPOINT_URL, or on
a `cove exec` host where it reaches Cove by the services' real hostnames.

What the SDK (sagemaker 3.x, sagemaker.core.helper) asks and reads:
- resolve_and_validate_role (behind ModelTrainer's and ModelBuilder's role, and
  TrainDefaults.get_role): sts:GetCallerIdentity's Arn and Account; for an assumed-role
  ARN iam:GetRole(RoleName) for the role's Arn with its path; iam:SimulatePrincipalPolicy
  (paginated) with PolicySourceArn and ActionNames and no ResourceArns, reading each
  result's EvalDecision and EvalActionName (and OrganizationsDecisionDetail and
  PermissionsBoundaryDecisionDetail to tell unverifiable denials); then iam:GetRole again
  for the trust policy's service principals. AccessDenied from the simulation is "verdict
  unknown" (a warning, the role is used); NoSuchEntity from GetRole a ValueError.
- ModelTrainer._resolve_staging_bucket: iam:SimulatePrincipalPolicy of s3:PutObject on
  `arn:aws:s3:::<default bucket>/*`, reading EvaluationResults[0].EvalDecision.
- Session.account_id, Session.get_caller_identity_arn (behind get_execution_role) and the
  default bucket's name: sts:GetCallerIdentity at https://sts.<region>.amazonaws.com,
  an endpoint they set themselves, so AWS_ENDPOINT_URL does not apply; a host in a VPC
  reaches Cove there (the VPC's resolver answers the name with Cove's public edge).

AWS's side of each call: STS API reference, "GetCallerIdentity"
(https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html), whose
assumed-role ARN arn:aws:sts::<account>:assumed-role/<role>/<session> leaves out the
role's path (as https://github.com/hashicorp/terraform-provider-aws/issues/19957 notes,
the reason the SDK asks GetRole); IAM API reference, "GetRole" (Arn with the path,
AssumeRolePolicyDocument, https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html)
and "SimulatePrincipalPolicy"
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from sagemaker.core.helper.iam_role_resolver import RoleValidationError, resolve_and_validate_role
from sagemaker.core.helper.session_helper import Session
from sagemaker.core.training.configs import OutputDataConfig
from sagemaker.train.defaults import TrainDefaults
from sagemaker.train.model_trainer import ModelTrainer
from vpc_support import support

from tests.conftest import CoveServer

ACCOUNT = "000000000000"
ROLES = f"arn:aws:iam::{ACCOUNT}:role/service-role"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
# covers what the SDK simulates for a training role (its policies' actions on "*")
TRAINING = ["ecr:*", "cloudwatch:PutMetricData", "ec2:*"]
# what a role session needs to validate its own role, and no more
SELF_CHECK = ["iam:GetRole", "iam:SimulatePrincipalPolicy"]


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(*services: str, user: str | None = None) -> str:
    principal: dict[str, Any] = {"Service": list(services)}
    if user:
        principal["AWS"] = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    return document({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def allow(*actions: str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource}


def role(iam: Any, name: str, trusted: str, *statements: dict[str, Any]) -> str:
    """A role under /service-role/ that may read and simulate itself."""
    arn = iam.create_role(RoleName=name, Path="/service-role/",
                          AssumeRolePolicyDocument=trusted)["Role"]["Arn"]  # fmt: skip
    itself = allow(*SELF_CHECK, resource=arn)
    iam.put_role_policy(RoleName=name, PolicyName="work",
                        PolicyDocument=document(itself, *statements))  # fmt: skip
    return arn


@pytest.fixture(scope="module")
def account(server: CoveServer) -> dict[str, Any]:
    """The roles and the user the tests act with, made once."""
    iam = server.client("iam")
    iam.create_user(UserName="sdk-dev")
    iam.put_user_policy(UserName="sdk-dev", PolicyName="assume",
                        PolicyDocument=document(allow("sts:AssumeRole")))  # fmt: skip
    key = iam.create_access_key(UserName="sdk-dev")["AccessKey"]
    sagemaker = trust("sagemaker.amazonaws.com", user="sdk-dev")
    return {
        "dev": (key["AccessKeyId"], key["SecretAccessKey"]),
        "trainer": role(iam, "sdk-trainer", sagemaker, allow(*TRAINING)),
        "no-enis": role(
            iam,
            "sdk-no-enis",
            sagemaker,
            allow("ecr:*", "cloudwatch:*", "ec2:Describe*"),
            {"Effect": "Deny", "Action": "ec2:DescribeVpcs", "Resource": "*"},
        ),
        "ec2-only": role(iam, "sdk-ec2-only", trust("ec2.amazonaws.com"), allow(*TRAINING)),
    }


@pytest.fixture(scope="module", autouse=True)
def cove_endpoint(server: CoveServer) -> Iterator[None]:
    """Every client the SDK makes reaches Cove, unless it names its endpoint itself."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", server.url)
        env.setenv("AWS_CONFIG_FILE", "/dev/null")
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        env.delenv("SAGEMAKER_VALIDATE_ROLE", raising=False)
        yield


class Recorded:
    """The SageMaker session over a boto3 session, and the operations it called."""

    def __init__(self, key: str, secret: str, token: str | None = None) -> None:
        boto = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                             aws_session_token=token, region_name="us-east-1")  # fmt: skip
        self.calls: list[str] = []
        boto.events.register("before-call", self._record)
        self.session = Session(boto_session=boto, default_bucket="sdk-default")

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)


@pytest.fixture(scope="module")
def admin(server: CoveServer, cove_endpoint: None) -> Recorded:
    """The account's admin (its root user), made once: each session loads the models."""
    return Recorded(*server.credentials())


def as_session(account: dict[str, Any], role_arn: str) -> Recorded:
    key, secret = account["dev"]
    sts = boto3.client("sts", aws_access_key_id=key, aws_secret_access_key=secret,
                       region_name="us-east-1")  # fmt: skip
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="notebook")["Credentials"]
    return Recorded(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def test_a_role_sessions_own_role_is_resolved_and_validated(
    account: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caller = as_session(account, account["trainer"])
    with caplog.at_level(logging.WARNING, logger="sagemaker"):
        assert TrainDefaults.get_role(sagemaker_session=caller.session) == account["trainer"]
    # the session's ARN has no path: GetRole gives the role's ARN, /service-role/ and all
    assert caller.calls == ["GetCallerIdentity", "GetRole", "SimulatePrincipalPolicy", "GetRole"]
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warned == []  # simulated and trusted: no "Could not verify permissions"
    served = resolve_and_validate_role(role_type="serving", sagemaker_session=caller.session)
    assert served == account["trainer"]


def test_a_role_session_lacking_permissions_learns_which(account: dict[str, Any]) -> None:
    """The session may simulate its own role, by the role's ARN: the simulation answers
    and the SDK refuses the role, naming what it lacks."""
    caller = as_session(account, account["no-enis"])
    with pytest.raises(RoleValidationError) as info:
        TrainDefaults.get_role(sagemaker_session=caller.session)
    assert "Missing permissions: ec2:CreateNetworkInterface," in str(info.value)


def test_a_role_without_the_permissions_is_refused_with_what_it_lacks(
    admin: Recorded, account: dict[str, Any]
) -> None:
    with pytest.raises(RoleValidationError) as info:
        resolve_and_validate_role(account["no-enis"], "training", admin.session)
    message = str(info.value)
    assert f"IAM role '{account['no-enis']}' cannot be used for 'training' workloads." in message
    assert (  # denied implicitly, and the one explicitly
        "Missing permissions: ec2:CreateNetworkInterface, ec2:CreateNetworkInterfacePermission, "
        "ec2:DeleteNetworkInterface, ec2:DeleteNetworkInterfacePermission, ec2:DescribeVpcs\n"
    ) in message
    with pytest.raises(RoleValidationError):  # ModelTrainer's own check, on construction
        ModelTrainer(training_image=IMAGE, role=account["no-enis"],
                     sagemaker_session=admin.session)  # fmt: skip


def test_a_role_sagemaker_may_not_assume_is_refused(
    admin: Recorded, account: dict[str, Any]
) -> None:
    with pytest.raises(RoleValidationError) as info:
        resolve_and_validate_role(account["ec2-only"], "training", admin.session)
    assert "Its trust policy does not allow 'sagemaker.amazonaws.com' to assume it" in str(
        info.value
    )


def test_a_caller_who_may_not_simulate_gets_the_sdks_warning(
    account: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    dev = Recorded(*account["dev"])
    with caplog.at_level(logging.WARNING, logger="sagemaker"):
        chosen = resolve_and_validate_role(account["trainer"], "training", dev.session)
    assert chosen == account["trainer"]  # used, unverified
    assert dev.calls == ["SimulatePrincipalPolicy", "GetRole"]  # both AccessDenied
    assert f"Could not verify permissions for role '{account['trainer']}'" in caplog.text
    with pytest.raises(ClientError) as info:  # by name, the SDK needs GetRole
        resolve_and_validate_role("sdk-trainer", "training", dev.session)
    assert info.value.response["Error"]["Code"] == "AccessDenied"


def test_identities_without_a_role(admin: Recorded, account: dict[str, Any]) -> None:
    admin.calls.clear()
    for caller in (Recorded(*account["dev"]), admin):  # an IAM user, the root
        with pytest.raises(RoleValidationError) as info:
            resolve_and_validate_role(role_type="training", sagemaker_session=caller.session)
        assert "No IAM role could be resolved from your caller identity" in str(info.value)
        assert caller.calls == ["GetCallerIdentity"]
    with pytest.raises(ValueError, match="IAM role 'sdk-missing' does not exist"):
        resolve_and_validate_role("sdk-missing", "training", admin.session)


def test_model_trainer_stages_where_its_role_may_write(
    server: CoveServer, admin: Recorded, account: dict[str, Any]
) -> None:
    trainer = ModelTrainer(
        training_image=IMAGE, role=account["trainer"], sagemaker_session=admin.session,
        output_data_config=OutputDataConfig(s3_output_path="s3://sdk-output/jobs"),
    )  # fmt: skip
    assert trainer.role == account["trainer"]
    assert trainer._resolve_staging_bucket() == ("sdk-output", "jobs")
    server.client("iam").put_role_policy(
        RoleName="sdk-trainer", PolicyName="stage",
        PolicyDocument=document(allow("s3:PutObject", resource="arn:aws:s3:::sdk-default/*")),
    )  # fmt: skip
    assert trainer._resolve_staging_bucket() == ("sdk-default", None)


# On a host with an instance role, as in a notebook: the SDK's calls that set their own
# STS endpoint. Printed as JSON by the host's Python, the SDK's functions as they are.
ON_HOST = """
import json, boto3
from sagemaker.core.helper.session_helper import Session, get_execution_role
from sagemaker.core.helper.iam_role_resolver import resolve_and_validate_role
session = Session(boto_session=boto3.Session(region_name="us-east-1"))
print(json.dumps({
    "identity": session.boto_session.client("sts").get_caller_identity()["Arn"],
    "account": session.account_id(),
    "execution_role": get_execution_role(session),
    "serving": resolve_and_validate_role(role_type="serving", sagemaker_session=session),
}))
"""


@pytest.fixture
def host_subnet(make_server) -> Iterator[tuple[CoveServer, str, str]]:
    why = support()
    if why is not None:
        pytest.skip(f"no VPC networks: {why}")
    srv = make_server()
    iam, ec2 = srv.client("iam"), srv.client("ec2")
    arn = role(iam, "notebook", trust("ec2.amazonaws.com", "sagemaker.amazonaws.com"),
               allow("ecr:GetAuthorizationToken"))  # fmt: skip
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24",
                               AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]  # fmt: skip
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    ec2.create_route(RouteTableId=table["RouteTables"][0]["RouteTableId"],
                     DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)  # fmt: skip
    yield srv, subnet, arn


def test_get_execution_role_on_a_host_with_an_instance_role(host_subnet, tmp_path: Path) -> None:
    srv, subnet, arn = host_subnet
    done = subprocess.run(
        [sys.executable, "-m", "cove.cli", "exec", "--data-dir", str(srv.data_dir),
         "--subnet", subnet, "--role", arn, "--", "env", f"HOME={tmp_path}",
         sys.executable, "-c", ON_HOST],
        env={**srv.aws_env(), "AWS_CONFIG_FILE": "/dev/null"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["identity"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/notebook/i-")
    assert seen["account"] == ACCOUNT
    assert seen["execution_role"] == seen["serving"] == arn  # with its /service-role/ path
