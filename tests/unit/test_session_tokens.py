"""Session tokens of temporary credentials: required, compared exactly, and refused once
the credentials expire, each protocol answering in its own words (STS API reference and
S3 API reference, "Common Errors": ExpiredToken / ExpiredTokenException).

The texts are AWS's as clients print them: query APIs "An error occurred (ExpiredToken)
... The security token included in the request is expired"
(https://github.com/aws-samples/aws-iot-twinmaker-samples/issues/147); S3 400
"<Code>ExpiredToken</Code><Message>The provided token has expired.</Message>"
(https://github.com/romange/helio/issues/15, https://github.com/boto/boto/issues/898)."""

from __future__ import annotations

import pytest

from cove.auth.sigv4_errors import AuthFailure, AuthKind, auth_error
from cove.auth.sigv4_rules import check_token

TOKEN = "issued-token"
HEADER = "x-amz-security-token"


def kind_of(headers: dict[str, str], query: str | None, issued: str | None, expires: float | None,
            now: float) -> AuthKind | None:  # fmt: skip
    try:
        check_token(headers, query, issued, expires, now)
    except AuthFailure as failure:
        return failure.kind
    return None


def test_long_term_keys_take_no_token() -> None:
    assert kind_of({}, None, None, None, 0) is None
    assert kind_of({HEADER: "x"}, None, None, None, 0) is AuthKind.INVALID_TOKEN
    assert kind_of({}, "x", None, None, 0) is AuthKind.INVALID_TOKEN


def test_temporary_keys_need_their_token_until_they_expire() -> None:
    assert kind_of({HEADER: TOKEN}, None, TOKEN, 100.0, 99.0) is None
    assert kind_of({}, TOKEN, TOKEN, 100.0, 99.0) is None  # presigned: in the query
    assert kind_of({}, None, TOKEN, 100.0, 99.0) is AuthKind.INVALID_TOKEN
    assert kind_of({HEADER: TOKEN + "x"}, None, TOKEN, 100.0, 99.0) is AuthKind.INVALID_TOKEN
    assert kind_of({HEADER: TOKEN}, None, TOKEN, 100.0, 100.0) is AuthKind.EXPIRED_TOKEN


@pytest.mark.parametrize(
    ("protocol", "code", "status", "message"),
    [
        ("json", "ExpiredTokenException", 403,
         "The security token included in the request is expired"),
        ("query", "ExpiredToken", 403, "The security token included in the request is expired"),
        ("rest-xml", "ExpiredToken", 400, "The provided token has expired."),
    ],
)  # fmt: skip
def test_expired_tokens_in_each_protocols_words(
    protocol: str, code: str, status: int, message: str
) -> None:
    err = auth_error(AuthFailure(AuthKind.EXPIRED_TOKEN), protocol)
    assert (err.code, err.status, err.message) == (code, status, message)
