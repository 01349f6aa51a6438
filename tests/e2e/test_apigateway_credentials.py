"""An integration's `credentials` against a real server: API Gateway invokes the function
with a role it assumes, or with the caller's own identity, instead of relying on the
function's resource policy; PutIntegration and UpdateIntegration take a role only from a
caller allowed to pass it.

AWS facts pinned here, each from the page named:
- `credentials`: "To specify an IAM Role for API Gateway to assume, use the role's Amazon
  Resource Name (ARN). To require that the caller's identity be passed through from the
  request, specify the string arn:aws:iam::*:user/*. To use resource-based permissions
  on supported AWS services, specify null." (API Reference, Integration,
  https://docs.aws.amazon.com/apigateway/latest/api/API_Integration.html). The role is
  trusted by apigateway.amazonaws.com and allowed lambda:InvokeFunction (Developer Guide,
  "Control access to a REST API with IAM permissions",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html); with it,
  no add-permission is needed (Developer Guide, "Set up Lambda custom integrations in API
  Gateway", https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-custom-integrations.html).
- A role without lambda:InvokeFunction, or a caller without it: 500 `{"message":
  "Internal server error"}`, the execution log saying "Execution failed due to
  configuration error: Invalid permissions on Lambda function" (AWS-FACTS.md; with a
  role, https://stackengine.dev/aws-api-gateway-lambda-invoke-permission; with the
  caller's credentials, https://sal-blog.com/iam-api-gateway-500error).
- A role that does not trust API Gateway is accepted by PutIntegration ("zappa deploy
  appears to work, but your actual lambda never gets executed", Miserlou/Zappa#479); each
  call answers 500 and logs "Execution failed due to configuration error: API Gateway
  does not have permission to assume the provided role <role arn>" (no AWS page states
  the line; this is it as execution-log excerpts published in public repositories show it,
  role ARN last).
- Passing the role needs iam:PassRole (Developer Guide, "Troubleshooting Amazon API
  Gateway identity and access", "I am not authorized to perform iam:PassRole",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/security_iam_troubleshoot.html):
  AccessDeniedException 403 "User: <arn> is not authorized to perform: iam:PassRole on
  resource: <role arn> because no identity-based policy allows the iam:PassRole action".
- `credentials` that are not an ARN: BadRequestException "Invalid ARN specified in the
  request" (aws/aws-sdk-java#860, credentials "NONE").
"""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_apigateway import (
    _function,
    _lambda_api,
    _signed,
    enable_execution_logs,
    http,
    invoke_url,
    lambda_ready,  # noqa: F401 - the fixture
)
from tests.e2e.test_iam_enforcement import as_key, denial, new_user, policy

CALLER = "arn:aws:iam::*:user/*"
INVALID_PERMISSIONS = (
    "Execution failed due to configuration error: Invalid permissions on Lambda function"
)


def _unique(prefix: str) -> str:
    return f"{prefix}-{int(time.time() * 1000)}"


def _role(server, name: str, trusted: str, *statements: dict) -> str:
    """A role `trusted` service may assume, with `statements` as its inline policy."""
    iam = server.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": trusted}, "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="invoke",
                            PolicyDocument=policy(*statements))  # fmt: skip
    return arn["Role"]["Arn"]


def _invoke(function_arn: str) -> dict:
    return {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn}


def _errors(server, api_id: str, request_id: str) -> list[str]:
    """The request's lines in its stage's execution log, without the "(<id>) " prefix."""
    logs = server.client("logs")
    group = f"API-Gateway-Execution-Logs_{api_id}/test"
    events = logs.filter_log_events(logGroupName=group)["events"]
    prefix = f"({request_id}) "
    return [e["message"].removeprefix(prefix) for e in events
            if e["message"].startswith(prefix)]  # fmt: skip


def _redeploy(server, api_id: str) -> None:
    server.client("apigateway").create_deployment(restApiId=api_id, stageName="test")


@pytest.mark.parametrize("kind", ["AWS", "AWS_PROXY"])
def test_a_role_in_the_credentials_invokes_without_a_resource_policy(
    lambda_ready, kind  # noqa: F811
) -> None:
    server = lambda_ready
    name = _unique(f"apigw-role-{kind.lower()}")
    arn = _function(server, name)
    role = _role(server, f"{name}-invoker", "apigateway.amazonaws.com", _invoke(arn))
    api_id, resource_id = _lambda_api(server, arn, kind, "echo", credentials=role)
    got = server.client("apigateway").get_integration(
        restApiId=api_id, resourceId=resource_id, httpMethod="POST"
    )
    assert got["credentials"] == role
    answer = http("POST", invoke_url(server, api_id, "test", "/echo"), json_body={"data": "1"})
    if kind == "AWS":
        assert (answer.status_code, answer.json()) == (200, {"echo": {"data": "1"}})
    else:  # the proxy event reached the function, its answer became the response
        assert answer.status_code == 201 and answer.headers["X-Seen"] == "/echo"
    # no permission was ever added to the function: the role did it
    with pytest.raises(ClientError) as info:
        server.client("lambda").get_policy(FunctionName=name)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_role_that_cannot_invoke_answers_500_and_logs_why(lambda_ready) -> None:  # noqa: F811
    server = lambda_ready
    name = _unique("apigw-weak-role")
    arn = _function(server, name)
    weak = _role(server, f"{name}-invoker", "apigateway.amazonaws.com",
                 {"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": arn})  # fmt: skip
    api_id, resource_id = _lambda_api(server, arn, "AWS", "echo", credentials=weak)
    enable_execution_logs(server, api_id, "test", "ERROR")
    url = invoke_url(server, api_id, "test", "/echo")

    refused = http("POST", url, json_body={"data": "1"})
    assert (refused.status_code, refused.json()) == (500, {"message": "Internal server error"})
    assert _errors(server, api_id, refused.headers["x-amzn-RequestId"]) == [
        INVALID_PERMISSIONS, "Method completed with status: 500"]

    # a role API Gateway may not assume: taken by UpdateIntegration, refused when called
    untrusted = _role(server, f"{name}-lambda-only", "lambda.amazonaws.com", _invoke(arn))
    apigw = server.client("apigateway")
    updated = apigw.update_integration(
        restApiId=api_id, resourceId=resource_id, httpMethod="POST",
        patchOperations=[{"op": "replace", "path": "/credentials", "value": untrusted}],
    )  # fmt: skip
    assert updated["credentials"] == untrusted
    _redeploy(server, api_id)
    refused = http("POST", url, json_body={"data": "2"})
    assert refused.status_code == 500
    assert _errors(server, api_id, refused.headers["x-amzn-RequestId"]) == [
        "Execution failed due to configuration error: API Gateway does not have permission "
        f"to assume the provided role {untrusted}",
        "Method completed with status: 500",
    ]

    # the first role, once allowed to invoke, works: the role's policies are read per call
    apigw.update_integration(
        restApiId=api_id, resourceId=resource_id, httpMethod="POST",
        patchOperations=[{"op": "replace", "path": "/credentials", "value": weak}],
    )  # fmt: skip
    _redeploy(server, api_id)
    server.client("iam").put_role_policy(
        RoleName=f"{name}-invoker", PolicyName="invoke", PolicyDocument=policy(_invoke(arn))
    )
    answer = http("POST", url, json_body={"data": "3"})
    assert (answer.status_code, answer.json()) == (200, {"echo": {"data": "3"}})


def test_passing_the_role_needs_iam_pass_role(lambda_ready) -> None:  # noqa: F811
    server = lambda_ready
    name = _unique("apigw-passer")
    arn = _function(server, name)
    role = _role(server, f"{name}-invoker", "apigateway.amazonaws.com", _invoke(arn))
    apigw = server.client("apigateway")
    api = apigw.create_rest_api(name=name)
    common = {"restApiId": api["id"], "resourceId": api["rootResourceId"], "httpMethod": "POST"}
    apigw.put_method(**common, authorizationType="NONE")
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    integration = {**common, "type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": uri}

    assert denial(apigw.put_integration, **integration, credentials="NONE") == (
        "BadRequestException", 400, "Invalid ARN specified in the request")

    key = new_user(server, name)
    iam = server.client("iam")
    iam.put_user_policy(UserName=name, PolicyName="apis", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "apigateway:*", "Resource": "*"}))  # fmt: skip
    mine = as_key(server, "apigateway", key)
    account = server.client("sts").get_caller_identity()["Account"]
    refused = (
        f"User: arn:aws:iam::{account}:user/{name} is not authorized to perform: "
        f"iam:PassRole on resource: {role} because no identity-based policy allows the "
        "iam:PassRole action"
    )
    assert denial(mine.put_integration, **integration, credentials=role) == (
        "AccessDeniedException", 403, refused)
    mine.put_integration(**integration)  # the same integration without a role is fine
    assert denial(mine.update_integration, **common, patchOperations=[
        {"op": "replace", "path": "/credentials", "value": role}]) == (
        "AccessDeniedException", 403, refused)  # fmt: skip
    assert "credentials" not in apigw.get_integration(**common)

    # passing roles to API Gateway only (IAM User Guide, "Grant a user permissions to pass a
    # role to an AWS service": the iam:PassedToService condition)
    iam.put_user_policy(UserName=name, PolicyName="pass", PolicyDocument=policy({
        "Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
        "Condition": {"StringEquals": {"iam:PassedToService": "apigateway.amazonaws.com"}}}))
    assert mine.put_integration(**integration, credentials=role)["credentials"] == role
    # a role API Gateway cannot assume is the invocation's failure, not PutIntegration's
    untrusted = _role(server, f"{name}-lambda-only", "lambda.amazonaws.com", _invoke(arn))
    iam.put_user_policy(UserName=name, PolicyName="pass", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": [role, untrusted]}))
    assert mine.put_integration(**integration, credentials=untrusted)["credentials"] == untrusted


def test_caller_credentials_invoke_with_the_callers_own_permissions(
    lambda_ready  # noqa: F811
) -> None:
    server = lambda_ready
    name = _unique("apigw-caller")
    arn = _function(server, name)
    api_id, _ = _lambda_api(server, arn, "AWS", "echo", credentials=CALLER,
                            authorization="AWS_IAM")  # fmt: skip
    enable_execution_logs(server, api_id, "test", "ERROR")
    url = invoke_url(server, api_id, "test", "/echo")
    account = server.client("sts").get_caller_identity()["Account"]
    key = new_user(server, name)
    iam = server.client("iam")
    may_call = {"Effect": "Allow", "Action": "execute-api:Invoke",
                "Resource": f"arn:aws:execute-api:us-east-1:{account}:{api_id}/*"}  # fmt: skip
    iam.put_user_policy(UserName=name, PolicyName="call", PolicyDocument=policy(may_call))
    user_key = (key["AccessKeyId"], key["SecretAccessKey"])

    refused = _signed(server, "POST", url, user_key)
    assert (refused.status_code, refused.json()) == (500, {"message": "Internal server error"})
    assert _errors(server, api_id, refused.headers["x-amzn-RequestId"]) == [
        INVALID_PERMISSIONS, "Method completed with status: 500"]
    iam.put_user_policy(UserName=name, PolicyName="call",
                        PolicyDocument=policy(may_call, _invoke(arn)))  # fmt: skip
    answer = _signed(server, "POST", url, user_key)
    assert (answer.status_code, answer.json()) == (200, {"echo": {}})
