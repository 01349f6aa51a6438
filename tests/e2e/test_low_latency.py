"""Seed 002 as written (examples/low_latency.py, issue #12 item 7): a model with VpcConfig
in the client's two subnets behind a two-instance endpoint, one instance in each AZ as
hosts there, called from a `cove exec` host in us-east-1a through the SageMaker Runtime
interface endpoint's private DNS; every call is served in the client's AZ, and with the
AZ-a instance killed the calls go on from AZ b until it is back.

AWS pages behind it: SageMaker DG, "Low latency real-time inference with AWS PrivateLink"
(seed 002: with private DNS, invocation traffic stays in the client's AZ); "Give SageMaker
AI hosted endpoints access to resources in your Amazon VPC" (the instances' ENIs in the
model's subnets; the model artifact reached through an S3 VPC endpoint)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from az_support import served_elsewhere_while_down
from models import SKLEARN_IMAGE, pack, sklearn_model, unique, upload
from vpc_support import requires_vpc

pytestmark = requires_vpc()

ROOT = Path(__file__).parents[2]
BIN = ROOT / ".venv" / "bin"


def test_seed_002_serves_every_call_in_the_clients_az(make_server, tmp_path) -> None:
    srv = make_server()
    sm = srv.client("sagemaker")
    source = unique("source")
    model_url = upload(srv, pack(sklearn_model(tmp_path / "m")))
    sm.create_model(ModelName=source, ExecutionRoleArn="arn:aws:iam::000000000000:role/cove",
                    PrimaryContainer={"Image": SKLEARN_IMAGE, "ModelDataUrl": model_url})
    env = {**srv.aws_env(), "COVE_HOME": str(srv.data_dir), "COVE": str(BIN / "cove"),
           "PATH": f"{BIN}:{os.environ['PATH']}"}  # fmt: skip
    run = subprocess.run(
        [str(BIN / "python"), str(ROOT / "examples" / "low_latency.py"), "--source-model",
         source, "--calls", "12", "--instance-type", "ml.t2.medium"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    answers = [line for line in run.stdout.splitlines() if line.strip().endswith("]}")
               or " ms  " in line]  # fmt: skip
    assert len(answers) == 12
    served = re.search(r"^served by AZ: (.*)$", run.stdout, re.M)
    assert served is not None, run.stdout
    assert dict(p.rsplit(" ", 1) for p in served.group(1).split(", ")) == {
        "us-east-1a": "12", "us-east-1b": "0",
    }  # fmt: skip
    made = json.loads(run.stdout.rsplit("resources: ", 1)[1])
    enis = srv.client("ec2").describe_network_interfaces(
        Filters=[{"Name": "vpc-id", "Values": [made["vpc"]]}, {"Name": "requester-id",
                 "Values": ["sagemaker.amazonaws.com"]}]  # fmt: skip
    )["NetworkInterfaces"]
    assert sorted((e["AvailabilityZone"], e["SubnetId"]) for e in enis) == sorted(
        zip(("us-east-1a", "us-east-1b"), made["subnets"].split(","), strict=True)
    )  # one instance in each of the model's subnets
    # the AZ-a instance killed: the client's calls go on, served from us-east-1b, until it
    # is back (the instance AllTraffic-1 is the first placed: the first subnet's AZ)
    served_elsewhere_while_down(srv, made["endpoint"], made["subnets"].split(",")[0],
                                made["role_arn"], groups=[made["clients"]])  # fmt: skip
