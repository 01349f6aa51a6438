"""A stage's execution log against a real server: written to
`API-Gateway-Execution-Logs_{restApiId}/{stageName}` only as the stage's method settings
ask, read back with the CloudWatch Logs API (boto3, `aws logs filter-log-events`) and
`cove logs`.

AWS facts pinned here:
- The group, and that logging is off until a stage's loggingLevel is ERROR or INFO
  (Developer Guide, "Execution logging for REST APIs",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-execution-logging.html);
  ERROR writes "only error-level entries", INFO adds "extra informational events", and
  dataTraceEnabled the request and response data (API Reference, MethodSetting,
  https://docs.aws.amazon.com/apigateway/latest/api/API_MethodSetting.html).
- The lines, each "(<request id>) ..." as API Gateway writes them (the usage-plan lines:
  AWS Knowledge Center, "How can I use Amazon API Gateway logs for troubleshooting?",
  https://repost.aws/knowledge-center/api-gateway-logs; the rest as the Developer Guide's
  test-invoke logs show them in its parameter mapping examples): "Starting execution for
  request: <id>", "HTTP Method: POST, Resource Path: /echo", "Method request body before
  transformations: ...", "Endpoint request URI: https://lambda.<region>.amazonaws.com/2015-03-31/functions/<arn>/invocations",
  "Successfully completed execution", "Method completed with status: 200"; a function
  without API Gateway's permission: "Execution failed due to configuration error: Invalid
  permissions on Lambda function" (AWS-FACTS.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from tests.e2e.test_apigateway import (
    _function,
    _lambda_api,
    _permit,
    enable_execution_logs,
    http,
    invoke_url,
    lambda_ready,  # noqa: F401 - the fixture
)


def _events(server, group: str) -> list[str]:
    logs = server.client("logs")
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
    return [e["message"] for page in pages for e in page["events"]]


def test_the_stage_setting_decides_what_is_logged(lambda_ready):  # noqa: F811
    server = lambda_ready
    name = f"exec-log-{int(time.time() * 1000)}"
    arn = _function(server, name)
    api_id, _ = _lambda_api(server, arn, "AWS", "echo")
    url = invoke_url(server, api_id, "test", "/echo")
    group = f"API-Gateway-Execution-Logs_{api_id}/test"
    logs = server.client("logs")
    # no method setting yet: a refused call logs nothing, as with logging off in AWS
    assert http("POST", url, json_body={"data": "1"}).status_code == 500
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []

    enable_execution_logs(server, api_id, "test", "ERROR")
    refused = http("POST", url, json_body={"data": "2"})
    request_id = refused.headers["x-amzn-RequestId"]
    assert _events(server, group) == [
        f"({request_id}) Execution failed due to configuration error: Invalid permissions on "
        f"Lambda function",
        f"({request_id}) Method completed with status: 500",
    ]
    _permit(server, name, api_id)
    assert http("POST", url, json_body={"data": "3"}).status_code == 200
    assert len(_events(server, group)) == 2  # a success has no error-level entries

    apigw = server.client("apigateway")
    apigw.update_stage(restApiId=api_id, stageName="test", patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
        {"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"},
    ])  # fmt: skip
    answer = http("POST", url, json_body={"data": "4"})
    assert answer.status_code == 200
    rid = answer.headers["x-amzn-RequestId"]
    mine = [m.removeprefix(f"({rid}) ") for m in _events(server, group) if m.startswith(f"({rid})")]
    assert mine[mine.index(f"Starting execution for request: {rid}") + 1] == \
        "HTTP Method: POST, Resource Path: /echo"  # fmt: skip
    assert 'Method request body before transformations: {"data": "4"}' in mine
    endpoint = f"https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/{arn}/invocations"
    assert f"Endpoint request URI: {endpoint}" in mine
    assert mine[-2:] == ["Successfully completed execution", "Method completed with status: 200"]

    # the AWS CLI (v1 has no `logs tail`) and `cove logs` read the same group
    found = json.loads(server.aws(
        "logs", "filter-log-events", "--log-group-name", group, "--filter-pattern",
        '"Invalid permissions"',
    ).stdout)  # fmt: skip
    assert [e["message"] for e in found["events"]] == [
        f"({request_id}) Execution failed due to configuration error: Invalid permissions on "
        f"Lambda function"
    ]
    out = subprocess.run(
        [sys.executable, "-m", "cove.cli", "logs", group, "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0 and f"({rid}) Method completed with status: 200" in out.stdout

    # OFF again: nothing more is written
    apigw.update_stage(restApiId=api_id, stageName="test", patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}])  # fmt: skip
    before = len(_events(server, group))
    assert http("POST", url, json_body={"data": "5"}).status_code == 200
    assert len(_events(server, group)) == before
