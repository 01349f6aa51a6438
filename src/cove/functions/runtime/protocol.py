"""Frames between the runtime and a worker's bootstrap, on the worker's stdin (events) and
stdout (answers): a JSON header on one line, whose "size" says how many bytes of body follow
(the event, or the handler's result). Standard library only: the bootstrap imports it."""

from __future__ import annotations

import json
from typing import Any, BinaryIO

# What a worker's bootstrap writes to its log stream after each phase (init, an invocation)
# once its output is flushed, so that the runtime can cut the stream into the invocations
# it belongs to; followed by the worker's nonce and a newline.
MARKER_PREFIX = b"\x00\x1fcove-end-of-output:"

READY = "ready"  # bootstrap -> runtime: the handler is imported (or failed to be)
EVENT = "event"  # runtime -> bootstrap: one invocation
RESULT = "result"  # bootstrap -> runtime: what the handler gave


def marker(nonce: str) -> bytes:
    return MARKER_PREFIX + nonce.encode() + b"\n"


def encode(header: dict[str, Any], body: bytes = b"") -> bytes:
    return json.dumps({**header, "size": len(body)}).encode() + b"\n" + body


def read(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """One frame from a blocking stream; None at its end."""
    line = stream.readline()
    if not line:
        return None
    header = json.loads(line)
    body = stream.read(header["size"]) if header["size"] else b""
    if len(body) != header["size"]:
        return None
    return header, body
