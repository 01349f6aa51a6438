"""The signature covers the request: a request changed after signing, or signed over too
little, is refused on json (SageMaker), rest-json (InvokeEndpoint) and rest-xml (S3).

Finding (issue "Contain untrusted model code", part 4): "The signature does not always
cover the request": a DeleteModel signed for one model but sent with another's name
deleted the other; requests that signed no headers and unknown session tokens passed.

AWS pages checked:
- [SIGV4] IAM UG, "Elements of an AWS API request signature" / "Create a signed AWS API
  request": the canonical request holds the hashed payload; host and X-Amz-Date (or
  Date) must be signed; temporary credentials add X-Amz-Security-Token.
- [S3AUTH] S3 API, "Authenticating Requests: Using the Authorization Header (AWS
  Signature Version 4)": x-amz-content-sha256 is required, UNSIGNED-PAYLOAD allowed,
  every x-amz-* header must be in CanonicalHeaders.
- [S3ERR] S3 API, "Error responses": XAmzContentSHA256Mismatch, InvalidToken (400),
  AccessDenied (403).
- [INV] SageMaker Runtime API, InvokeEndpoint; [SMERR] SageMaker API "Common Errors":
  IncompleteSignature (400), InvalidSignatureException / UnrecognizedClientException
  (403) ("The security token included in the request is invalid.").
"""

from __future__ import annotations

import hashlib
import json

import pytest
from raw_requests import Call, send_call, sign

HOST_MSG = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
NOT_SIGNED = "There were headers present in the request which were not signed"
AUTH_CODES = {
    "InvalidSignatureException", "IncompleteSignatureException", "UnrecognizedClientException",
    "MissingAuthenticationTokenException", "SignatureDoesNotMatch", "AccessDenied",
    "InvalidToken", "InvalidAccessKeyId", "AuthorizationHeaderMalformed",
}
BUCKET = "cove-security-tampering"

CALLS = {
    "json": Call(
        "json", "sagemaker", "POST", "/",
        json.dumps({"ModelName": "cove-security-nobody"}).encode(),
        {"X-Amz-Target": "SageMaker.DescribeModel",
         "Content-Type": "application/x-amz-json-1.1"},
    ),
    "rest-json": Call(
        "rest-json", "sagemaker", "POST", "/endpoints/cove-security-nobody/invocations",
        b"1.0,2.0", {"Content-Type": "text/csv"},
    ),
    "rest-xml": Call("rest-xml", "s3", "PUT", f"/{BUCKET}/object", b"original bytes"),
}
PROTOCOLS = list(CALLS)


@pytest.fixture(scope="module", autouse=True)
def bucket(server) -> None:
    server.client("s3").create_bucket(Bucket=BUCKET)


def expect(answer, protocol: str, code: str, status: int) -> None:  # noqa: ANN001
    assert (answer.code(protocol), answer.status) == (code, status), answer.body[:300]


def all_but(headers: dict[str, str], *dropped: str) -> list[str]:
    return [k.lower() for k in [*headers, "host"] if k.lower() not in dropped]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_signed_call_gets_past_authentication(server, protocol: str) -> None:
    # the baseline every tampered variant below differs from in one way only
    call = CALLS[protocol]
    answer = send_call(server, call, sign(server, call))
    assert answer.code(protocol) not in AUTH_CODES, answer.body[:300]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_body_changed_after_signing(server, protocol: str) -> None:
    # [SIGV4] the payload hash is part of the canonical request; [S3ERR] S3 checks the
    # body against the signed x-amz-content-sha256: XAmzContentSHA256Mismatch
    call = CALLS[protocol]
    answer = send_call(server, call, sign(server, call), body=call.body + b"!")
    if protocol == "rest-xml":
        expect(answer, protocol, "XAmzContentSHA256Mismatch", 400)
    else:
        expect(answer, protocol, "InvalidSignatureException", 403)


@pytest.mark.parametrize("protocol", ["json", "rest-json"])
def test_signed_content_sha_claim_does_not_vouch_for_another_body(server, protocol) -> None:
    # The finding's DeleteModel attack: the signature covered an x-amz-content-sha256 of
    # the original body, and the server trusted that claim instead of hashing the body.
    call = CALLS[protocol]
    claim = {"X-Amz-Content-SHA256": hashlib.sha256(call.body).hexdigest()}
    signed = sign(server, Call(**{**call.__dict__, "headers": {**call.headers, **claim}}))
    answer = send_call(server, call, signed, body=call.body + b" ")
    expect(answer, protocol, "InvalidSignatureException", 403)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unsigned_payload_only_for_s3(server, protocol: str) -> None:
    # [S3AUTH] UNSIGNED-PAYLOAD is S3's option; [SIGV4] other services sign the payload
    call = CALLS[protocol]
    unsigned = Call(**{**call.__dict__,
                       "headers": {**call.headers, "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}})
    answer = send_call(server, call, sign(server, unsigned))
    if protocol == "rest-xml":
        assert answer.status == 200, answer.body[:300]
    else:
        expect(answer, protocol, "InvalidSignatureException", 403)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("signed_headers", ["all but host", "none"])
def test_host_must_be_signed(server, protocol: str, signed_headers: str) -> None:
    # [SIGV4] host must be signed; AWS's json services answer with HOST_MSG, S3 with
    # AccessDenied "There were headers present in the request which were not signed"
    call = CALLS[protocol]
    headers = sign(server, call)
    only = all_but(headers, "host", "authorization") if signed_headers != "none" else []
    answer = send_call(server, call, sign(server, call, only=only))
    if protocol == "rest-xml":
        expect(answer, protocol, "AccessDenied", 403)
        assert answer.message(protocol) == NOT_SIGNED
        assert b"<HeadersNotSigned>host</HeadersNotSigned>" in answer.body
    else:
        expect(answer, protocol, "InvalidSignatureException", 403)
        assert answer.message(protocol) == HOST_MSG


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_date_must_be_signed(server, protocol: str) -> None:
    # [SIGV4] X-Amz-Date (or Date) is signed, else a signature could be replayed forever
    call = CALLS[protocol]
    only = all_but(sign(server, call), "x-amz-date", "authorization")
    answer = send_call(server, call, sign(server, call, only=only))
    if protocol == "rest-xml":
        expect(answer, protocol, "AccessDenied", 403)
        assert b"<HeadersNotSigned>x-amz-date</HeadersNotSigned>" in answer.body
    else:
        expect(answer, protocol, "IncompleteSignatureException", 400)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_session_token_cove_did_not_issue(server, protocol: str) -> None:
    # [S3ERR] InvalidToken "The provided token is malformed or otherwise invalid." (400);
    # [SMERR] UnrecognizedClientException "The security token included in the request is
    # invalid." (403). Cove issues no session tokens, so every token is foreign.
    call = CALLS[protocol]
    answer = send_call(server, call, sign(server, call, token="FwoGZXIvYXdzEJr//////////wEa"))
    if protocol == "rest-xml":
        expect(answer, protocol, "InvalidToken", 400)
        assert answer.message(protocol) == "The provided token is malformed or otherwise invalid."
    else:
        expect(answer, protocol, "UnrecognizedClientException", 403)
        assert answer.message(protocol) == "The security token included in the request is invalid."


def test_operation_swapped_after_signing(server) -> None:
    # botocore signs X-Amz-Target (it signs every header but a short blacklist), so the
    # operation is covered; a request whose SignedHeaders leaves it out is refused too.
    call = CALLS["json"]
    headers = sign(server, call)
    assert "x-amz-target" in headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    swapped = {**headers, "X-Amz-Target": "SageMaker.DeleteModel"}
    expect(send_call(server, call, swapped), "json", "InvalidSignatureException", 403)
    only = all_but(headers, "x-amz-target", "authorization")
    unsigned = {**sign(server, call, only=only), "X-Amz-Target": "SageMaker.DeleteModel"}
    expect(send_call(server, call, unsigned), "json", "InvalidSignatureException", 403)


def test_delete_model_cannot_be_redirected_to_another_model(server) -> None:
    # The finding end to end: DeleteModel signed for "mine", sent naming "theirs".
    sm = server.client("sagemaker")
    role = "arn:aws:iam::000000000000:role/cove"
    for name in ("cove-sec-mine", "cove-sec-theirs"):
        sm.create_model(ModelName=name, PrimaryContainer={"Image": "sklearn"},
                        ExecutionRoleArn=role)
    delete = Call("json", "sagemaker", "POST", "/",
                  json.dumps({"ModelName": "cove-sec-mine"}).encode(),
                  {"X-Amz-Target": "SageMaker.DeleteModel",
                   "Content-Type": "application/x-amz-json-1.1"})
    claim = {"X-Amz-Content-SHA256": hashlib.sha256(delete.body).hexdigest()}
    for headers in (sign(server, delete),
                    sign(server, Call(**{**delete.__dict__,
                                         "headers": {**delete.headers, **claim}}))):
        answer = send_call(server, delete, headers, body=b'{"ModelName": "cove-sec-theirs"}')
        expect(answer, "json", "InvalidSignatureException", 403)
    assert sm.describe_model(ModelName="cove-sec-theirs")["ModelName"] == "cove-sec-theirs"
    assert send_call(server, delete, sign(server, delete)).status == 200
