"""What the harness (harness/servers.py) tells a peer's serving script through its environment.

BENCH_QUIET=1 (the default): the script turns its server's per-request log lines off.
BENCH_BATCH: a JSON object of the server's own adaptive-batching settings, by its documented
names, handed to its batching API as they are; absent: the peer serves without batching.
"""

from __future__ import annotations

import json
import os


def quiet() -> bool:
    return os.environ.get("BENCH_QUIET", "1") == "1"


def batch_settings() -> dict[str, int | float] | None:
    raw = os.environ.get("BENCH_BATCH")
    return json.loads(raw) if raw else None
