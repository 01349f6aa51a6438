"""How a training job fails: SageMaker prefixes FailureReason with who must act."""

from __future__ import annotations


class ClientError(Exception):
    """The job's configuration or data is wrong; the message says what to fix."""

    prefix = "ClientError"


class AlgorithmError(Exception):
    """The algorithm itself failed on valid input."""

    prefix = "AlgorithmError"


def failure_reason(exc: BaseException) -> str:
    prefix = getattr(exc, "prefix", "AlgorithmError")
    return f"{prefix}: {exc}"
