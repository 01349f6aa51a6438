"""The service frames a new AWS API is built from (query, ec2, rest-json), driven over a
real socket by unmodified boto3 clients: a new operation is a handler plus one entry.

Error codes are the services' own: IAM's ValidationError for broken constraints and
InvalidAction for an operation it lacks (IAM API reference, "Common Errors":
https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html); EC2's
MissingParameter (EC2 API reference, "Error codes":
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cove.auth.credentials import Credential, CredentialStore
from cove.gateway.dispatch import Gateway
from cove.gateway.form_service import FormService
from cove.gateway.rest_service import RestService
from cove.http.messages import PUBLIC_LISTENER, Principal, RequestContext
from cove.http.server import serve_tcp

ACCOUNT = "123456789012"
ADMIN = ("AKIAADMINFRAMES00001", "admin-secret")
USER = ("AKIAUSERFRAMES000001", "user-secret")
CREATED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def get_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params.get("UserName", "me")
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    return {"User": {"Path": "/", "UserName": name, "UserId": "AIDA1", "Arn": arn,
                     "CreateDate": CREATED}}  # fmt: skip


def create_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return get_user(ctx, params)


async def describe_vpcs(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    filters = {f["Name"]: f["Values"] for f in params.get("Filters", [])}
    vpcs = [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "State": "available"}]
    if filters.get("cidr-block", ["10.0.0.0/16"]) != ["10.0.0.0/16"]:
        vpcs = []
    return {"Vpcs": vpcs}


def delete_vpc(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {}


def get_function(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Configuration": {"FunctionName": params["FunctionName"], "MemorySize": 128}}


def invoke(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": params["Payload"][::-1]}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    credentials = CredentialStore(ACCOUNT)
    credentials.add_admin(*ADMIN)
    user = Principal(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", USER[0])
    credentials.add(Credential(USER[0], USER[1], user))
    services = [
        FormService("iam", {"GetUser": get_user, "CreateUser": create_user}),
        FormService("ec2", {"DescribeVpcs": describe_vpcs, "DeleteVpc": delete_vpc}),
        RestService(
            "lambda",
            {"GetFunction": get_function, "Invoke": invoke},
            {"Invoke": "lambda:InvokeFunction"},
        ),
    ]
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        server = await serve_tcp(Gateway(credentials, services), "127.0.0.1", 0, PUBLIC_LISTENER)
        box["server"], box["port"] = server, server.sockets[0].getsockname()[1]
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(main(), loop).result(10)
    assert started.wait(10)
    yield f"http://127.0.0.1:{box['port']}"

    async def stop() -> None:
        box["server"].close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:  # the connections boto3 keeps alive
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def client(endpoint: str, service: str, key: tuple[str, str] = ADMIN, **config: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(retries={"max_attempts": 1}, **config),
    )


def test_a_query_operation_answers_what_its_handler_returns(endpoint: str) -> None:
    user = client(endpoint, "iam").get_user(UserName="bob")["User"]
    assert (user["UserName"], user["Arn"]) == ("bob", f"arn:aws:iam::{ACCOUNT}:user/bob")
    assert user["CreateDate"] == CREATED  # an ISO 8601 timestamp, parsed back by botocore


def test_query_constraints_are_iam_validation_errors(endpoint: str) -> None:
    iam = client(endpoint, "iam", parameter_validation=False)
    with pytest.raises(ClientError) as info:
        iam.create_user(UserName="a b")
    err = info.value.response["Error"]
    assert err["Code"] == "ValidationError" and err["Type"] == "Sender"
    assert "Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy " \
           "regular expression pattern" in err["Message"]  # fmt: skip
    with pytest.raises(ClientError) as info:
        iam.create_user()
    assert info.value.response["Error"]["Message"] == (
        "1 validation error detected: Value null at 'userName' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_an_operation_without_a_handler_is_an_invalid_action(endpoint: str) -> None:
    with pytest.raises(ClientError) as info:
        client(endpoint, "iam").list_users()
    assert info.value.response["Error"]["Code"] == "InvalidAction"
    assert "Cove does not implement ListUsers yet" in info.value.response["Error"]["Message"]


def test_ec2_lists_and_filters_reach_the_handler_and_errors_are_ec2s(endpoint: str) -> None:
    ec2 = client(endpoint, "ec2")
    assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]] == ["vpc-1"]
    filtered = ec2.describe_vpcs(Filters=[{"Name": "cidr-block", "Values": ["10.9.0.0/16"]}])
    assert filtered["Vpcs"] == []
    with pytest.raises(ClientError) as info:
        client(endpoint, "ec2", parameter_validation=False).delete_vpc()
    assert info.value.response["Error"] == {
        "Code": "MissingParameter",
        "Message": "The request must contain the parameter VpcId",
    }


def test_rest_json_binds_labels_and_blobs_and_serializes_headers(endpoint: str) -> None:
    lam = client(endpoint, "lambda")
    assert lam.get_function(FunctionName="fn")["Configuration"]["FunctionName"] == "fn"
    answer = lam.invoke(FunctionName="fn", Payload=b'{"a": 1}')
    assert answer["StatusCode"] == 200 and answer["ExecutedVersion"] == "$LATEST"
    assert answer["Payload"].read() == b'{"a": 1}'[::-1]


def test_an_operation_is_authorized_as_its_iam_action(endpoint: str) -> None:
    with pytest.raises(ClientError) as info:
        client(endpoint, "lambda", USER).invoke(FunctionName="fn", Payload=b"{}")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "not authorized to perform: lambda:InvokeFunction" in str(info.value)
    with pytest.raises(ClientError) as info:
        client(endpoint, "iam", USER).get_user()
    assert "not authorized to perform: iam:GetUser" in str(info.value)


def test_a_handler_for_an_operation_the_model_lacks_is_refused_at_registration() -> None:
    with pytest.raises(ValueError, match="no operations"):
        FormService("sts", {"GetCallerIdentity": get_user, "Whoami": get_user})
