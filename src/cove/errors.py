"""AWS-shaped errors: raised anywhere, serialized by the protocol that received the request."""

from __future__ import annotations

from typing import Any


class AwsError(Exception):
    """An error the client sees as `code` with `message` and HTTP `status`.

    `fields` are extra members of the error body (e.g. ModelError's OriginalStatusCode);
    `headers` are extra response headers.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        sender_fault: bool = True,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}
        self.headers = headers or {}
        self.sender_fault = sender_fault

    def __repr__(self) -> str:
        return f"AwsError({self.code!r}, {self.message!r}, {self.status})"


def validation_error(message: str) -> AwsError:
    """SageMaker's control plane answers almost every bad request with this."""
    return AwsError("ValidationException", message)


def resource_not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFound", message)


def resource_in_use(message: str) -> AwsError:
    return AwsError("ResourceInUse", message)


def resource_limit_exceeded(message: str) -> AwsError:
    return AwsError("ResourceLimitExceeded", message)


def internal_error(message: str = "An internal error occurred.") -> AwsError:
    return AwsError("InternalFailure", message, 500, sender_fault=False)
