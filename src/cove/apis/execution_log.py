"""One request's lines in its stage's execution log, `API-Gateway-Execution-Logs_<api
id>/<stage>`, written only as the method's setting asks (Developer Guide, "Execution
logging for REST APIs": the group, loggingLevel ERROR or INFO, events cut at 1 KB; API
Reference, MethodSetting: "Choose ERROR to write only error-level entries to CloudWatch
Logs, or choose INFO to include all ERROR events as well as extra informational events";
dataTraceEnabled adds the request and response data). Each line starts with the request
id in parentheses, as API Gateway's do; with no setting, or OFF, nothing is written."""

from __future__ import annotations

import secrets
import time

from cove.apis.method_settings import LoggingLevel, MethodSetting, logging_level
from cove.functions.contracts import LogSink

MAX_EVENT_BYTES = 1024
_CUT = " [TRUNCATED]"
_REDACTED = {"authorization", "x-amz-security-token", "x-api-key"}


def group_of(api_id: str, stage: str) -> str:
    return f"API-Gateway-Execution-Logs_{api_id}/{stage}"


def headers_text(headers: dict[str, str]) -> str:
    """Headers as API Gateway logs them, `{Name=value, ...}`, credentials masked."""
    shown = (f"{k}={'*' * 10 if k.lower() in _REDACTED else v}" for k, v in headers.items())
    return "{" + ", ".join(shown) + "}"


def _cut(text: str) -> str:
    data = text.encode()
    if len(data) <= MAX_EVENT_BYTES:
        return text
    return data[: MAX_EVENT_BYTES - len(_CUT)].decode(errors="ignore") + _CUT


class ExecutionLog:
    def __init__(
        self,
        sink: LogSink | None,
        api_id: str,
        stage: str,
        request_id: str,
        setting: MethodSetting | None,
    ) -> None:
        self.sink = sink
        self.group = group_of(api_id, stage)
        self.request_id = request_id
        self.level = logging_level(setting)
        self.data_trace = setting is not None and setting.data_trace_enabled
        self.failed = False  # an error-level line was written
        self.lines: list[tuple[int, str]] = []

    @property
    def enabled(self) -> bool:
        return self.sink is not None and self.level is not LoggingLevel.OFF

    @property
    def verbose(self) -> bool:
        """INFO lines are kept: worth building them (the hot path skips them otherwise)."""
        return self.enabled and self.level is LoggingLevel.INFO

    def info(self, message: str) -> None:
        if self.enabled and self.level is LoggingLevel.INFO:
            self._add(message)

    def data(self, message: str) -> None:
        """Request or response data: with dataTraceEnabled only."""
        if self.data_trace:
            self.info(message)

    def error(self, message: str) -> None:
        self.failed = True
        if self.enabled:
            self._add(message)

    def completed(self, status: int) -> None:
        """The last line: informational, and an error-level one after a failure."""
        if self.failed:
            self.error(f"Method completed with status: {status}")
        else:
            self.info("Successfully completed execution")
            self.info(f"Method completed with status: {status}")

    def flush(self) -> None:
        if self.lines and self.sink is not None:
            # the stream: one per request, named as API Gateway names its (a hex id)
            self.sink.put(self.group, secrets.token_hex(16), self.lines)
        self.lines = []

    def _add(self, message: str) -> None:
        self.lines.append((int(time.time() * 1000), _cut(f"({self.request_id}) {message}")))
