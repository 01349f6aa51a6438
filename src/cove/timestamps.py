"""Timestamps as operation inputs carry them: epoch seconds, ISO 8601 text or datetimes."""

from __future__ import annotations

import datetime as dt
from typing import Any


def to_epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).timestamp()
    return float(value)
