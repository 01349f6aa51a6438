"""The store's failures as API Gateway's errors: NotFoundException 404, ConflictException
409, BadRequestException 400 (API Gateway API reference, "Common Errors" and each action's
Errors section), with the store's message, which is AWS's text."""

from __future__ import annotations

from cove.apis.failures import ApiFailure, FailureKind
from cove.errors import AwsError

_WIRE: dict[FailureKind, tuple[str, int]] = {
    FailureKind.NOT_FOUND: ("NotFoundException", 404),
    FailureKind.CONFLICT: ("ConflictException", 409),
    FailureKind.BAD_REQUEST: ("BadRequestException", 400),
}


def api_error(failure: ApiFailure) -> AwsError:
    code, status = _WIRE[failure.kind]
    return AwsError(code, failure.message, status)


def bad_request(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)
