"""The errors InvokeEndpoint answers with, worded like SageMaker Runtime's."""

from __future__ import annotations

from pathlib import Path

from cove.errors import AwsError

MAX_BODY = 6 * 1024 * 1024  # InvokeEndpoint's payload limit: 6 MB
CONTAINER = "primary"  # what SageMaker calls a single-container variant's container
ORIGINAL_MESSAGE_CHARS = 4096


def validation(message: str, status: int = 400) -> AwsError:
    return AwsError("ValidationError", message, status)


def endpoint_not_found(name: str, account: str) -> AwsError:
    return validation(f"Endpoint {name} of account {account} not found.")


def endpoint_not_in_service(name: str, account: str, status: str | None) -> AwsError:
    return validation(
        f"Endpoint {name} of account {account} is not in service "
        f"(its status is {status or 'unknown'}); it takes invocations once it is InService."
    )


def body_too_large(size: int) -> AwsError:
    """SageMaker Runtime's own words for a body over the limit, whatever its size."""
    return validation(f"HTTP content length exceeded {MAX_BODY} bytes", 413)


def unknown_variant(variant: str, endpoint: str) -> AwsError:
    return validation(f"The variant {variant} does not exist for endpoint {endpoint}.")


def no_traffic(endpoint: str) -> AwsError:
    return validation(
        f"Endpoint {endpoint} has no production variant with a weight above 0; "
        "name one with TargetVariant."
    )


def no_healthy_instance(endpoint: str, variant: str) -> AwsError:
    return AwsError(
        "ServiceUnavailable",
        f"No healthy instance of production variant {variant} of endpoint {endpoint} "
        "is available; try again.",
        503,
        sender_fault=False,
    )


def still_restoring(endpoint: str) -> AwsError:
    """InService, but its instances are not back yet after a restart: retryable (botocore
    retries 503), unlike the 400 an endpoint that is not in service gets."""
    return AwsError(
        "ServiceUnavailable",
        f"Endpoint {endpoint} is InService and its instances are still starting after a "
        "server restart; try again.",
        503,
        sender_fault=False,
    )


def _model_error(status: int | None, original: str, log_arn: str, log_path: Path) -> AwsError:
    kind = "client" if status is not None and 400 <= status < 500 else "server"
    shown = status if status is not None else 0
    fields: dict[str, object] = {"OriginalMessage": original, "LogStreamArn": log_arn}
    if status is not None:
        fields["OriginalStatusCode"] = status
    return AwsError(
        "ModelError",
        f'Received {kind} error ({shown}) from {CONTAINER} with message "{original}". '
        f"See the instance log {log_path} for more information.",
        424,
        fields=fields,
    )


def model_error(status: int, body: bytes, log_arn: str, log_path: Path) -> AwsError:
    original = body[:ORIGINAL_MESSAGE_CHARS].decode("utf-8", "replace")
    return _model_error(status, original, log_arn, log_path)


def model_timeout(log_arn: str, log_path: Path) -> AwsError:
    return _model_error(
        None,
        f"Your invocation timed out while waiting for a response from container {CONTAINER}. "
        "Review the latency of your model, resolve the issue, and try again.",
        log_arn,
        log_path,
    )


def model_crashed(log_arn: str, log_path: Path) -> AwsError:
    return _model_error(
        None,
        f"Container {CONTAINER} closed the connection without answering (it may have crashed).",
        log_arn,
        log_path,
    )
