"""Logs that a sandboxed process writes through an inherited file descriptor, kept to a
size: when one grows past its cap it is copied to `<name>.1` (older copies shift up to
`<name>.<keep>`, the oldest dropped) and truncated in place. The writer holds the file
open with O_APPEND, so its next write lands at the new start; lines written between the
copy and the truncation are lost, as with logrotate's copytruncate."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

KEEP = 3


def rotate_if_large(path: Path, max_bytes: int, keep: int = KEEP) -> bool:
    """Rotate `path` if it is over `max_bytes`; True when it did."""
    try:
        if path.stat().st_size <= max_bytes:
            return False
    except FileNotFoundError:
        return False
    for n in range(keep - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{n + 1}"))
    shutil.copyfile(path, path.with_name(f"{path.name}.1"))
    os.truncate(path, 0)
    return True
