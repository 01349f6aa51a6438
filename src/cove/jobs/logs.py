"""`cove logs`: print (and optionally follow) a job's log from the data dir."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cove.jobs.runner import JOBS_DIR, log_path

KINDS = ("training",)


def find_log(data_dir: Path, name: str) -> Path | None:
    for kind in KINDS:
        path = log_path(data_dir, kind, name)
        if path.exists():
            return path
    return None


def show(data_dir: Path, name: str, follow: bool = False) -> int:
    path = find_log(data_dir, name)
    if path is None:
        dirs = [p for p in (data_dir / JOBS_DIR).glob("*/*") if p.is_dir()]
        recent = [p.name for p in sorted(dirs, key=lambda p: p.stat().st_mtime)[-5:]]
        hint = f" (most recent jobs: {', '.join(recent)})" if recent else ""
        print(f"cove logs: no job named {name} in {data_dir}{hint}", file=sys.stderr)
        return 1
    with open(path, encoding="utf-8", errors="replace") as log:
        try:
            while True:
                chunk = log.read()
                if chunk:
                    sys.stdout.write(chunk)
                    sys.stdout.flush()
                if not follow:
                    return 0
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
