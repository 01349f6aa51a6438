"""SageMaker resources in IAM decisions, with unmodified boto3 against a real `cove server`:
a resource's tags are condition keys (aws:ResourceTag/<key>, and SageMaker's own
sagemaker:ResourceTag/<key>), and CreateEndpoint/UpdateEndpoint are authorized on the
endpoint and on the endpoint configuration they name, each denial naming the resource it
was refused on.

AWS's behaviour pinned here:
- the endpoint and endpoint-config resource types take aws:ResourceTag/${TagKey} and
  sagemaker:ResourceTag/${TagKey}; InvokeEndpoint acts on endpoint*; CreateEndpoint and
  UpdateEndpoint require endpoint* and endpoint-config* (Service Authorization Reference,
  "Actions, resources, and condition keys for Amazon SageMaker AI",
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html);
- tag-based access control with ResourceTag conditions (SageMaker Developer Guide, "Control
  access to SageMaker AI resources by using tags",
  https://docs.aws.amazon.com/sagemaker/latest/dg/security_iam_id-based-policy-examples.html);
- the denial text "User: <arn> is not authorized to perform: <action> on resource: <arn>
  because no identity-based policy allows the <action> action" (IAM User Guide,
  "Troubleshoot access denied error messages",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hosting import ROW, create_config, create_model, upload_sklearn_model, wait_in_service

from tests.conftest import CoveServer

ACCOUNT = "000000000000"
SM_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}"


def as_user(server: CoveServer, name: str, service: str, *statements: dict[str, Any]) -> Any:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))  # fmt: skip
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client(
        service, endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip


def refusal(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def no_allow(user: str, action: str, resource: str) -> str:
    return (
        f"User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: {action} on "
        f"resource: {resource} because no identity-based policy allows the {action} action"
    )


@pytest.fixture(scope="module")
def hosted(server: CoveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A model and its endpoint config (tagged team=a), served by two endpoints: team-a-ep
    tagged team=a, team-b-ep tagged team=b."""
    sm = server.client("sagemaker")
    create_model(sm, "tags-model", upload_sklearn_model(server, tmp_path_factory.mktemp("tags")))
    create_config(sm, "tags-config", ("AllTraffic", "tags-model", 1))
    sm.add_tags(ResourceArn=f"{SM_ARN}:endpoint-config/tags-config",
                Tags=[{"Key": "team", "Value": "a"}])  # fmt: skip
    for team in ("a", "b"):
        sm.create_endpoint(EndpointName=f"team-{team}-ep", EndpointConfigName="tags-config",
                           Tags=[{"Key": "team", "Value": team}])  # fmt: skip
    for team in ("a", "b"):
        wait_in_service(sm, f"team-{team}-ep")
    return "tags-config"


def test_invoke_is_allowed_by_the_endpoints_tag(server: CoveServer, hosted: str) -> None:
    runtime = as_user(server, "team-a-invoker", "sagemaker-runtime", {
        "Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "a"}},
    })  # fmt: skip

    def invoke(name: str) -> Any:
        return runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROW)

    assert invoke("team-a-ep")["ResponseMetadata"]["HTTPStatusCode"] == 200
    code, status, message = refusal(invoke, name="team-b-ep")
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == no_allow(
        "team-a-invoker", "sagemaker:InvokeEndpoint", f"{SM_ARN}:endpoint/team-b-ep"
    )
    # a change of tags reaches the next call, decided or not before
    sm = server.client("sagemaker")
    sm.add_tags(ResourceArn=f"{SM_ARN}:endpoint/team-b-ep", Tags=[{"Key": "team", "Value": "a"}])
    assert invoke("team-b-ep")["ResponseMetadata"]["HTTPStatusCode"] == 200
    sm.delete_tags(ResourceArn=f"{SM_ARN}:endpoint/team-a-ep", TagKeys=["team"])
    assert refusal(invoke, name="team-a-ep")[2] == no_allow(
        "team-a-invoker", "sagemaker:InvokeEndpoint", f"{SM_ARN}:endpoint/team-a-ep"
    )
    sm.add_tags(ResourceArn=f"{SM_ARN}:endpoint/team-a-ep", Tags=[{"Key": "team", "Value": "a"}])
    sm.add_tags(ResourceArn=f"{SM_ARN}:endpoint/team-b-ep", Tags=[{"Key": "team", "Value": "b"}])


def test_sagemakers_own_tag_key_and_an_explicit_deny(server: CoveServer, hosted: str) -> None:
    sm = as_user(server, "describer", "sagemaker", {
        "Effect": "Allow", "Action": ["sagemaker:Describe*", "sagemaker:List*"], "Resource": "*",
    }, {
        "Effect": "Deny", "Action": "sagemaker:*", "Resource": "*",
        "Condition": {"StringEquals": {"sagemaker:ResourceTag/team": "b"}},
    })  # fmt: skip
    assert sm.describe_endpoint(EndpointName="team-a-ep")["EndpointStatus"] == "InService"
    code, _, message = refusal(sm.describe_endpoint, EndpointName="team-b-ep")
    assert code == "AccessDeniedException"
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/describer is not authorized to perform: "
        f"sagemaker:DescribeEndpoint on resource: {SM_ARN}:endpoint/team-b-ep with an "
        "explicit deny in an identity-based policy"
    )
    # the config carries team=a, whatever the endpoints using it carry
    assert sm.describe_endpoint_config(EndpointConfigName=hosted)["EndpointConfigName"] == hosted
    # tag-based policies do not restrict the List calls (SageMaker DG, above): the deny
    # does not hide team b's endpoint from ListEndpoints, nor its tags from ListTags
    names = {e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]}
    assert {"team-a-ep", "team-b-ep"} <= names
    tags = sm.list_tags(ResourceArn=f"{SM_ARN}:endpoint/team-b-ep")["Tags"]
    assert tags == [{"Key": "team", "Value": "b"}]


def test_create_and_update_endpoint_need_the_endpoint_and_its_config(
    server: CoveServer, hosted: str
) -> None:
    endpoints_only = as_user(server, "endpoints-only", "sagemaker", {
        "Effect": "Allow", "Action": ["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"],
        "Resource": "arn:aws:sagemaker:*:*:endpoint/*",
    })  # fmt: skip
    code, status, message = refusal(
        endpoints_only.create_endpoint, EndpointName="two-resources", EndpointConfigName=hosted
    )
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == no_allow(
        "endpoints-only", "sagemaker:CreateEndpoint", f"{SM_ARN}:endpoint-config/{hosted}"
    )
    assert refusal(
        endpoints_only.update_endpoint, EndpointName="team-a-ep", EndpointConfigName=hosted
    )[2] == no_allow("endpoints-only", "sagemaker:UpdateEndpoint",
                     f"{SM_ARN}:endpoint-config/{hosted}")  # fmt: skip
    configs_only = as_user(server, "configs-only", "sagemaker", {
        "Effect": "Allow", "Action": "sagemaker:CreateEndpoint",
        "Resource": f"{SM_ARN}:endpoint-config/*",
    })  # fmt: skip
    assert refusal(
        configs_only.create_endpoint, EndpointName="Two-Resources", EndpointConfigName=hosted
    )[2] == no_allow("configs-only", "sagemaker:CreateEndpoint",
                     f"{SM_ARN}:endpoint/two-resources")  # fmt: skip
    sm = server.client("sagemaker")
    assert "two-resources" not in {e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]}
    # allowed on both, and on the config only where it is team a's
    both = as_user(server, "both", "sagemaker", {
        "Effect": "Allow", "Action": "sagemaker:CreateEndpoint",
        "Resource": f"{SM_ARN}:endpoint/*",
    }, {
        "Effect": "Allow", "Action": "sagemaker:CreateEndpoint",
        "Resource": f"{SM_ARN}:endpoint-config/*",
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "a"}},
    })  # fmt: skip
    arn = both.create_endpoint(EndpointName="two-resources", EndpointConfigName=hosted)
    assert arn["EndpointArn"] == f"{SM_ARN}:endpoint/two-resources"
    wait_in_service(sm, "two-resources")  # SageMaker refuses to delete it while Creating
    sm.delete_endpoint(EndpointName="two-resources")
