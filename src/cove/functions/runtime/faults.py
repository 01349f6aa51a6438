"""Lambda's error documents for Python functions, and how they appear in the log.

As the Python runtime (awslambdaric, `bootstrap.py`, `lambda_runtime_exception.py`) makes
them: an exception raised by the handler answers
`{"errorMessage": str(exc), "errorType": <class name>, "requestId": <id>, "stackTrace":
[<traceback.format_list lines, the runtime's own frames left out>]}`; a handler that cannot
be loaded answers a `Runtime.*` fault with an empty requestId. The log gets one event for
the error: `[ERROR] <type>: <message>`, then `Traceback (most recent call last):` and the
trace's lines indented with no-break spaces, the lines joined with carriage returns.

What the platform itself answers (a timeout, a process that died) is in `platform_error`.
Standard library only: the bootstrap imports it.
"""

from __future__ import annotations

import json
import os
from enum import Enum
from typing import Any

LINE_SEPARATOR = "\r"  # within one log event, as the Python runtime joins an error's lines
INDENT = "\u00a0"  # no-break space: the runtime's indentation of a trace in the log
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


class FaultType(Enum):
    IMPORT_MODULE = "Runtime.ImportModuleError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    MALFORMED_HANDLER = "Runtime.MalformedHandlerName"
    BUILT_IN_MODULE = "Runtime.BuiltInModuleConflict"
    SYNTAX = "Runtime.UserCodeSyntaxError"
    MARSHAL = "Runtime.MarshalError"
    UNMARSHAL = "Runtime.UnmarshalError"


class Fault(Exception):
    """A failure of the runtime's own making (loading the handler, (un)marshalling).
    (Not a dataclass: importing dataclasses would cost every cold start ~10 ms.)"""

    def __init__(self, kind: FaultType, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.trace = trace or []

    def document(self, request_id: str = "") -> dict[str, Any]:
        return error_document(self.message, self.kind.value, self.trace, request_id)


def error_document(
    message: str, error_type: str, trace: list[str], request_id: str
) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": trace,
    }


def exception_document(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The handler raised `exc`: its document, the frames of this package left out."""
    import traceback  # only once something failed: it costs a cold start milliseconds

    frames = traceback.extract_tb(exc.__traceback__)
    while frames and os.path.dirname(os.path.abspath(frames[0].filename)) == _OWN_DIR:
        frames.pop(0)
    # as plain (file, line, name, text) tuples, as the runtime formats them: no carets
    plain = [(f.filename, f.lineno, f.name, f.line) for f in frames]
    return error_document(str(exc), type(exc).__name__, traceback.format_list(plain), request_id)


def error_log_event(document: dict[str, Any]) -> str:
    """The log event the Python runtime writes for an error document."""
    head = "[ERROR]"
    if document.get("errorType"):
        head += " " + document["errorType"]
    if document.get("errorMessage"):
        head += (":" if document.get("errorType") else "") + " " + document["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in document.get("stackTrace") or []:
        lines += [_indent(line) for line in element.splitlines()] if element else [""]
    return LINE_SEPARATOR.join(lines) + "\n"


def _indent(line: str) -> str:
    stripped = line.lstrip(" ")
    return INDENT * (len(line) - len(stripped)) + stripped


def to_json(value: Any) -> bytes:
    """The runtime's encoding of results and error documents (json's default separators,
    ASCII escapes)."""
    return json.dumps(value).encode()


# -- what the platform answers ----------------------------------------------------------
def timestamp(at: float) -> str:
    """`2020-11-10T05:46:57.874Z`, as the platform stamps its own log lines."""
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def timed_out_message(request_id: str, seconds: float, at: float) -> str:
    # "2020-11-10T05:46:57.874Z 160788cd-... Task timed out after 3.07 seconds"
    return f"{timestamp(at)} {request_id} Task timed out after {seconds:.2f} seconds"


def exit_reason(returncode: int) -> str:
    """How the platform (written in Go) says why the runtime's process ended."""
    if returncode < 0:
        import signal

        try:
            name = signal.strsignal(-returncode) or f"signal {-returncode}"
        except ValueError:
            name = f"signal {-returncode}"
        return f"signal: {name.lower()}"
    return f"exit status {returncode}"


def exited_message(request_id: str, reason: str) -> str:
    return f"RequestId: {request_id} Error: Runtime exited with error: {reason}"


EXIT_ERROR = "Runtime.ExitError"


def platform_error(message: str, error_type: str | None = None) -> bytes:
    """The platform's own error payloads are compact, errorType first."""
    document = (
        {"errorType": error_type, "errorMessage": message}
        if error_type
        else {"errorMessage": message}
    )
    return json.dumps(document, separators=(",", ":")).encode()
