"""Hostile inputs get the 4xx AWS gives, never a 500, an injected header or a hung
connection.

Finding (issue "Contain untrusted model code", part 6): response-content-type with CR/LF
in a presigned S3 URL injected response headers and a non-Latin-1 character hung the
connection; a 5,000-digit Range, a 1,000-deep JSON body and look-alike query parameters
answered 500.

AWS pages checked:
- [S3GET] S3 API, GetObject: response-content-type and the other response-* overrides;
  Range per RFC 9110 (a start past the object's end: 416 InvalidRange).
- [S3ERR] S3 API, "Error responses": InvalidArgument, InvalidRange (416), InvalidURI (400,
  "Couldn't parse the specified URI."). S3 answers a response-* value it cannot send with
  InvalidArgument "Header value cannot be represented using ISO-8859-1." naming the
  parameter in ArgumentName (as quoted in IQSS/dataverse#4524).
- [SMERR] SageMaker API "Common Errors": SerializationException / ValidationException
  (400) for a body that cannot be read.
"""

from __future__ import annotations

import json

import pytest
from raw_requests import Call, presign, send, send_call, sign

BUCKET = "cove-security-wire"
BODY = b"0123456789abcdef"


@pytest.fixture(scope="module", autouse=True)
def bucket(server) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="object", Body=BODY)


def get_object(server, query: str):  # noqa: ANN001, ANN201
    call = Call("rest-xml", "s3", "GET", f"/{BUCKET}/object", query=query)
    return send(server, "GET", presign(server, call), {}, timeout=5)


@pytest.mark.parametrize("value", ["text/plain%0D%0AX-Injected:%20yes", "a%0Ab", "a%0Db"])
def test_response_override_cannot_inject_a_header(server, value: str) -> None:
    answer = get_object(server, f"response-content-type={value}")
    assert "x-injected" not in answer.headers
    assert (answer.code("rest-xml"), answer.status) == ("InvalidArgument", 400)
    assert b"<ArgumentName>response-content-type</ArgumentName>" in answer.body


@pytest.mark.parametrize("param", ["response-content-type", "response-content-disposition"])
def test_response_override_outside_latin1_is_answered(server, param: str) -> None:
    # it hung the connection: the answer must come, and be S3's (timeout=5 in get_object)
    answer = get_object(server, f"{param}=attachment%3B%20%E2%82%AC")
    assert (answer.code("rest-xml"), answer.status) == ("InvalidArgument", 400)
    assert answer.message("rest-xml") == "Header value cannot be represented using ISO-8859-1."


def test_response_override_that_is_fine(server) -> None:
    answer = get_object(server, "response-content-type=text/x-cove%3B%20charset%3Dutf-8")
    assert (answer.status, answer.headers["content-type"]) == (200, "text/x-cove; charset=utf-8")


def ranged(server, header: str):  # noqa: ANN001, ANN201
    call = Call("rest-xml", "s3", "GET", f"/{BUCKET}/object", headers={"Range": header})
    return send_call(server, call, sign(server, call))


@pytest.mark.parametrize(("header", "status", "body"), [
    ("bytes=0-" + "9" * 5000, 206, BODY),  # an end past the object: up to its end
    ("bytes=-" + "9" * 5000, 206, BODY),  # a suffix longer than the object: all of it
    ("bytes=" + "9" * 5000 + "-", 416, None),  # a start past the end: InvalidRange
    ("bytes=1-2-3", 200, BODY),  # not a range S3 can parse: ignored, whole object
])
def test_range_with_huge_numbers(server, header: str, status: int, body: bytes | None) -> None:
    answer = ranged(server, header)
    assert answer.status == status, answer.body[:300]
    if body is not None:
        assert answer.body == body
    else:
        assert answer.code("rest-xml") == "InvalidRange"
        assert len(answer.body) < 1500  # RangeRequested is echoed cut short


@pytest.mark.parametrize("raw", ["%FF", "%E2%82", "%zz", "%"])
def test_invalid_percent_escape_in_key(server, raw: str) -> None:
    call = Call("rest-xml", "s3", "GET", f"/{BUCKET}/bad{raw}key")
    answer = send_call(server, call, sign(server, call))
    assert (answer.code("rest-xml"), answer.status) == ("InvalidURI", 400)
    assert answer.message("rest-xml") == "Couldn't parse the specified URI."


def json_call(target: str, body: bytes) -> Call:
    return Call("json", "sagemaker", "POST", "/", body,
                {"X-Amz-Target": f"SageMaker.{target}",
                 "Content-Type": "application/x-amz-json-1.1"})


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_json(server, depth: int) -> None:
    for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        call = json_call("ListModels", body)
        answer = send_call(server, call, sign(server, call))
        assert (answer.code("json"), answer.status) == ("SerializationException", 400)


def test_echoed_value_is_cut_short(server) -> None:
    name = "x" * 100_000
    call = json_call("DescribeModel", json.dumps({"ModelName": name}).encode())
    answer = send_call(server, call, sign(server, call))
    assert (answer.code("json"), answer.status) == ("ValidationException", 400)
    message = answer.message("json")
    assert "failed to satisfy constraint: Member must have length less than or equal to 63" in (
        message
    )
    assert len(message) < 1000
