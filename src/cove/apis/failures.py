"""Why an API Gateway request failed, as the store knows it; the front end turns each kind
into API Gateway's error (NotFoundException 404, ConflictException 409,
BadRequestException 400)."""

from __future__ import annotations

from enum import Enum


class FailureKind(Enum):
    NOT_FOUND = "not found"
    CONFLICT = "conflict"
    BAD_REQUEST = "bad request"


class ApiFailure(Exception):
    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def not_found(message: str) -> ApiFailure:
    return ApiFailure(FailureKind.NOT_FOUND, message)


def conflict(message: str) -> ApiFailure:
    return ApiFailure(FailureKind.CONFLICT, message)


def bad_request(message: str) -> ApiFailure:
    return ApiFailure(FailureKind.BAD_REQUEST, message)
