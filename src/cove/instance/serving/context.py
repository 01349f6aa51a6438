"""The per-request context an in-process stack sees besides body and content types.

It carries the request's CustomAttributes in and lets model code set the response's
CustomAttributes (SageMaker forwards neither unless the model does). Inference-toolkit
style hooks that take one extra `context` argument receive this object; it offers the
model-server accessors such scripts use (`get_request_header`, `set_response_header`).
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass, field

from cove.http.header_values import is_field_value, is_token, is_visible_ascii

log = logging.getLogger(__name__)

CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
# InvokeEndpoint's CustomAttributes: "no more than 1024 visible US-ASCII characters"
MAX_CUSTOM_ATTRIBUTES = 1024


@dataclass
class InvocationContext:
    request_headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    response_headers: dict[str, str] = field(default_factory=dict)
    model_dir: str = ""

    @property
    def custom_attributes(self) -> str | None:
        return self.request_headers.get(CUSTOM_ATTRIBUTES.lower())

    def set_custom_attributes(self, value: str) -> None:
        self.set_response_header(0, CUSTOM_ATTRIBUTES, value)

    # model-server style accessors (the index is the request's position in a batch)
    def get_request_header(self, idx: int, key: str) -> str | None:
        return self.request_headers.get(key.lower())

    def set_response_header(self, idx: int, key: str, value: str) -> None:
        """Model code chooses these, so they are checked here, where they enter:
        CustomAttributes must be at most 1024 visible US-ASCII characters, and no
        header may carry what HTTP cannot (a CR or LF would start another header)."""
        if key.lower() == CUSTOM_ATTRIBUTES.lower():
            valid = is_visible_ascii(value, MAX_CUSTOM_ATTRIBUTES)
            key = CUSTOM_ATTRIBUTES
        else:
            valid = is_token(key) and is_field_value(value)
        if not valid:
            log.warning("model code set an invalid %s response header; dropped", key[:64])
            return
        self.response_headers[key] = value

    @property
    def system_properties(self) -> dict[str, str]:
        return {"model_dir": self.model_dir}


_current: contextvars.ContextVar[InvocationContext] = contextvars.ContextVar("invocation")


def current() -> InvocationContext:
    """The context of the request being served (an empty one outside a request)."""
    try:
        return _current.get()
    except LookupError:
        return InvocationContext()


def enter(ctx: InvocationContext) -> contextvars.Token[InvocationContext]:
    return _current.set(ctx)


def leave(token: contextvars.Token[InvocationContext]) -> None:
    _current.reset(token)
