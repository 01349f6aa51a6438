"""The lines Lambda writes around each invocation, and how a worker's output becomes log
events (Lambda Developer Guide, "Log and monitor Python Lambda functions"; the REPORT
fields are tab-separated):

    START RequestId: <id> Version: <version>
    END RequestId: <id>
    REPORT RequestId: <id>\tDuration: 15.74 ms\tBilled Duration: 147 ms\tMemory Size: 128 MB
        \tMax Memory Used: 56 MB\tInit Duration: 130.49 ms

Init Duration appears on a worker's first invocation only, and Billed Duration is the
duration plus the init duration, rounded up to the millisecond (the guide's example:
15.74 + 130.49 -> 147). Each line of output is one event, its newline kept. A worker's
stream is `YYYY/MM/DD/[<version>]<32 hex digits>`, dated when the worker starts.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass


def log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def log_stream(version: str, at: float) -> str:
    return time.strftime("%Y/%m/%d/", time.gmtime(at)) + f"[{version}]{secrets.token_hex(16)}"


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    memory_mb: int
    max_memory_used_mb: int
    init_ms: float | None = None

    def line(self) -> str:
        billed = math.ceil(self.duration_ms + (self.init_ms or 0.0))
        fields = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {max(billed, 1)} ms",
            f"Memory Size: {self.memory_mb} MB",
            f"Max Memory Used: {self.max_memory_used_mb} MB",
        ]
        if self.init_ms is not None:
            fields.append(f"Init Duration: {self.init_ms:.2f} ms")
        return "\t".join(fields) + "\n"


def events(text: str, at_ms: int) -> list[tuple[int, str]]:
    """One event per line, split at newlines only (an error's event holds carriage
    returns); a last line without its newline is one too."""
    lines = text.split("\n")
    found = [(at_ms, line + "\n") for line in lines[:-1]]
    if lines[-1]:
        found.append((at_ms, lines[-1]))
    return found
