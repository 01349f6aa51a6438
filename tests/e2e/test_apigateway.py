"""API Gateway REST APIs against a real `cove server`: the management API with boto3 and
`aws apigateway ...`, and the invoke URLs with plain HTTP (requests, curl).

AWS facts pinned here, each from the page named:
- MOCK: the request template's `{"statusCode": N}` selects the integration response by
  its selectionPattern, the one without a pattern is the default (Developer Guide, "Mock
  integrations for REST APIs in API Gateway",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration).
- An unknown resource or method: 403 `{"message":"Missing Authentication Token"}`
  (Developer Guide, "Gateway response types"; AWS-FACTS.md).
- Errors of the management API: NotFoundException "Invalid API identifier specified
  <account>:<id>", "Invalid Resource identifier specified" (aws/aws-sdk-js#2458,
  serverless/serverless#5005), ConflictException "Another resource with the same parent
  already has this name: <part>" (serverless/serverless#2730), BadRequestException
  "Enumeration value for HttpMethod must be non-empty" (aws/aws-cdk#6404), "The REST API
  doesn't contain any methods" (anomalyco/sst#3976).
- AWS_IAM: unsigned calls get Missing Authentication Token; a caller without an
  execute-api:Invoke allow gets 403 "User: <arn> is not authorized to perform:
  execute-api:Invoke on resource: <arn>..." (AWS Knowledge Center, "How do I troubleshoot
  HTTP 403 Forbidden errors when using a Lambda authorizer with an API Gateway REST API?").
- Lambda integrations: a missing invoke permission answers 500 `{"message": "Internal
  server error"}` and the execution log says "Execution failed due to configuration
  error: Invalid permissions on Lambda function"; a failing function behind a non-proxy
  integration answers 200 with its error unless a selectionPattern maps its errorMessage
  (Developer Guide, "Handle Lambda errors in API Gateway"); a broken proxy answer is 502
  (Developer Guide, "Lambda proxy integrations in API Gateway", output format).
"""

from __future__ import annotations

import io
import json
import subprocess
import time
import urllib.parse
import zipfile
from dataclasses import dataclass

import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

MOCK_TEMPLATE = """{
#if( $input.params('scope') == "internal" )
  "statusCode": 200
#else
  "statusCode": 500
#end
}"""


@dataclass
class Answer:
    status_code: int
    headers: urllib3.HTTPHeaderDict
    body: bytes

    def json(self):
        return json.loads(self.body)


_HTTP = urllib3.PoolManager(retries=False, timeout=60)


def http(method: str, url: str, headers: dict | None = None, body: bytes | None = None,
         json_body: object = None) -> Answer:  # fmt: skip
    """A plain HTTP request (urllib3, which botocore ships with)."""
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    parts = urllib.parse.urlsplit(url)
    if parts.hostname and parts.hostname.endswith(".localhost"):
        # curl and browsers resolve *.localhost themselves; Python's resolver does not
        headers = {"Host": parts.netloc, **(headers or {})}
        url = parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl()
    out = _HTTP.request(method, url, headers=headers, body=body)
    return Answer(out.status, out.headers, out.data)


def invoke_url(server, api_id: str, stage: str, path: str) -> str:
    return f"http://{api_id}.execute-api.localhost:{server.port}/{stage}/{path.lstrip('/')}"


def host_get(server, api_id: str, url_path: str, method: str = "GET") -> Answer:
    """An invoke URL request through the public listener, the API chosen by Host."""
    host = f"{api_id}.execute-api.localhost:{server.port}"
    return http(method, f"{server.url}{url_path}", headers={"Host": host})


def mock_api(apigw, name: str = "mocked", authorization: str = "NONE") -> tuple[str, str]:
    """An API with GET /pets/{petId} on a MOCK integration that answers 200 for
    ?scope=internal and 500 otherwise; deployed to `test`."""
    api = apigw.create_rest_api(name=name)
    api_id, root = api["id"], api["rootResourceId"]
    pets = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="pets")
    pet = apigw.create_resource(restApiId=api_id, parentId=pets["id"], pathPart="{petId}")
    rid = pet["id"]
    apigw.put_method(
        restApiId=api_id, resourceId=rid, httpMethod="GET", authorizationType=authorization
    )
    apigw.put_integration(
        restApiId=api_id, resourceId=rid, httpMethod="GET", type="MOCK",
        requestTemplates={"application/json": MOCK_TEMPLATE},
    )  # fmt: skip
    for status in ("200", "500"):
        apigw.put_method_response(
            restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode=status
        )
    ok = '{"pet": "$input.params(\'petId\')", "stage": "$context.stage", "ok": true}'
    apigw.put_integration_response(
        restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="200",
        responseTemplates={"application/json": ok},
        responseParameters={"method.response.header.X-Mocked": "'yes'"},
    )  # fmt: skip
    apigw.put_integration_response(
        restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="500",
        selectionPattern="5\\d{2}",
        responseTemplates={"application/json": '{"message": "not for you"}'},
    )  # fmt: skip
    apigw.create_deployment(restApiId=api_id, stageName="test", description="first")
    return api_id, rid


def test_mock_integration_answers_on_the_invoke_url(server):
    apigw = server.client("apigateway")
    api_id, _ = mock_api(apigw)
    url = invoke_url(server, api_id, "test", "/pets/42")
    # curl resolves *.localhost to the loopback by itself: the URL works as written
    out = subprocess.run(
        ["curl", "-s", "-i", f"{url}?scope=internal"], capture_output=True, text=True,
        timeout=30, check=True,
    )  # fmt: skip
    head, _, body = out.stdout.replace("\r\n", "\n").partition("\n\n")
    assert head.startswith("HTTP/1.1 200")
    assert "x-mocked: yes" in head.lower()
    assert json.loads(body) == {"pet": "42", "stage": "test", "ok": True}
    # the template's other branch, selected by the 5\d{2} pattern
    other = host_get(server, api_id, "/test/pets/42")
    assert other.status_code == 500
    assert other.json() == {"message": "not for you"}
    # path-style, for clients that cannot set the Host header
    path_style = http("GET", f"{server.url}/_cove/execute-api/{api_id}/test/pets/7?scope=internal")
    assert path_style.status_code == 200 and path_style.json()["pet"] == "7"


def test_unknown_resource_method_or_stage_is_missing_authentication_token(server):
    apigw = server.client("apigateway")
    api_id, _ = mock_api(apigw, "missing-token")
    for method, path in (("GET", "/test/cats"), ("POST", "/test/pets/1"),
                         ("GET", "/prod/pets/1"), ("GET", "/test/pets/1/toys")):  # fmt: skip
        answer = host_get(server, api_id, path, method=method)
        assert answer.status_code == 403, (method, path)
        assert answer.json() == {"message": "Missing Authentication Token"}
        assert answer.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert host_get(server, "abcdefghij", "/test/pets/1").status_code == 403


def test_management_api_reads_back_and_errors(server):
    apigw = server.client("apigateway")
    api_id, rid = mock_api(apigw, "readback")
    assert apigw.get_rest_api(restApiId=api_id)["name"] == "readback"
    assert api_id in [a["id"] for a in apigw.get_rest_apis(limit=500)["items"]]
    paths = {r["path"]: r for r in apigw.get_resources(restApiId=api_id)["items"]}
    assert set(paths) == {"/", "/pets", "/pets/{petId}"}
    assert paths["/pets/{petId}"]["pathPart"] == "{petId}"
    method = apigw.get_method(restApiId=api_id, resourceId=rid, httpMethod="GET")
    assert method["methodIntegration"]["type"] == "MOCK"
    assert method["methodIntegration"]["integrationResponses"]["500"]["selectionPattern"] == (
        "5\\d{2}"
    )
    stages = apigw.get_stages(restApiId=api_id)["item"]
    assert [s["stageName"] for s in stages] == ["test"]
    stage = apigw.get_stage(restApiId=api_id, stageName="test")
    assert stage["deploymentId"] == apigw.get_deployments(restApiId=api_id)["items"][0]["id"]

    def error(call, **kwargs) -> tuple[str, str, int]:
        with pytest.raises(ClientError) as caught:
            call(**kwargs)
        err = caught.value.response
        return (
            err["Error"]["Code"],
            err["Error"]["Message"],
            err["ResponseMetadata"]["HTTPStatusCode"],
        )

    account = server.client("sts").get_caller_identity()["Account"]
    assert error(apigw.get_rest_api, restApiId="nosuchapi0") == (
        "NotFoundException",
        f"Invalid API identifier specified {account}:nosuchapi0",
        404,
    )
    assert error(apigw.create_resource, restApiId=api_id, parentId="nope00", pathPart="x") == (
        "NotFoundException",
        "Invalid Resource identifier specified",
        404,
    )
    root = apigw.get_rest_api(restApiId=api_id)["rootResourceId"]
    assert error(apigw.create_resource, restApiId=api_id, parentId=root, pathPart="pets") == (
        "ConflictException", "Another resource with the same parent already has this name: "
        "pets", 409,
    )  # fmt: skip
    code, _, status = error(apigw.create_resource, restApiId=api_id, parentId=root,
                            pathPart="bad part")  # fmt: skip
    assert (code, status) == ("BadRequestException", 400)
    assert error(apigw.put_method, restApiId=api_id, resourceId=rid, httpMethod="GET",
                 authorizationType="NONE")[0] == "ConflictException"  # fmt: skip
    assert error(apigw.put_integration, restApiId=api_id, resourceId=rid, httpMethod="GET",
                 type="AWS", uri="arn:aws:apigateway:us-east-1:lambda:path/x") == (
        "BadRequestException", "Enumeration value for HttpMethod must be non-empty", 400
    )  # fmt: skip
    empty = apigw.create_rest_api(name="empty")["id"]
    assert error(apigw.create_deployment, restApiId=empty, stageName="s") == (
        "BadRequestException",
        "The REST API doesn't contain any methods",
        400,
    )
    assert error(apigw.get_stage, restApiId=api_id, stageName="nope")[0] == "NotFoundException"
    apigw.delete_rest_api(restApiId=empty)
    assert error(apigw.get_rest_api, restApiId=empty)[0] == "NotFoundException"


def test_a_new_deployment_changes_what_the_stage_serves(server):
    apigw = server.client("apigateway")
    api_id, rid = mock_api(apigw, "redeploy")
    url = "/test/pets/1?scope=internal"
    assert host_get(server, api_id, url).json()["ok"] is True
    apigw.put_integration_response(
        restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="200",
        responseTemplates={"application/json": '{"version": 2}'},
    )  # fmt: skip
    # not deployed yet: the stage serves its deployment's snapshot
    assert host_get(server, api_id, url).json()["ok"] is True
    apigw.create_deployment(restApiId=api_id, stageName="test")
    assert host_get(server, api_id, url).json() == {"version": 2}


def test_aws_cli_builds_and_deploys_a_mock_api(server):
    def aws(*args: str) -> dict:
        out = server.aws("apigateway", *args).stdout
        return json.loads(out) if out.strip() else {}

    api = aws("create-rest-api", "--name", "cli-api")
    api_id = api["id"]
    res = aws("create-resource", "--rest-api-id", api_id, "--parent-id",
              api["rootResourceId"], "--path-part", "{proxy+}")  # fmt: skip
    common = ["--rest-api-id", api_id, "--resource-id", res["id"], "--http-method", "ANY"]
    aws("put-method", *common, "--authorization-type", "NONE")
    aws("put-integration", *common, "--type", "MOCK", "--request-templates",
        json.dumps({"application/json": '{"statusCode": 200}'}))  # fmt: skip
    aws("put-method-response", *common, "--status-code", "200")
    aws("put-integration-response", *common, "--status-code", "200", "--response-templates",
        json.dumps({"application/json": '{"path": "$input.params(\'proxy\')", '
                                        '"method": "$context.httpMethod"}'}))  # fmt: skip
    deployment = aws("create-deployment", "--rest-api-id", api_id, "--stage-name", "dev")
    assert (
        aws("get-stage", "--rest-api-id", api_id, "--stage-name", "dev")["deploymentId"]
        == deployment["id"]
    )
    answer = host_get(server, api_id, "/dev/a/b/c", method="DELETE")
    assert answer.status_code == 200
    assert answer.json() == {"path": "a/b/c", "method": "DELETE"}


def _signed(server, method: str, url: str, key: tuple[str, str], service: str = "execute-api"):
    req = AWSRequest(method=method, url=url, data=b"")
    SigV4Auth(Credentials(*key), service, "us-east-1").add_auth(req)
    return http(method, url, headers=dict(req.headers))


def test_aws_iam_methods_need_a_signature_and_an_invoke_allow(server):
    apigw = server.client("apigateway")
    api_id, _ = mock_api(apigw, "iam-api", authorization="AWS_IAM")
    url = invoke_url(server, api_id, "test", "/pets/3?scope=internal")
    unsigned = http("GET", url)
    assert unsigned.status_code == 403
    assert unsigned.json() == {"message": "Missing Authentication Token"}
    assert _signed(server, "GET", url, server.credentials()).status_code == 200  # root

    iam = server.client("iam")
    name = f"invoker-{int(time.time() * 1000)}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_key = (key["AccessKeyId"], key["SecretAccessKey"])
    denied = _signed(server, "GET", url, user_key)
    assert denied.status_code == 403
    account = server.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:execute-api:us-east-1:{account}:{api_id}/test/GET/pets/3"
    assert denied.json()["message"].startswith(
        f"User: arn:aws:iam::{account}:user/{name} is not authorized to perform: "
        f"execute-api:Invoke on resource: {arn}"
    )
    iam.put_user_policy(
        UserName=name, PolicyName="invoke",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": f"arn:aws:execute-api:us-east-1:{account}:{api_id}/test/GET/pets/*"}]}),
    )  # fmt: skip
    allowed = _signed(server, "GET", url, user_key)
    assert allowed.status_code == 200 and allowed.json()["pet"] == "3"
    # an invoke URL is API Gateway's whatever service a signature names: one scoped to
    # S3 is refused by API Gateway, not answered by S3
    wrong = _signed(server, "GET", url, server.credentials(), service="s3")
    assert wrong.status_code == 403
    assert "execute-api" in wrong.json()["message"]


# Lambda integrations: these need the Lambda service and the log store, which other parts
# of issue #13 bring; they run as soon as the server has them.

ECHO = """
import json

def lambda_handler(event, context):
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("bad input: " + str(event["fail"]))
    if isinstance(event, dict) and event.get("httpMethod"):
        if event.get("queryStringParameters", {}) and event["queryStringParameters"].get("broken"):
            return {"not": "a proxy answer"}
        return {"statusCode": 201, "headers": {"X-Seen": event["path"]},
                "body": json.dumps({"resource": event["resource"],
                                    "params": event["pathParameters"],
                                    "stage": event["requestContext"]["stage"]})}
    return {"echo": event}
"""


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("lambda_function.py", source)
    return buf.getvalue()


@pytest.fixture
def lambda_ready(server):
    try:
        server.client("lambda").list_functions()
    except ClientError as exc:
        pytest.skip(f"the server has no Lambda service yet ({exc.response['Error']['Code']})")
    return server


def _function(server, name: str) -> str:
    iam = server.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
             "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))
    fn = server.client("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Handler="lambda_function.lambda_handler",
        Role=role["Role"]["Arn"], Code={"ZipFile": _zip(ECHO)},
    )  # fmt: skip
    return fn["FunctionArn"]


def _lambda_api(server, function_arn: str, kind: str, path_part: str,
                credentials: str | None = None, authorization: str = "NONE",
                ) -> tuple[str, str]:  # fmt: skip
    """POST /<path_part> on a Lambda integration of `kind`, deployed to `test`; with
    `credentials` (a role's ARN, or arn:aws:iam::*:user/*) on the integration."""
    apigw = server.client("apigateway")
    api = apigw.create_rest_api(name=f"lambda-{kind}")
    res = apigw.create_resource(
        restApiId=api["id"], parentId=api["rootResourceId"], pathPart=path_part
    )
    common = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "POST"}
    apigw.put_method(**common, authorizationType=authorization)
    uri = (f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}"
           f"/invocations")  # fmt: skip
    extra = {} if credentials is None else {"credentials": credentials}
    apigw.put_integration(**common, type=kind, integrationHttpMethod="POST", uri=uri, **extra)
    if kind == "AWS":
        for status in ("200", "400"):
            apigw.put_method_response(**common, statusCode=status)
        apigw.put_integration_response(**common, statusCode="200")
        # the pattern must match the whole errorMessage, and `.` no newline (IntegrationResponse
        # selectionPattern, API Gateway API reference: "you could use the .+ regex to match
        # error response. However, make sure that the error response does not contain any
        # newline")
        apigw.put_integration_response(**common, statusCode="400", selectionPattern=".*mapped")
    apigw.create_deployment(restApiId=api["id"], stageName="test")
    return api["id"], res["id"]


def enable_execution_logs(server, api_id: str, stage: str, level: str) -> None:
    """The account's CloudWatch role (trusted by API Gateway, with its managed policy),
    then the stage's */* logging level (Developer Guide, "Set up CloudWatch logging for
    REST APIs in API Gateway")."""
    iam, apigw = server.client("iam"), server.client("apigateway")
    name = f"apigw-logs-{api_id}"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}  # fmt: skip
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(
        RoleName=name,
        PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
    )
    apigw.update_account(patchOperations=[
        {"op": "replace", "path": "/cloudwatchRoleArn", "value": role["Role"]["Arn"]}])
    apigw.update_stage(restApiId=api_id, stageName=stage, patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": level}])  # fmt: skip


def _permit(server, name: str, api_id: str) -> None:
    account = server.client("sts").get_caller_identity()["Account"]
    server.client("lambda").add_permission(
        FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:{account}:{api_id}/*/POST/*",
    )  # fmt: skip


def test_lambda_integration_passes_the_body_through(lambda_ready):
    server = lambda_ready
    name = f"apigw-echo-{int(time.time() * 1000)}"
    arn = _function(server, name)
    api_id, _ = _lambda_api(server, arn, "AWS", "echo")
    url = invoke_url(server, api_id, "test", "/echo")
    enable_execution_logs(server, api_id, "test", "ERROR")
    # no permission for apigateway.amazonaws.com yet: 500, the reason in the execution log
    refused = http("POST", url, json_body={"data": "1,2"})
    assert refused.status_code == 500
    assert refused.json() == {"message": "Internal server error"}
    logs = server.client("logs")
    group = f"API-Gateway-Execution-Logs_{api_id}/test"
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    assert any("Execution failed due to configuration error: Invalid permissions on Lambda "
               "function" in m for m in messages)  # fmt: skip

    _permit(server, name, api_id)
    answer = http("POST", url, json_body={"data": "1,2"})
    assert answer.status_code == 200
    assert answer.json() == {"echo": {"data": "1,2"}}
    # a function error: 200 with Lambda's error document, unless a pattern maps it
    failed = http("POST", url, json_body={"fail": "x"})
    assert failed.status_code == 200
    assert failed.json()["errorMessage"] == "bad input: x"
    mapped = http("POST", url, json_body={"fail": "mapped"})
    assert mapped.status_code == 400


def test_lambda_proxy_integration(lambda_ready):
    server = lambda_ready
    name = f"apigw-proxy-{int(time.time() * 1000)}"
    arn = _function(server, name)
    api_id, _ = _lambda_api(server, arn, "AWS_PROXY", "{item}")
    _permit(server, name, api_id)
    answer = http("POST", invoke_url(server, api_id, "test", "/thing"), body=b"x")
    assert answer.status_code == 201
    assert answer.headers["X-Seen"] == "/thing"
    assert answer.json() == {"resource": "/{item}", "params": {"item": "thing"},
                             "stage": "test"}  # fmt: skip
    broken = http("POST", invoke_url(server, api_id, "test", "/thing?broken=1"), body=b"x")
    assert broken.status_code == 502
    assert broken.json() == {"message": "Internal server error"}
