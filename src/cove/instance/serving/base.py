"""The interface every in-process serving stack implements inside an instance worker."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ModelInvocationError(Exception):
    """The model refused or failed a request; becomes InvokeEndpoint's ModelError (424)
    with this `status` as OriginalStatusCode and `message` as OriginalMessage."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ModelHandler(Protocol):
    """Loaded once per instance process; `invoke` runs once per request.

    Construction loads the model from `model_dir` (laid out like /opt/ml/model) and
    raises on failure, which fails the instance's health check with that message.
    Any exception from `invoke` other than ModelInvocationError is reported as a
    500 from the model.
    """

    def __init__(self, model_dir: Path, environment: dict[str, str]) -> None: ...

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        """Return (response body, response content type)."""
        ...
