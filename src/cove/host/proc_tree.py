"""Process trees read from /proc: an instance is its worker process and whatever that
started (a bring-your-own-container server may fork workers of its own)."""

from __future__ import annotations

import os
from pathlib import Path


def _parent_of(stat: str) -> int:
    # the command name may hold spaces and parentheses: fields start after the last ')'
    return int(stat.rsplit(")", 1)[1].split()[1])


def tree(pid: int) -> list[int]:
    """`pid` followed by all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # exited meanwhile
        children.setdefault(_parent_of(stat), []).append(int(entry))
    out, todo = [pid], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out
