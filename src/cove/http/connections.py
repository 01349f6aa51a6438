"""Every open client connection of a listener: per-address caps and the timeout sweep.

Timeouts are checked by one sweep a second over all connections instead of a timer per
connection, so the request hot path pays only for noting the time of a phase change.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Protocol

from cove.http.limits import HttpLimits

SWEEP_INTERVAL = 1.0


class Watched(Protocol):
    peer: str

    def check_timeouts(self, now: float, limits: HttpLimits) -> None: ...


class Connections:
    """Admits connections under the caps and closes those that stall or idle too long."""

    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self._open: set[Watched] = set()
        self._per_client: Counter[str] = Counter()
        self._sweeper: asyncio.TimerHandle | None = None

    def admit(self, conn: Watched) -> bool:
        """Count `conn` in; False if its client address or the server is at its cap."""
        if (
            len(self._open) >= self.limits.max_connections
            or self._per_client[conn.peer] >= self.limits.max_connections_per_client
        ):
            return False
        self._open.add(conn)
        self._per_client[conn.peer] += 1
        if self._sweeper is None:
            self._schedule()
        return True

    def release(self, conn: Watched) -> None:
        if conn not in self._open:
            return
        self._open.discard(conn)
        self._per_client[conn.peer] -= 1
        if self._per_client[conn.peer] <= 0:
            del self._per_client[conn.peer]

    def _schedule(self) -> None:
        self._sweeper = asyncio.get_running_loop().call_later(SWEEP_INTERVAL, self._sweep)

    def _sweep(self) -> None:
        now = time.monotonic()
        for conn in list(self._open):
            conn.check_timeouts(now, self.limits)
        if self._open:
            self._schedule()
        else:
            self._sweeper = None

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
