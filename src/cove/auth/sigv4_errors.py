"""What each SigV4 failure looks like on each protocol: AWS's code, message and status.

The codes and texts are AWS's own (see tests/security for the page each was checked
against); where AWS documents none for a protocol, the nearest documented one is used.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cove.errors import AwsError


class AuthKind(StrEnum):
    MISSING = "missing"  # no signature at all
    MALFORMED = "malformed"  # Authorization header that cannot be parsed
    QUERY_MALFORMED = "query_malformed"  # presigned-URL parameters that cannot be parsed
    TWO_MECHANISMS = "two_mechanisms"  # Authorization header and query auth together
    UNKNOWN_KEY = "unknown_key"
    INVALID_TOKEN = "invalid_token"  # a session token Cove did not issue
    EXPIRED_TOKEN = "expired_token"  # temporary credentials past their expiration
    HOST_UNSIGNED = "host_unsigned"
    DATE_MISSING = "date_missing"  # neither X-Amz-Date nor Date, or the one given unsigned
    HEADERS_UNSIGNED = "headers_unsigned"  # x-amz-* headers outside SignedHeaders
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"  # header auth outside the 15-minute window
    PRESIGN_EXPIRED = "presign_expired"
    PRESIGN_NOT_YET = "presign_not_yet"  # presigned URL dated in the future
    PRESIGN_TOO_LONG = "presign_too_long"  # X-Amz-Expires over 7 days


class AuthFailure(Exception):
    """Why a request's signature was refused; `fields` go into S3's error document."""

    def __init__(self, kind: AuthKind, detail: str = "", fields: dict[str, Any] | None = None):
        super().__init__(kind)
        self.kind = kind
        self.detail = detail
        self.fields = fields or {}


BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
BAD_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"
HOST_UNSIGNED = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
DATE_MISSING = (
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
)
S3_DATE_MISSING = "AWS authentication requires a valid Date or x-amz-date header"
TOO_LONG = (
    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
    "must be less than 604800 seconds"
)
NOT_SIGNED = "There were headers present in the request which were not signed"
ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
    "query string parameter or the Authorization header should be specified"
)

K = AuthKind
# kind -> (code, message, status); "{detail}" is the failure's own text
_JSON: dict[AuthKind, tuple[str, str, int]] = {
    K.MISSING: ("MissingAuthenticationTokenException", "Missing Authentication Token", 403),
    K.MALFORMED: ("IncompleteSignatureException", "{detail}", 400),
    K.QUERY_MALFORMED: ("IncompleteSignatureException", "{detail}", 400),
    K.TWO_MECHANISMS: ("IncompleteSignatureException", ONE_MECHANISM, 400),
    K.UNKNOWN_KEY: ("UnrecognizedClientException", BAD_TOKEN, 403),
    K.INVALID_TOKEN: ("UnrecognizedClientException", BAD_TOKEN, 403),
    K.EXPIRED_TOKEN: ("ExpiredTokenException", EXPIRED_TOKEN, 403),
    K.HOST_UNSIGNED: ("InvalidSignatureException", HOST_UNSIGNED, 403),
    K.DATE_MISSING: ("IncompleteSignatureException", DATE_MISSING, 400),
    K.HEADERS_UNSIGNED: ("InvalidSignatureException", "{detail}", 403),
    K.BAD_SIGNATURE: ("InvalidSignatureException", BAD_SIGNATURE, 403),
    K.EXPIRED: ("InvalidSignatureException", "{detail}", 403),
    K.PRESIGN_EXPIRED: ("InvalidSignatureException", "Signature expired: {detail}", 403),
    K.PRESIGN_NOT_YET: ("InvalidSignatureException", "{detail}", 403),
    K.PRESIGN_TOO_LONG: ("IncompleteSignatureException", TOO_LONG, 400),
}

_S3: dict[AuthKind, tuple[str, str, int]] = {
    K.MISSING: ("AccessDenied", "Access Denied", 403),
    K.MALFORMED: ("AuthorizationHeaderMalformed", "{detail}", 400),
    K.QUERY_MALFORMED: ("AuthorizationQueryParametersError", "{detail}", 400),
    K.TWO_MECHANISMS: ("InvalidArgument", ONE_MECHANISM, 400),
    K.UNKNOWN_KEY: (
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        403,
    ),
    K.INVALID_TOKEN: ("InvalidToken", "The provided token is malformed or otherwise invalid.", 400),
    K.EXPIRED_TOKEN: ("ExpiredToken", "The provided token has expired.", 400),
    K.HOST_UNSIGNED: ("AccessDenied", NOT_SIGNED, 403),
    K.DATE_MISSING: ("AccessDenied", S3_DATE_MISSING, 403),
    K.HEADERS_UNSIGNED: ("AccessDenied", NOT_SIGNED, 403),
    K.BAD_SIGNATURE: (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
    ),
    K.EXPIRED: (
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        403,
    ),
    K.PRESIGN_EXPIRED: ("AccessDenied", "Request has expired", 403),
    K.PRESIGN_NOT_YET: ("AccessDenied", "Request is not yet valid", 403),
    K.PRESIGN_TOO_LONG: ("AuthorizationQueryParametersError", TOO_LONG, 400),
}

_QUERY: dict[AuthKind, tuple[str, str, int]] = {
    **{
        kind: ("IncompleteSignature", text, status)
        for kind, (code, text, status) in _JSON.items()
        if code == "IncompleteSignatureException"
    },
    K.MISSING: ("MissingAuthenticationToken", "Request is missing Authentication Token", 403),
    K.UNKNOWN_KEY: ("InvalidClientTokenId", BAD_TOKEN, 403),
    K.INVALID_TOKEN: ("InvalidClientTokenId", BAD_TOKEN, 403),
    K.EXPIRED_TOKEN: ("ExpiredToken", EXPIRED_TOKEN, 403),
    K.HOST_UNSIGNED: ("SignatureDoesNotMatch", HOST_UNSIGNED, 403),
    K.HEADERS_UNSIGNED: ("SignatureDoesNotMatch", "{detail}", 403),
    K.BAD_SIGNATURE: ("SignatureDoesNotMatch", BAD_SIGNATURE, 403),
    K.EXPIRED: ("SignatureDoesNotMatch", "{detail}", 403),
    K.PRESIGN_EXPIRED: ("SignatureDoesNotMatch", "Signature expired: {detail}", 403),
    K.PRESIGN_NOT_YET: ("SignatureDoesNotMatch", "{detail}", 403),
}

# EC2 refuses a key it does not know with its own code, HTTP 401 (EC2 API reference, "Common
# client error codes": "AuthFailure: The provided credentials could not be validated"; the
# text and status as EC2 sends them, https://github.com/aws/aws-sdk-java-v2/issues/2981,
# https://github.com/hashicorp/packer/issues/10302); the rest as the query services.
_EC2: dict[AuthKind, tuple[str, str, int]] = {
    **_QUERY,
    K.UNKNOWN_KEY: ("AuthFailure", "AWS was not able to validate the provided access credentials",
                    401),
}  # fmt: skip

_TABLES = {"json": _JSON, "rest-json": _JSON, "rest-xml": _S3, "query": _QUERY, "ec2": _EC2}


def auth_error(failure: AuthFailure, protocol: str) -> AwsError:
    code, message, status = _TABLES[protocol][failure.kind]
    fields = failure.fields if protocol == "rest-xml" else None
    return AwsError(code, message.format(detail=failure.detail), status, fields=fields)
