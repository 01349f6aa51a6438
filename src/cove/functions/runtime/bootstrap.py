"""`python -P -m cove.functions.runtime.bootstrap NONCE RLIMIT PARENT`: the process a
function worker runs, inside its sandbox (Lambda's runtime interface client, in-process).

It takes the frames channel off stdin and stdout (see `protocol`), leaving the handler's
fd 0 on /dev/null and fds 1 and 2 on the log pipe. Then, as Lambda's Init phase, it imports
the handler from LAMBDA_TASK_ROOT (/var/task) and says `ready` (or the fault, and exits 1,
as the Python runtime does after an init error); then it serves one event at a time until
its stdin closes. After each phase it flushes the output and writes the marker that cuts
the log stream into invocations. Standard library only, imported lazily where it can: this
is the cold start.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any, BinaryIO

from cove.functions.runtime import protocol
from cove.functions.runtime.context import LambdaContext
from cove.functions.runtime.faults import (
    Fault,
    FaultType,
    error_log_event,
    exception_document,
    to_json,
)
from cove.functions.runtime.handler import Handler, load


class Channel:
    def __init__(self, requests: BinaryIO, answers: BinaryIO, nonce: str) -> None:
        self.requests = requests
        self.answers = answers
        self.marker = protocol.marker(nonce)

    def send(self, header: dict[str, Any], body: bytes = b"") -> None:
        """End the phase's output with the marker, then answer."""
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(1, self.marker)
        self.answers.write(protocol.encode({**header, "rss_kb": _max_rss_kb()}, body))
        self.answers.flush()


def _max_rss_kb() -> int:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def take_channel(nonce: str) -> Channel:
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")  # dup'd descriptors are not inherited
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return Channel(requests, answers, nonce)


def initialize() -> Handler:
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    return load(os.environ.get("_HANDLER", ""))


def _encode_result(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return json.dumps(value, default=_decimal).encode()
    except (TypeError, ValueError) as exc:
        raise Fault(FaultType.MARSHAL, f"Unable to marshal response: {exc}") from None


def _decimal(value: Any) -> Any:
    if type(value).__name__ == "Decimal":  # as the runtime's encoder writes them
        import decimal

        if isinstance(value, decimal.Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def invoke(handler: Handler, header: dict[str, Any], body: bytes) -> tuple[bool, bytes]:
    request_id = header["request_id"]
    try:
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise Fault(FaultType.UNMARSHAL, f"Unable to unmarshal input: {exc}") from None
        context = LambdaContext(
            request_id,
            header["invoked_arn"],
            header["deadline_ms"],
            header.get("client_context"),
            header.get("identity"),
        )
        return True, _encode_result(handler(event, context))
    except Fault as fault:
        document = fault.document(request_id)
    except Exception as exc:
        document = exception_document(exc, request_id)
    sys.stdout.write(error_log_event(document))
    return False, to_json(document)


def confine(rlimit_bytes: int, parent_pid: int) -> None:
    """Where no cgroup holds the worker, its memory as a hard rlimit; without a sandbox
    (whose PID namespace dies with the server), death with the server."""
    if rlimit_bytes or parent_pid:
        from cove.host import limits

        if parent_pid:
            limits.die_with_parent(parent_pid)
        if rlimit_bytes:
            limits.confine(None, rlimit_bytes)


def main(argv: list[str]) -> None:
    channel = take_channel(argv[0])
    confine(int(argv[1]), int(argv[2]))
    try:
        handler = initialize()
    except Fault as fault:
        document = fault.document()
    except Exception as exc:  # the module raised while it was imported
        document = exception_document(exc, "")
    else:
        document = None
    if document is not None:
        sys.stdout.write(error_log_event(document))
        channel.send({"kind": protocol.READY, "at": time.time(), "fault": True}, to_json(document))
        sys.exit(1)
    channel.send({"kind": protocol.READY, "at": time.time(), "fault": False})
    while (frame := protocol.read(channel.requests)) is not None:
        header, body = frame
        started = time.perf_counter()
        ok, payload = invoke(handler, header, body)
        elapsed_ms = (time.perf_counter() - started) * 1000
        channel.send({"kind": protocol.RESULT, "ok": ok, "duration_ms": elapsed_ms}, payload)


if __name__ == "__main__":
    main(sys.argv[1:])
