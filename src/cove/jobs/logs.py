"""`cove logs`: print (and optionally follow) a training job's log from the data dir, or a
CloudWatch Logs group's events (`/aws/lambda/<name>`, API Gateway's execution logs) from
the log store."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cove.jobs.runner import JOBS_DIR, log_path
from cove.storage.log_events import LOGS_DB, LogEvents, LogFailure, LogsError

KINDS = ("training",)
POLL_S = 0.5


def find_log(data_dir: Path, name: str) -> Path | None:
    for kind in KINDS:
        path = log_path(data_dir, kind, name)
        if path.exists():
            return path
    return None


def show(data_dir: Path, name: str, follow: bool = False) -> int:
    """A name starting with "/" is a log group; otherwise a job's log, or else a group
    of that name."""
    path = None if name.startswith("/") else find_log(data_dir, name)
    if path is not None:
        return _show_job(path, follow)
    if (data_dir / LOGS_DB).exists():
        store = LogEvents(data_dir)
        try:
            return show_group(store, name, follow)
        except LogsError as exc:
            if exc.failure is not LogFailure.GROUP_MISSING:
                raise
        finally:
            store.close()
    dirs = [p for p in (data_dir / JOBS_DIR).glob("*/*") if p.is_dir()]
    recent = [p.name for p in sorted(dirs, key=lambda p: p.stat().st_mtime)[-5:]]
    hint = f" (most recent jobs: {', '.join(recent)})" if recent else ""
    print(f"cove logs: no job or log group named {name} in {data_dir}{hint}", file=sys.stderr)
    return 1


def show_group(store: LogEvents, group: str, follow: bool = False) -> int:
    """Every event of the group in ingestion order, one line each: the stream, then the
    message (as `aws logs tail` prints them); with `follow`, new ones as they arrive."""
    after = 0
    try:
        while True:
            events = store.events_since(group, after)
            for ev in events:
                message = ev.message if ev.message.endswith("\n") else ev.message + "\n"
                sys.stdout.write(f"{ev.stream} {message}")
                after = ev.seq
            sys.stdout.flush()
            if len(events) == 0 and not follow:
                return 0
            if not events:
                time.sleep(POLL_S)
    except KeyboardInterrupt:
        return 0


def _show_job(path: Path, follow: bool) -> int:
    with open(path, encoding="utf-8", errors="replace") as log:
        try:
            while True:
                chunk = log.read()
                if chunk:
                    sys.stdout.write(chunk)
                    sys.stdout.flush()
                if not follow:
                    return 0
                time.sleep(POLL_S)
        except KeyboardInterrupt:
            return 0
