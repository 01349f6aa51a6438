"""Presigned URLs (SigV4 query-string auth) on json, rest-json and rest-xml.

Finding (issue "Contain untrusted model code", part 4): "A presigned SageMaker URL with a
three-year expiry was accepted (AWS's maximum is 7 days)"; look-alike and duplicate auth
parameters answered 500.

AWS pages checked:
- [S3Q] S3 API, "Authenticating Requests: Using Query Parameters (AWS Signature Version
  4)": X-Amz-Expires from 1 to 604800 seconds; the payload is UNSIGNED-PAYLOAD.
- [S3ERR] S3 API, "Error responses": AuthorizationQueryParametersError (400),
  AccessDenied (403), InvalidArgument (400).
- [SIGV4] IAM UG, "Create a signed AWS API request" (query-string signing): the
  canonical request of other services carries the payload's hash.
S3's texts "X-Amz-Expires must be less than a week (in seconds); that is, the given
X-Amz-Expires must be less than 604800 seconds" and "Request is not yet valid" are the
ones S3 answers with (quoted in aws/aws-cli#5464 and minio/minio#2638).
"""

from __future__ import annotations

import datetime as dt

import botocore.auth
import pytest
from raw_requests import Call, presign, send

BUCKET = "cove-security-presigned"
CALLS = {
    "json": Call("json", "sagemaker", "POST", "/",
                 headers={"X-Amz-Target": "SageMaker.ListModels"}),
    "rest-json": Call("rest-json", "sagemaker", "POST",
                      "/endpoints/cove-security-nobody/invocations"),
    "rest-xml": Call("rest-xml", "s3", "GET", f"/{BUCKET}/object"),
}
PROTOCOLS = list(CALLS)
TOO_LONG = (
    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
    "must be less than 604800 seconds"
)


@pytest.fixture(scope="module", autouse=True)
def bucket(server) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="object", Body=b"presigned bytes")


def fetch(server, call: Call, url: str, body: bytes = b""):  # noqa: ANN001, ANN201
    return send(server, call.method, url, dict(call.headers), body)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_week_is_the_longest_expiry(server, protocol: str) -> None:
    call = CALLS[protocol]
    ok = fetch(server, call, presign(server, call, expires=604800))
    assert ok.code(protocol) not in ("AuthorizationQueryParametersError",
                                     "IncompleteSignatureException"), ok.body[:300]
    if protocol == "rest-xml":
        assert (ok.status, ok.body) == (200, b"presigned bytes")
    for expires in (604801, 3 * 365 * 86400):  # the finding: three years
        answer = fetch(server, call, presign(server, call, expires=expires))
        assert answer.status == 400, answer.body[:300]
        assert answer.message(protocol) == TOO_LONG
        assert answer.code(protocol) == (
            "AuthorizationQueryParametersError" if protocol == "rest-xml"
            else "IncompleteSignatureException"
        )


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_url_dated_in_the_future(server, monkeypatch, protocol: str) -> None:
    call = CALLS[protocol]
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=2)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: later)
    answer = fetch(server, call, presign(server, call))
    if protocol == "rest-xml":
        assert (answer.code(protocol), answer.status) == ("AccessDenied", 403)
        assert answer.message(protocol) == "Request is not yet valid"
    else:
        assert (answer.code(protocol), answer.status) == ("InvalidSignatureException", 403)
        assert answer.message(protocol).startswith("Signature not yet current")


def test_presigned_call_outside_s3_cannot_carry_a_body(server) -> None:
    # [SIGV4] botocore's query signer signs the (empty) body's hash for SageMaker; a
    # body added to the URL afterwards is not covered, so it is refused.
    call = CALLS["json"]
    url = presign(server, call)
    assert fetch(server, call, url).status == 200
    answer = fetch(server, call, url, body=b'{"NameContains": "x"}')
    assert (answer.code("json"), answer.status) == ("InvalidSignatureException", 403)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("extra", [
    "X-Amz-Signature=0000", "X-Amz-Expires=1", "X-Amz-Credential=AKIA%2Fx",
    "X-Amz-Date=20200101T000000Z",
])
def test_auth_parameter_given_twice(server, protocol: str, extra: str) -> None:
    # a second copy could be read by one party and not the other: 400, never 500
    call = CALLS[protocol]
    answer = fetch(server, call, presign(server, call) + "&" + extra)
    assert answer.status == 400, answer.body[:300]
    assert answer.code(protocol) == (
        "AuthorizationQueryParametersError" if protocol == "rest-xml"
        else "IncompleteSignatureException"
    )


@pytest.mark.parametrize(
    "extra", ["AWSAccessKeyId={key}", "Signature=x&Expires=1&AWSAccessKeyId={key}"]
)
def test_sigv2_look_alikes_on_a_sigv4_url(server, extra: str) -> None:
    # X-Amz-Signature and X-Amz-Expires contain "Signature=" and "Expires=": the URL must
    # not be taken for SigV2 query auth (it answered 500 looking for Expires)
    call = CALLS["rest-xml"]
    url = presign(server, call) + "&" + extra.format(key=server.credentials()[0])
    answer = fetch(server, call, url)
    assert 400 <= answer.status < 500, answer.body[:300]


def test_header_and_query_auth_together(server) -> None:
    # [S3ERR] InvalidArgument "Only one auth mechanism allowed; ..."
    call = CALLS["rest-xml"]
    url = presign(server, call)
    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=x/20200101/us-east-1/s3/"
                                "aws4_request, SignedHeaders=host, Signature=00"}
    answer = send(server, "GET", url, headers)
    assert (answer.code("rest-xml"), answer.status) == ("InvalidArgument", 400)
    assert answer.message("rest-xml").startswith("Only one auth mechanism allowed")
