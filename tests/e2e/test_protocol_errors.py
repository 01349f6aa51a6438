"""Malformed input at the wire level gets a clear AWS-shaped error and the server keeps
serving: broken HTTP, bodies that are not JSON, operations Cove does not have."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def signed_post(server, target: str, body: bytes) -> tuple[int, dict, dict]:
    key, secret = server.credentials()
    req = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
    )
    SigV4Auth(Credentials(key, secret), "sagemaker", "us-east-1").add_auth(req)
    prepared = req.prepare()
    http = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(http, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_body_that_is_not_json(server) -> None:
    status, headers, body = signed_post(server, "SageMaker.ListEndpoints", b"{not json")
    assert status == 400
    assert body["__type"] == "SerializationException"
    assert headers["x-amzn-ErrorType"] == "SerializationException"


def test_json_that_is_not_an_object(server) -> None:
    status, _, body = signed_post(server, "SageMaker.ListEndpoints", b"[1, 2]")
    assert (status, body["__type"]) == (400, "SerializationException")


def test_operation_that_does_not_exist(server) -> None:
    status, _, body = signed_post(server, "SageMaker.LaunchRockets", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")


def test_sagemaker_operation_cove_does_not_implement(server) -> None:
    status, _, body = signed_post(server, "SageMaker.CreateNotebookInstance", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert "Cove does not implement SageMaker.CreateNotebookInstance" in body["message"]


def test_garbage_http_gets_400_and_the_server_keeps_serving(server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\x00\x01\r\n\r\n")
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert server.client("sagemaker").list_endpoints()["Endpoints"] is not None
