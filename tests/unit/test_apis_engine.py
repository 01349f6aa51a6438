"""The invoke engine over a real store (SQLite in memory) with a recording function
invoker and log sink standing in for the Lambda service and CloudWatch Logs (the e2e
tests run the real ones once they are in the server).

AWS behaviour pinned (Developer Guide, "Lambda proxy integrations in API Gateway", input
format 1.0 and output format; "Handle Lambda errors in API Gateway"; "Set up an
integration response": a non-proxy integration needs a default response; AWS-FACTS.md
for the 500 and its execution-log line when the function's policy refuses API Gateway):
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

import cove.apis.tables  # noqa: F401 - registers the tables
from cove.apis import stage_patch
from cove.apis.engine import ApiEngine
from cove.apis.model import (
    Integration,
    IntegrationResponse,
    IntegrationType,
    Method,
    MethodResponse,
)
from cove.apis.patch import Patch, PatchOp
from cove.apis.proxy import MalformedProxyResponse, parse_output
from cove.apis.requests import ApiRequest
from cove.apis.store import ApiStore
from cove.functions.contracts import InvokeResult, NotPermitted
from cove.storage.db import open_engine

ACCOUNT = "123456789012"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION}/invocations"


class Invoker:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, str, str]] = []
        self.answer = InvokeResult(200, b'"B"')
        self.refuse = False

    async def invoke_for_service(self, function_arn, payload, *, service_principal, source_arn,
                                 credentials=None):  # fmt: skip
        self.calls.append((function_arn, payload, service_principal, source_arn))
        self.credentials = credentials
        if self.refuse:
            raise NotPermitted(source_arn)
        return self.answer


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def put(self, group, stream, events):
        self.events += [(group, stream, m) for _, m in events]


@pytest.fixture
def setup():
    store = ApiStore(open_engine("sqlite://"), "us-east-1", ACCOUNT)
    invoker, sink = Invoker(), Sink()
    return store, invoker, sink, ApiEngine(store, invoker, sink)


def deploy(store: ApiStore, kind: IntegrationType, part: str = "predict", **integration):
    api = store.create_api("t", binary_media_types=("image/png",))
    res = store.create_resource(api.id, api.root_resource_id, part)
    store.put_method(api.id, res.id, Method("POST"))
    store.put_integration(api.id, res.id, "POST", Integration(kind, "POST", URI, **integration))
    if kind is IntegrationType.AWS:
        for code in ("200", "400"):
            store.put_method_response(api.id, res.id, "POST", MethodResponse(code))
        store.put_integration_response(api.id, res.id, "POST", IntegrationResponse("200"))
        store.put_integration_response(
            api.id, res.id, "POST", IntegrationResponse("400", "Invalid.*")
        )
    store.create_deployment(api.id, stage_name="test", variables={"v": "1"})
    return api.id


def request(api_id: str, path: str, body: bytes = b"", **headers) -> ApiRequest:
    return ApiRequest(api_id, "test", "POST", path, [("a", "1"), ("a", "2")],
                      {"content-type": "application/json", **headers}, body, "10.0.0.9",
                      "req-1")  # fmt: skip


def run(engine: ApiEngine, req: ApiRequest):
    route = engine.route(req)
    assert route is not None
    return asyncio.run(engine.execute(route, req))


def test_lambda_integration_passes_the_body_through_and_maps_errors(setup):
    store, invoker, _, engine = setup
    api_id = deploy(store, IntegrationType.AWS)
    answer = run(engine, request(api_id, "/predict", b'{"data": "1,2"}'))
    assert (answer.status, answer.body) == (200, b'"B"')
    fn, payload, principal, source = invoker.calls[0]
    assert (fn, payload, principal) == (FUNCTION, b'{"data": "1,2"}', "apigateway.amazonaws.com")
    assert source == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/test/POST/predict"
    error = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
    invoker.answer = InvokeResult(200, json.dumps(error).encode(), function_error="Unhandled")
    answer = run(engine, request(api_id, "/predict", b"{}"))
    assert answer.status == 200 and json.loads(answer.body) == error  # no pattern matched
    invoker.answer = InvokeResult(
        200, b'{"errorMessage": "Invalid row"}', function_error="Unhandled"
    )
    assert run(engine, request(api_id, "/predict", b"{}")).status == 400


def set_logging(store: ApiStore, api_id: str, *patches: tuple[str, str]) -> None:
    ops = [Patch(PatchOp.REPLACE, path, value) for path, value in patches]
    store.update_stage(
        api_id, "test", lambda s: stage_patch.apply(s, ops, lambda _: True, logging_allowed=True)
    )


def messages(sink: Sink) -> list[str]:
    return [m.removeprefix("(req-1) ") for _, _, m in sink.events]


def test_refused_invocation_is_500_with_the_reason_in_the_execution_log(setup):
    store, invoker, sink, engine = setup
    api_id = deploy(store, IntegrationType.AWS)
    invoker.refuse = True
    answer = run(engine, request(api_id, "/predict", b"{}"))
    assert answer.status == 500
    assert json.loads(answer.body) == {"message": "Internal server error"}
    assert sink.events == []  # no method setting: execution logging is off
    set_logging(store, api_id, ("/*/*/logging/loglevel", "ERROR"))
    run(engine, request(api_id, "/predict", b"{}"))
    assert {g for g, _, _ in sink.events} == {f"API-Gateway-Execution-Logs_{api_id}/test"}
    # ERROR: the error-level entries alone
    assert messages(sink) == [
        "Execution failed due to configuration error: Invalid permissions on Lambda function",
        "Method completed with status: 500",
    ]


def test_the_log_level_and_data_trace_choose_the_lines(setup):
    store, invoker, sink, engine = setup
    api_id = deploy(store, IntegrationType.AWS)
    set_logging(store, api_id, ("/*/*/logging/loglevel", "ERROR"))
    assert run(engine, request(api_id, "/predict", b'{"data": "1,2"}')).status == 200
    assert sink.events == []  # nothing failed: nothing at ERROR
    set_logging(store, api_id, ("/*/*/logging/loglevel", "INFO"))
    run(engine, request(api_id, "/predict", b'{"data": "1,2"}'))
    info = messages(sink)
    endpoint = (f"https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/{FUNCTION}"
                f"/invocations")  # fmt: skip
    assert info[info.index("Starting execution for request: req-1") + 1] == \
        "HTTP Method: POST, Resource Path: /predict"  # fmt: skip
    assert f"Endpoint request URI: {endpoint}" in info
    assert info[-2:] == ["Successfully completed execution", "Method completed with status: 200"]
    assert not any(m.startswith("Method request body") for m in info)  # no data trace
    sink.events.clear()
    set_logging(store, api_id, ("/*/*/logging/dataTrace", "true"))
    run(engine, request(api_id, "/predict", b'{"data": "1,2"}'))
    traced = messages(sink)
    assert 'Method request body before transformations: {"data": "1,2"}' in traced
    assert 'Endpoint response body before transformations: "B"' in traced
    # the method's own setting wins over */*
    sink.events.clear()
    set_logging(store, api_id, ("/predict/POST/logging/loglevel", "OFF"))
    run(engine, request(api_id, "/predict", b"{}"))
    assert sink.events == []


def test_request_template_shapes_the_event(setup):
    store, invoker, _, engine = setup
    template = '{"data": $input.json(\'$.data\'), "q": "$input.params(\'a\')"}'
    api_id = deploy(store, IntegrationType.AWS, request_templates={"application/json": template})
    run(engine, request(api_id, "/predict", b'{"data": "x", "other": 1}'))
    assert json.loads(invoker.calls[0][1]) == {"data": "x", "q": "2"}


def test_proxy_event_and_answer(setup):
    store, invoker, _, engine = setup
    api_id = deploy(store, IntegrationType.AWS_PROXY, part="{proxy+}")
    invoker.answer = InvokeResult(200, json.dumps({
        "statusCode": 201, "headers": {"X-A": "b"}, "multiValueHeaders": {"X-M": ["1", "2"]},
        "body": base64.b64encode(b"\x00png").decode(), "isBase64Encoded": True,
    }).encode())  # fmt: skip
    answer = run(engine, request(api_id, "/a/b", b"\x89PNG", **{"content-type": "image/png"}))
    assert answer.status == 201 and answer.body == b"\x00png"
    assert ("X-A", "b") in answer.headers and ("X-M", "2") in answer.headers
    event = json.loads(invoker.calls[0][1])
    assert event["resource"] == "/{proxy+}" and event["path"] == "/a/b"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["stageVariables"] == {"v": "1"}
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\x89PNG"
    context = event["requestContext"]
    assert (context["stage"], context["resourcePath"], context["path"]) == (
        "test", "/{proxy+}", "/test/a/b",
    )  # fmt: skip
    assert context["identity"]["sourceIp"] == "10.0.0.9" and context["accountId"] == ACCOUNT
    invoker.answer = InvokeResult(200, b'{"body": {"not": "a string"}, "statusCode": 200}')
    assert run(engine, request(api_id, "/x")).status == 502
    invoker.answer = InvokeResult(200, b'{"errorMessage": "x"}', function_error="Unhandled")
    assert run(engine, request(api_id, "/x")).status == 502


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b'{"statusCode": "abc"}', b'{"statusCode": 200, "extra": 1}',
     b'{"statusCode": 200, "headers": []}', b"{}"],
)  # fmt: skip
def test_malformed_proxy_answers(payload):
    with pytest.raises(MalformedProxyResponse):
        parse_output(payload)


def test_routing_prefers_literals_and_any(setup):
    store, _, _, engine = setup
    api = store.create_api("r")
    root = api.root_resource_id
    items = store.create_resource(api.id, root, "items")
    one = store.create_resource(api.id, items.id, "{id}")
    special = store.create_resource(api.id, items.id, "special")
    for res, verb in ((one, "ANY"), (special, "GET")):
        store.put_method(api.id, res.id, Method(verb))
        store.put_integration(api.id, res.id, verb, Integration(IntegrationType.MOCK))
    store.create_deployment(api.id, stage_name="test")

    def matched(method: str, path: str):
        req = request(api.id, path)
        req.method = method
        route = engine.route(req)
        return None if route is None else (route.matched.resource.path,
                                           route.matched.path_parameters)  # fmt: skip

    assert matched("GET", "/items/special") == ("/items/special", {})
    assert matched("DELETE", "/items/7") == ("/items/{id}", {"id": "7"})
    assert matched("GET", "/items") is None  # no method there
    assert matched("GET", "/items/7/more") is None
