"""SigV4 verification against requests signed by botocore itself."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cove.gateway.messages import PUBLIC_LISTENER, Request, RequestContext
from cove.iam.credentials import CredentialStore
from cove.protocol.sigv4 import AuthFailure, auth_error, verify

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
) -> Request:
    url = f"http://127.0.0.1:8443{path}" + (f"?{query}" if query else "")
    aws = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1",
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
