"""SigV4 verification against requests signed by botocore itself."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cove.gateway.messages import PUBLIC_LISTENER, Request, RequestContext
from cove.iam.credentials import CredentialStore
from cove.protocol.sigv4 import (
    _PLAIN_PATH,
    AuthFailure,
    _botocore_signature,
    _plain_signature,
    auth_error,
    parse_signature,
    verify,
)

KEY, SECRET = "AKIATESTTESTTESTTEST", "s3cr3t/s3cr3t+s3cr3t/s3cr3t+s3cr3t/abcd"


@pytest.fixture
def store() -> CredentialStore:
    s = CredentialStore("000000000000")
    s.add_admin(KEY, SECRET)
    return s


def signed(
    body: bytes = b'{"EndpointName": "e"}',
    secret: str = SECRET,
    key: str = KEY,
    service: str = "sagemaker",
    path: str = "/",
    query: str = "",
    headers: dict[str, str] | None = None,
) -> Request:
    url = f"http://127.0.0.1:8443{path}" + (f"?{query}" if query else "")
    aws = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers=headers or {"Content-Type": "application/x-amz-json-1.1",
                            "X-Amz-Target": "SageMaker.DescribeEndpoint"},
    )
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(Credentials(key, secret), service, "us-east-1").add_auth(aws)
    headers = {k.lower(): v for k, v in aws.headers.items()}
    headers["host"] = "127.0.0.1:8443"
    ctx = RequestContext(listener=PUBLIC_LISTENER, source_ip="127.0.0.1")
    return Request("POST", path, query, headers, body, ctx)


def kind_of(req: Request, store: CredentialStore, **kw) -> str:
    with pytest.raises(AuthFailure) as info:
        verify(req, store, **kw)
    return info.value.kind


def test_valid_signature_gives_the_principal(store: CredentialStore) -> None:
    cred = verify(signed(), store)
    assert cred.principal.arn == "arn:aws:iam::000000000000:root"


def test_valid_signature_with_encoded_path_and_query(store: CredentialStore) -> None:
    req = signed(path="/bucket/some%20key%2Bplus", query="list-type=2&prefix=a%2Fb", service="s3")
    assert verify(req, store).access_key == KEY


PLAIN_SHAPES = [
    {},
    {"path": "/endpoints/my-endpoint-1/invocations", "body": b"1.0,2.0\n3.5,4"},
    {"path": "/endpoints/e/invocations", "body": b""},
    {"path": "/a_b/c~d/e.f/", "headers": {"Content-Type": "text/csv",
                                          "X-Amzn-SageMaker-Custom-Attributes": "  a   b ,c  ",
                                          "Accept": "application/json"}},
    {"headers": {"Content-Type": "application/json", "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}},
    {"headers": {"Content-Type": "application/json",
                 "X-Amz-Content-SHA256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4"
                                         "95991b7852b855"}, "body": b""},
]


@pytest.mark.parametrize("shape", PLAIN_SHAPES)
def test_direct_signature_equals_botocore_for_plain_requests(store, shape) -> None:
    req = signed(**shape)
    parts = parse_signature(req)
    assert _PLAIN_PATH.fullmatch(req.path)
    assert _plain_signature(req, parts, SECRET) == _botocore_signature(req, parts, SECRET)
    assert verify(req, store).access_key == KEY
    req.headers["content-type"] += "; charset=utf-8"  # any change to what was signed
    assert _plain_signature(req, parts, SECRET) == _botocore_signature(req, parts, SECRET)
    assert kind_of(req, store) == "bad_signature"


@pytest.mark.parametrize("path", ["/a/./b", "/a//b", "/a/../b", "/.well-known/x",
                                  "/endpoints/some%20name/invocations", "/a/b c"])
def test_other_paths_take_botocore_and_verify(store, path) -> None:
    req = signed(path=path)
    assert not _PLAIN_PATH.fullmatch(req.path)
    assert verify(req, store).access_key == KEY


def test_wrong_secret(store: CredentialStore) -> None:
    assert kind_of(signed(secret="wrong"), store) == "bad_signature"


def test_unknown_access_key(store: CredentialStore) -> None:
    assert kind_of(signed(key="AKIANOBODYNOBODYNOBO"), store) == "unknown_key"


def test_tampered_body(store: CredentialStore) -> None:
    req = signed()
    req.body = b'{"EndpointName": "other"}'
    assert kind_of(req, store) == "bad_signature"


def test_missing_signature(store: CredentialStore) -> None:
    req = signed()
    del req.headers["authorization"]
    assert kind_of(req, store) == "missing"


def test_clock_skew_beyond_15_minutes(store: CredentialStore) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    assert kind_of(signed(), store, now=later) == "expired"
    # within the window it verifies
    assert verify(signed(), store, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=14))


def test_error_codes_per_protocol() -> None:
    failure = AuthFailure("bad_signature")
    assert auth_error(failure, "json").code == "InvalidSignatureException"
    assert auth_error(failure, "rest-xml").code == "SignatureDoesNotMatch"
    assert auth_error(AuthFailure("missing"), "json").status == 403
    assert auth_error(AuthFailure("expired"), "rest-xml").code == "RequestTimeTooSkewed"


def test_secret_is_not_in_repr(store: CredentialStore) -> None:
    cred = store.get(KEY)
    assert SECRET not in repr(cred)
