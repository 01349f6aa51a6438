"""API Gateway's Update* operations (PATCH with patchOperations) against a real server,
with boto3 and the AWS CLI.

AWS facts pinned here:
- Which op each path takes: API Reference, "Patch Operations"
  (https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html); a path's
  "/" inside a key is "~1" (API Reference, PatchOperation,
  https://docs.aws.amazon.com/apigateway/latest/api/API_PatchOperation.html).
- The error texts, as AWS answered them in localstack's recorded AWS snapshots
  (localstack/localstack, tests/aws/services/apigateway/test_apigateway_api.snapshot.json
  and test_apigateway_common.snapshot.json): "Invalid patch path  '/invalid' specified for
  op 'replace'. Must be one of: [/parentId, /pathPart]" (two spaces), "... specified for
  op 'remove'. Please choose supported operations", "Root resource cannot update its
  pathPart.", "Resources cannot be cyclical.", "Invalid patch path /httpMethod", "Invalid
  patch operation specified. Must be one of: [replace]", "Invalid patch path
  /binaryMediaTypes", "Invalid parameter name specified" (404), "Content-Type specified
  was not found" (404), "Invalid method setting path: /tags/tag1. Must be one of: [...]",
  "Cannot remove method setting */* because there is no method setting for this method ";
  a new method setting key reads with AWS's defaults (throttling 5000 / 10000.0, cache TTL
  300, ...) and copies */* when there is one.
- UpdateStage turning logging on without the account's CloudWatch role:
  "CloudWatch Logs role ARN must be set in account settings to enable logging"
  (Miserlou/Zappa#1946); UpdateAccount with a role API Gateway may not use: "The role ARN
  does not have required permissions configured. Please grant trust permission for API
  Gateway and add the required role policy." (tmobile/jazz-installer#597); the role needs
  AmazonAPIGatewayPushToCloudWatchLogs
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import CoveServer

PUSH_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def error_of(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def replace_op(path: str, value: str) -> dict[str, str]:
    return {"op": "replace", "path": path, "value": value}


@pytest.fixture(scope="module")
def apigw(server: CoveServer) -> Any:
    return server.client("apigateway")


def mock_method(apigw: Any, api_id: str, resource_id: str) -> dict[str, Any]:
    common = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "GET"}
    apigw.put_method(**common, authorizationType="NONE")
    apigw.put_integration(**common, type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})  # fmt: skip
    apigw.put_method_response(**common, statusCode="200")
    apigw.put_integration_response(**common, statusCode="200",
                                   responseTemplates={"application/json": '{"v": 1}'})  # fmt: skip
    return common


def test_update_rest_api(apigw: Any) -> None:
    api = apigw.create_rest_api(name="before", description="first")
    api_id = api["id"]
    updated = apigw.update_rest_api(restApiId=api_id, patchOperations=[
        replace_op("/name", "after"), replace_op("/description", "second"),
        {"op": "add", "path": "/binaryMediaTypes/image~1png"},
        {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"},
    ])  # fmt: skip
    assert (updated["name"], updated["description"]) == ("after", "second")
    assert updated["binaryMediaTypes"] == ["image/png", "image/jpeg"]
    updated = apigw.update_rest_api(restApiId=api_id, patchOperations=[
        replace_op("/binaryMediaTypes/image~1png", "image/gif"),
    ])  # fmt: skip
    assert updated["binaryMediaTypes"] == ["image/jpeg", "image/gif"]
    updated = apigw.update_rest_api(restApiId=api_id, patchOperations=[
        {"op": "remove", "path": "/binaryMediaTypes/image~1gif"},
        {"op": "remove", "path": "/description"},
    ])  # fmt: skip
    assert updated["binaryMediaTypes"] == ["image/jpeg"] and "description" not in updated
    assert apigw.get_rest_api(restApiId=api_id)["name"] == "after"
    assert error_of(apigw.update_rest_api, restApiId=api_id,
                    patchOperations=[{"op": "remove", "path": "/binaryMediaTypes"}]) == (
        "BadRequestException", "Invalid patch path /binaryMediaTypes", 400)  # fmt: skip
    assert error_of(apigw.update_rest_api, restApiId=api_id,
                    patchOperations=[{"op": "add", "path": "/name", "value": "x"}]) == (
        "BadRequestException", "Invalid patch operation specified. Must be one of: [replace]",
        400)  # fmt: skip
    assert error_of(apigw.update_rest_api, restApiId="nope12345",
                    patchOperations=[replace_op("/name", "x")])[0] == "NotFoundException"


def test_update_resource_moves_and_renames(server: CoveServer, apigw: Any) -> None:
    api = apigw.create_rest_api(name="tree")
    api_id, root = api["id"], api["rootResourceId"]
    pets = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="pets")["id"]
    sub = apigw.create_resource(restApiId=api_id, parentId=pets, pathPart="subpets")["id"]
    leaf = apigw.create_resource(restApiId=api_id, parentId=sub, pathPart="{id}")["id"]
    args = {"restApiId": api_id}
    assert error_of(apigw.update_resource, **args, resourceId=pets,
                    patchOperations=[replace_op("/invalid", "dogs")]) == (
        "BadRequestException", "Invalid patch path  '/invalid' specified for op 'replace'. "
        "Must be one of: [/parentId, /pathPart]", 400)  # fmt: skip
    assert error_of(apigw.update_resource, **args, resourceId=pets,
                    patchOperations=[{"op": "remove", "path": "/pathPart"}]) == (
        "BadRequestException", "Invalid patch path  '/pathPart' specified for op 'remove'. "
        "Please choose supported operations", 400)  # fmt: skip
    assert error_of(apigw.update_resource, **args, resourceId=root,
                    patchOperations=[replace_op("/pathPart", "dogs")])[1] == \
        "Root resource cannot update its pathPart."  # fmt: skip
    assert error_of(apigw.update_resource, **args, resourceId=pets,
                    patchOperations=[replace_op("/parentId", sub)])[1] == \
        "Resources cannot be cyclical."  # fmt: skip
    assert error_of(apigw.update_resource, **args, resourceId=pets,
                    patchOperations=[replace_op("/parentId", "nothere")]) == (
        "NotFoundException", "Invalid Resource identifier specified", 404)  # fmt: skip
    # a move takes the subtree along: /pets/subpets/{id} becomes /subpets/{id}
    moved = apigw.update_resource(**args, resourceId=sub,
                                  patchOperations=[replace_op("/parentId", root)])  # fmt: skip
    assert (moved["path"], moved["parentId"]) == ("/subpets", root)
    paths = {r["id"]: r["path"] for r in apigw.get_resources(restApiId=api_id)["items"]}
    assert paths[leaf] == "/subpets/{id}"
    assert error_of(apigw.update_resource, **args, resourceId=sub,
                    patchOperations=[replace_op("/pathPart", "pets")]) == (
        "ConflictException", "Another resource with the same parent already has this name: "
        "pets", 409)  # fmt: skip
    # the AWS CLI's shorthand form
    out = json.loads(server.aws(
        "apigateway", "update-resource", "--rest-api-id", api_id, "--resource-id", sub,
        "--patch-operations", "op=replace,path=/pathPart,value=cats",
    ).stdout)  # fmt: skip
    assert out["path"] == "/cats"
    paths = {r["id"]: r["path"] for r in apigw.get_resources(restApiId=api_id)["items"]}
    assert paths[leaf] == "/cats/{id}"


def test_update_method_integration_and_responses(apigw: Any) -> None:
    api = apigw.create_rest_api(name="methods")
    common = mock_method(apigw, api["id"], api["rootResourceId"])
    method = apigw.update_method(**common, patchOperations=[
        replace_op("/authorizationType", "AWS_IAM"), replace_op("/apiKeyRequired", "true"),
        replace_op("/operationName", "GetRoot"),
        {"op": "add", "path": "/requestParameters/method.request.querystring.q", "value": "true"},
        {"op": "add", "path": "/requestModels/application~1json", "value": "Empty"},
    ])  # fmt: skip
    assert (method["authorizationType"], method["apiKeyRequired"], method["operationName"]) \
        == ("AWS_IAM", True, "GetRoot")  # fmt: skip
    assert method["requestParameters"] == {"method.request.querystring.q": True}
    assert method["requestModels"] == {"application/json": "Empty"}
    assert apigw.get_method(**common)["authorizationType"] == "AWS_IAM"
    assert error_of(apigw.update_method, **common,
                    patchOperations=[{"op": "add", "path": "/httpMethod", "value": "PUT"}]) == (
        "BadRequestException", "Invalid patch path /httpMethod", 400)  # fmt: skip
    assert error_of(apigw.update_method, **common,
                    patchOperations=[{"op": "add", "path": "/operationName", "value": "x"}]) == (
        "BadRequestException", "Invalid patch operation specified. Must be one of: [replace]",
        400)  # fmt: skip
    assert error_of(apigw.update_method, **common, patchOperations=[replace_op(
        "/requestParameters", "method.request.querystring.optional=false")])[1] == \
        "Invalid patch path /requestParameters"  # fmt: skip
    assert error_of(apigw.update_method, **common, patchOperations=[
        {"op": "add", "path": "/requestModels/application/json", "value": "Empty"}])[1] == \
        "Invalid patch path /requestModels/application/json"  # fmt: skip

    integration = apigw.update_integration(**common, patchOperations=[
        {"op": "add", "path": "/requestTemplates/text~1plain", "value": '{"statusCode": 200}'},
        {"op": "remove", "path": "/requestTemplates/application~1json"},
        replace_op("/timeoutInMillis", "1000"), replace_op("/passthroughBehavior", "NEVER"),
    ])  # fmt: skip
    assert integration["requestTemplates"] == {"text/plain": '{"statusCode": 200}'}
    assert (integration["timeoutInMillis"], integration["passthroughBehavior"]) == (1000, "NEVER")
    assert error_of(apigw.update_integration, **common,
                    patchOperations=[replace_op("/timeoutInMillis", "30000")])[1] == \
        "Timeout should be between 50 ms and 29000 ms"  # fmt: skip

    header = "method.response.header.X-Kind"
    response = apigw.update_method_response(**common, statusCode="200", patchOperations=[
        {"op": "add", "path": f"/responseParameters/{header}", "value": "false"},
        {"op": "add", "path": "/responseModels/application~1json", "value": "Empty"},
    ])  # fmt: skip
    assert response["responseParameters"] == {header: False}
    assert response["responseModels"] == {"application/json": "Empty"}
    assert error_of(apigw.update_method_response, **common, statusCode="200", patchOperations=[
        {"op": "remove", "path": "/responseParameters/method.response.header.Nope"}]) == (
        "NotFoundException", "Invalid parameter name specified", 404)  # fmt: skip
    assert error_of(apigw.update_method_response, **common, statusCode="200", patchOperations=[
        {"op": "remove", "path": "/responseModels/text~1xml"}]) == (
        "NotFoundException", "Content-Type specified was not found", 404)  # fmt: skip
    assert error_of(apigw.update_method_response, **common, statusCode="200", patchOperations=[
        {"op": "add", "path": f"/wrong/{header}", "value": "true"}])[1] == \
        f"Invalid patch path /wrong/{header}"  # fmt: skip
    assert error_of(apigw.update_method_response, **common, statusCode="404",
                    patchOperations=[])[1] == "Invalid Response status code specified"

    mapped = apigw.update_integration_response(**common, statusCode="200", patchOperations=[
        replace_op("/selectionPattern", ""),
        {"op": "replace", "path": "/responseTemplates/application~1json", "value": '{"v": 2}'},
        {"op": "add", "path": f"/responseParameters/{header}", "value": "'mocked'"},
    ])  # fmt: skip
    assert mapped["responseTemplates"] == {"application/json": '{"v": 2}'}
    assert mapped["responseParameters"] == {header: "'mocked'"}


def test_update_deployment_and_stage(apigw: Any) -> None:
    api = apigw.create_rest_api(name="staged")
    api_id = api["id"]
    mock_method(apigw, api_id, api["rootResourceId"])
    first = apigw.create_deployment(restApiId=api_id, stageName="s1", description="one")["id"]
    second = apigw.create_deployment(restApiId=api_id, description="two")["id"]
    described = apigw.update_deployment(restApiId=api_id, deploymentId=first,
                                        patchOperations=[replace_op("/description", "uno")])
    assert described["description"] == "uno"
    assert error_of(apigw.update_deployment, restApiId=api_id, deploymentId=first,
                    patchOperations=[replace_op("/nope", "x")])[1] == (
        "Invalid patch path  '/nope' specified for op 'replace'. Must be one of: "
        "[/description]")  # fmt: skip

    stage = apigw.update_stage(restApiId=api_id, stageName="s1", patchOperations=[
        replace_op("/description", "stage new"), replace_op("/variables/var1", "test"),
        replace_op("/variables/var2", "test2"), replace_op("/*/*/throttling/burstLimit", "123"),
        replace_op("/*/*/caching/enabled", "true"), replace_op("/tracingEnabled", "true"),
        replace_op("/test/GET/throttling/burstLimit", "124"), replace_op("/deploymentId", second),
    ])  # fmt: skip
    assert stage["description"] == "stage new" and stage["deploymentId"] == second
    assert stage["variables"] == {"var1": "test", "var2": "test2"}
    assert stage["tracingEnabled"] is True
    defaults = {
        "cacheDataEncrypted": False, "cacheTtlInSeconds": 300, "cachingEnabled": True,
        "dataTraceEnabled": False, "metricsEnabled": False,
        "requireAuthorizationForCacheControl": True, "throttlingRateLimit": 10000.0,
        "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
    }  # fmt: skip
    assert stage["methodSettings"] == {
        "*/*": {**defaults, "throttlingBurstLimit": 123},
        "test/GET": {**defaults, "throttlingBurstLimit": 124},
    }
    assert apigw.get_stage(restApiId=api_id, stageName="s1")["methodSettings"] == \
        stage["methodSettings"]  # fmt: skip
    stage = apigw.update_stage(restApiId=api_id, stageName="s1", patchOperations=[
        {"op": "remove", "path": "/variables/var1"}, {"op": "remove", "path": "/*/*"},
    ])  # fmt: skip
    assert stage["variables"] == {"var2": "test2"} and list(stage["methodSettings"]) == ["test/GET"]
    assert error_of(apigw.update_stage, restApiId=api_id, stageName="s1",
                    patchOperations=[{"op": "remove", "path": "/*/*"}])[1] == (
        "Cannot remove method setting */* because there is no method setting for this "
        "method ")  # fmt: skip
    code, message, _ = error_of(apigw.update_stage, restApiId=api_id, stageName="s1",
                                patchOperations=[replace_op("/tags/tag1", "value1")])
    assert code == "BadRequestException"
    assert message.startswith("Invalid method setting path: /tags/tag1. Must be one of: "
                              "[/deploymentId, /description, ")  # fmt: skip
    assert error_of(apigw.update_stage, restApiId=api_id, stageName="s1",
                    patchOperations=[replace_op("/deploymentId", "nothere")])[1] == \
        "Deployment id does not exist"  # fmt: skip


def test_logging_needs_the_account_role(server: CoveServer, apigw: Any) -> None:
    api = apigw.create_rest_api(name="logged")
    api_id = api["id"]
    mock_method(apigw, api_id, api["rootResourceId"])
    apigw.create_deployment(restApiId=api_id, stageName="test")
    if "cloudwatchRoleArn" not in apigw.get_account():
        assert error_of(apigw.update_stage, restApiId=api_id, stageName="test",
                        patchOperations=[replace_op("/*/*/logging/loglevel", "INFO")]) == (
            "BadRequestException",
            "CloudWatch Logs role ARN must be set in account settings to enable logging", 400,
        )  # fmt: skip
    iam = server.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}  # fmt: skip
    role = iam.create_role(RoleName="apigw-logs-updates",
                           AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    refused = error_of(apigw.update_account,
                       patchOperations=[replace_op("/cloudwatchRoleArn", role)])
    assert refused == ("BadRequestException", "The role ARN does not have required permissions "
                       "configured. Please grant trust permission for API Gateway and add the "
                       "required role policy.", 400)  # fmt: skip
    iam.attach_role_policy(RoleName="apigw-logs-updates", PolicyArn=PUSH_POLICY)
    account = json.loads(server.aws(
        "apigateway", "update-account", "--patch-operations",
        f"op=replace,path=/cloudwatchRoleArn,value={role}",
    ).stdout)  # fmt: skip
    assert account["cloudwatchRoleArn"] == role
    assert apigw.get_account()["cloudwatchRoleArn"] == role
    stage = apigw.update_stage(restApiId=api_id, stageName="test", patchOperations=[
        replace_op("/*/*/logging/loglevel", "info"), replace_op("/*/*/metrics/enabled", "true"),
        replace_op("/*/*/logging/dataTrace", "true"),
    ])  # fmt: skip
    setting = stage["methodSettings"]["*/*"]
    assert (setting["loggingLevel"], setting["metricsEnabled"], setting["dataTraceEnabled"]) \
        == ("INFO", True, True)  # fmt: skip


def test_a_wrong_op_is_a_validation_error(apigw: Any) -> None:
    """Model constraints as AWS answers them for API Gateway (localstack's AWS snapshot
    test_update_method_response_negative_tests): ValidationException, the body's members
    under '<operation>Input', the URI's bare, the body's listed first. (AWS lists the enum
    set in an order of its own, "[add, remove, move, test, replace, copy]"; Cove in the
    model's.)"""
    api = apigw.create_rest_api(name="validated")
    common = mock_method(apigw, api["id"], api["rootResourceId"])
    enum = "Member must satisfy enum value set: [add, remove, replace, move, copy, test]"
    assert error_of(apigw.update_method_response, **common, statusCode="200", patchOperations=[
        {"op": "wrong_op", "path": "/responseModels/application~1json", "value": "Empty"}]) == (
        "ValidationException", "1 validation error detected: Value 'wrong_op' at "
        f"'updateMethodResponseInput.patchOperations.1.member.op' failed to satisfy "
        f"constraint: {enum}", 400)  # fmt: skip
    assert error_of(apigw.update_method_response, **common, statusCode="wrong", patchOperations=[
        {"op": "wrong_op", "path": "/responseModels/application~1json", "value": "Empty"}])[1] \
        == ("2 validation errors detected: Value 'wrong_op' at "
            f"'updateMethodResponseInput.patchOperations.1.member.op' failed to satisfy "
            f"constraint: {enum}; Value 'wrong' at 'statusCode' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [1-5]\\d\\d")  # fmt: skip
