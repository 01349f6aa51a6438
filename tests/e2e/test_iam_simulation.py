"""IAM's policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy) against a real
`cove server` with unmodified boto3: the engine that enforces requests, answering in the
shapes AWS answers with.

AWS's behaviour pinned here:
- one EvaluationResult per action, "regardless of how many resource ARNs are provided";
  its EvalDecision "reflects the most restrictive decision across all resources", each
  resource's own in ResourceSpecificResults; top-level MatchedStatements are those of the
  reported decision; EvalDecisionDetails is "present but ... empty" for a same-account
  simulation with a resource ARN and "not returned" for `*` (IAM API reference,
  "EvaluationResult",
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html);
- AWS's documented answers to `simulate-custom-policy` (AWS CLI reference, examples 1 and
  2, https://docs.aws.amazon.com/cli/latest/reference/iam/simulate-custom-policy.html):
  the statement that allowed named `PolicyInputList.1` at 1:38 to 1:167, empty
  MatchedStatements and MissingContextValues for an implicit deny;
- a permissions boundary's verdict in PermissionsBoundaryDecisionDetail (AWS's answer
  quoted in https://github.com/aws-containers/amazon-ecs-exec-checker/issues/44);
- a role session's ARN as PolicySourceArn: InvalidInput "Invalid Entity Arn: <arn> does not
  clearly define entity type and name." (quoted in
  https://github.com/aws-containers/amazon-ecs-exec-checker/pull/10);
- the simulation acts on PolicySourceArn: "... is not authorized to perform:
  iam:SimulatePrincipalPolicy on resource: arn:aws:iam::xxxx:role/..." (quoted in
  https://github.com/aws/aws-toolkit-vscode/issues/3969);
- paging by MaxItems and Marker, IsTruncated while more remain (IAM API reference,
  "SimulatePrincipalPolicy").
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import CoveServer

ACCOUNT = "000000000000"
# AWS CLI reference, simulate-custom-policy, examples 1 and 2: the policy, character for
# character, and the context entry with the time that passes and the one that does not
EXAMPLE_POLICY = (
    '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*",'
    '"Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}'
)


def now(when: str) -> list[dict[str, Any]]:
    return [{"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": [when],
             "ContextKeyType": "date"}]  # fmt: skip


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=4)


def results(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return answer["EvaluationResults"]


def test_aws_documented_answers_to_simulate_custom_policy(server: CoveServer) -> None:
    iam = server.client("iam")
    allowed = iam.simulate_custom_policy(
        PolicyInputList=[EXAMPLE_POLICY], ActionNames=["dynamodb:CreateBackup"],
        ContextEntries=now("2019-04-25T11:00:00Z"),
    )  # fmt: skip
    assert results(allowed) == [{
        "EvalActionName": "dynamodb:CreateBackup",
        "EvalResourceName": "*",
        "EvalDecision": "allowed",
        "MatchedStatements": [{
            "SourcePolicyId": "PolicyInputList.1",
            "StartPosition": {"Line": 1, "Column": 38},
            "EndPosition": {"Line": 1, "Column": 167},
        }],
        "MissingContextValues": [],
    }]  # fmt: skip
    denied = iam.simulate_custom_policy(
        PolicyInputList=[EXAMPLE_POLICY], ActionNames=["dynamodb:CreateBackup"],
        ContextEntries=now("2014-04-25T11:00:00Z"),
    )  # fmt: skip
    assert results(denied) == [{
        "EvalActionName": "dynamodb:CreateBackup",
        "EvalResourceName": "*",
        "EvalDecision": "implicitDeny",
        "MatchedStatements": [],
        "MissingContextValues": [],
    }]  # fmt: skip


def test_one_result_per_action_with_each_resource_beside_it(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="simulation-reader")
    text = document(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret"},
    )
    iam.put_user_policy(UserName="simulation-reader", PolicyName="read", PolicyDocument=text)
    # json.dumps(indent=4): each statement opens just past line 3's `[` or line 8's `,`
    allow = {"SourcePolicyId": "read", "StartPosition": {"Line": 3, "Column": 19},
             "EndPosition": {"Line": 8, "Column": 10}}  # fmt: skip
    deny = {"SourcePolicyId": "read", "StartPosition": {"Line": 8, "Column": 11},
            "EndPosition": {"Line": 13, "Column": 10}}  # fmt: skip
    answer = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/simulation-reader",
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::b/open", "arn:aws:s3:::b/secret"],
    )
    get, put = results(answer)
    assert (get["EvalActionName"], get["EvalDecision"]) == ("s3:GetObject", "explicitDeny")
    assert get["MatchedStatements"] == [deny]  # the reported decision's statements only
    assert get["EvalDecisionDetails"] == {}  # same account, resources named
    assert get["ResourceSpecificResults"] == [
        {"EvalResourceName": "arn:aws:s3:::b/open", "EvalResourceDecision": "allowed",
         "MatchedStatements": [allow], "MissingContextValues": []},
        {"EvalResourceName": "arn:aws:s3:::b/secret", "EvalResourceDecision": "explicitDeny",
         "MatchedStatements": [deny], "MissingContextValues": []},
    ]  # fmt: skip
    assert (put["EvalActionName"], put["EvalDecision"]) == ("s3:PutObject", "implicitDeny")
    assert [r["EvalResourceDecision"] for r in put["ResourceSpecificResults"]] == [
        "implicitDeny", "implicitDeny"
    ]  # fmt: skip
    everywhere = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/simulation-reader",
        ActionNames=["s3:GetObject"],
    )
    (only,) = results(everywhere)
    assert "ResourceSpecificResults" not in only and "EvalDecisionDetails" not in only
    assert (only["EvalResourceName"], only["EvalDecision"]) == ("*", "implicitDeny")


def test_missing_context_values_and_the_permissions_boundary(server: CoveServer) -> None:
    iam = server.client("iam")
    vpc_only = document({
        "Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0123456789abcdef0"}},
    })  # fmt: skip
    (result,) = results(iam.simulate_custom_policy(
        PolicyInputList=[vpc_only], ActionNames=["sagemaker:InvokeEndpoint"],
    ))  # fmt: skip
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["aws:SourceVpc"]

    everything = document({"Effect": "Allow", "Action": "*", "Resource": "*"})
    boundary = document({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    s3, ec2 = results(iam.simulate_custom_policy(
        PolicyInputList=[everything], PermissionsBoundaryPolicyInputList=[boundary],
        ActionNames=["s3:ListBucket", "ec2:DescribeVpcs"],
    ))  # fmt: skip
    assert s3["EvalDecision"] == "allowed"
    assert s3["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert ec2["EvalDecision"] == "implicitDeny"
    assert ec2["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert "PermissionsBoundaryDecisionDetail" not in result  # no boundary, no detail


def test_what_may_be_simulated(server: CoveServer) -> None:
    iam = server.client("iam")
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/some-role/some-session"
    with pytest.raises(ClientError) as info:
        iam.simulate_principal_policy(PolicySourceArn=session_arn, ActionNames=["s3:GetObject"])
    err = info.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidInput", 400
    )  # fmt: skip
    assert err["Error"]["Message"] == (
        f"Invalid Entity Arn: {session_arn} does not clearly define entity type and name."
    )
    with pytest.raises(ClientError) as info:
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/no-such-role",
            ActionNames=["s3:GetObject"],
        )
    assert info.value.response["Error"]["Code"] == "NoSuchEntity"


def test_simulating_acts_on_the_policy_source(server: CoveServer) -> None:
    """A policy may let a user simulate one role and not another."""
    iam = server.client("iam")
    trust = document({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                      "Action": "sts:AssumeRole"})  # fmt: skip
    for name in ("simulation-open", "simulation-closed"):
        iam.create_role(RoleName=name, Path="/service-role/", AssumeRolePolicyDocument=trust)
    iam.create_user(UserName="simulation-checker")
    key = iam.create_access_key(UserName="simulation-checker")["AccessKey"]
    open_arn = f"arn:aws:iam::{ACCOUNT}:role/service-role/simulation-open"
    may_simulate = {"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy",
                    "Resource": open_arn}  # fmt: skip
    iam.put_user_policy(UserName="simulation-checker", PolicyName="simulate",
                        PolicyDocument=document(may_simulate))  # fmt: skip
    mine = boto3.client(
        "iam", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip
    (result,) = results(mine.simulate_principal_policy(
        PolicySourceArn=open_arn, ActionNames=["s3:GetObject"]))  # fmt: skip
    assert result["EvalDecision"] == "implicitDeny"  # the role holds no policy
    closed_arn = f"arn:aws:iam::{ACCOUNT}:role/service-role/simulation-closed"
    with pytest.raises(ClientError) as info:
        mine.simulate_principal_policy(PolicySourceArn=closed_arn, ActionNames=["s3:GetObject"])
    assert info.value.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/simulation-checker is not authorized to perform: "
        f"iam:SimulatePrincipalPolicy on resource: {closed_arn} because no identity-based "
        "policy allows the iam:SimulatePrincipalPolicy action"
    )


def test_results_are_paged_by_action(server: CoveServer) -> None:
    iam = server.client("iam")
    actions = ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
    first = iam.simulate_custom_policy(
        PolicyInputList=[document({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})],
        ActionNames=actions, ResourceArns=["arn:aws:s3:::b/k", "arn:aws:s3:::b/j"], MaxItems=2,
    )  # fmt: skip
    assert [r["EvalActionName"] for r in results(first)] == actions[:2]
    assert first["IsTruncated"] is True
    rest = iam.simulate_custom_policy(
        PolicyInputList=[document({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})],
        ActionNames=actions, ResourceArns=["arn:aws:s3:::b/k", "arn:aws:s3:::b/j"],
        MaxItems=2, Marker=first["Marker"],
    )  # fmt: skip
    assert [r["EvalActionName"] for r in results(rest)] == actions[2:]
    assert rest["IsTruncated"] is False and "Marker" not in rest
