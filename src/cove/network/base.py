"""What the store's parts share: the engine, one writer at a time, and the change
notices the fabric subscribes to (sent after the transaction commits)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select

from cove.network import tables as t
from cove.network.endpoint_services import Catalog
from cove.network.failures import Failure, NetworkError
from cove.network.reading import Reader
from cove.network.resources import Tag

log = logging.getLogger("cove.network")

Subscriber = Callable[[str], None]


@dataclass
class Txn:
    """One write: its connection and the VPCs whose network it changes."""

    conn: Connection
    reader: Reader
    touched: set[str] = field(default_factory=set)

    def touch(self, vpc_id: str) -> None:
        self.touched.add(vpc_id)


class StoreBase:
    def __init__(self, engine: Engine, region: str, account_id: str) -> None:
        self.engine = engine
        self.region = region
        self.account_id = account_id
        self.catalog = Catalog(region)
        self._lock = threading.RLock()
        self._subscribers: list[Subscriber] = []
        self._clock = time.time
        self._last_position = 0

    def subscribe(self, callback: Subscriber) -> None:
        """`callback(vpc_id)` after every committed change to what the fabric builds."""
        self._subscribers.append(callback)

    @contextmanager
    def _write(self) -> Iterator[Txn]:
        with self._lock, self.engine.begin() as conn:
            txn = Txn(conn, Reader(conn, self.region, self.catalog))
            yield txn
        # after the commit and outside the lock, so that a subscriber may read or write
        for vpc_id in sorted(txn.touched):
            for callback in self._subscribers:
                try:
                    callback(vpc_id)
                except Exception:  # a subscriber's failure is not the caller's
                    log.exception("network change subscriber failed for %s", vpc_id)

    @contextmanager
    def _read(self) -> Iterator[Reader]:
        with self.engine.connect() as conn:
            yield Reader(conn, self.region, self.catalog)

    def _now(self) -> float:
        return self._clock()

    def _position(self) -> int:
        """An increasing number that orders rows (rules, routes) as they were created,
        across restarts: microseconds of the clock, never repeating."""
        self._last_position = max(int(self._now() * 1_000_000), self._last_position + 1)
        return self._last_position

    # helpers every part uses

    @staticmethod
    def _one(conn: Connection, table: Table, column: Any, value: str, failure: Failure) -> Any:
        row = conn.execute(select(table).where(column == value)).first()
        if row is None:
            raise NetworkError(failure, id=value)
        return row

    @staticmethod
    def _set_tags(conn: Connection, resource_id: str, tags: list[Tag]) -> None:
        for tag in tags:
            conn.execute(
                delete(t.tags_table).where(
                    t.tags_table.c.resource_id == resource_id, t.tags_table.c.key == tag.key
                )
            )
            conn.execute(
                insert(t.tags_table).values(resource_id=resource_id, key=tag.key, value=tag.value)
            )

    @staticmethod
    def _drop_tags(conn: Connection, resource_id: str) -> None:
        conn.execute(delete(t.tags_table).where(t.tags_table.c.resource_id == resource_id))
