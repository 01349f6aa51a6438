"""The CloudWatch Logs store: log groups, their streams, and events ordered by timestamp
then ingestion, in an SQLite database of its own in the data dir (`logs.db`).

Why its own database: function workers put many small batches, and each put is one short
transaction; WAL with synchronous=NORMAL commits without an fsync per put (a power loss
may lose the last moments of logs, never corrupt them), and the metadata database keeps
its FULL durability. `cove logs` reads it from another process while the server writes.

It implements `LogSink` (cove.functions.contracts) for the functions' and API Gateway's
logs, and what the CloudWatch Logs API needs: PutLogEvents' limits and rejections, reads
by time range with forward/backward tokens, and filter patterns (log_patterns)."""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)

from cove.storage.log_patterns import FilterPattern, PatternError
from cove.storage.log_patterns import parse as parse_pattern

LOGS_DB = "logs.db"

# PutLogEvents' limits (CloudWatch Logs API Reference, "PutLogEvents" and "InputLogEvent").
EVENT_OVERHEAD = 26  # bytes counted per event on top of its UTF-8 message
MAX_BATCH_BYTES = 1_048_576
MAX_EVENT_BYTES = 1_048_576  # "Each log event can be no larger than 1 MB" (was 256 KB)
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000
MAX_FUTURE_MS = 2 * 3600 * 1000
MAX_PAST_MS = 14 * 24 * 3600 * 1000
# GetLogEvents and FilterLogEvents answer up to 10,000 events or 1 MB.
MAX_PAGE_EVENTS = 10_000
MAX_PAGE_BYTES = 1_048_576
# PutRetentionPolicy's retentionInDays (API Reference, "PutRetentionPolicy").
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
DAY_MS = 24 * 3600 * 1000
PURGE_EVERY_S = 60.0

log_metadata = MetaData()

groups_table = Table(
    "log_groups",
    log_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(512), nullable=False, unique=True),
    Column("created", BigInteger, nullable=False),
    Column("retention_days", Integer),
    Column("stored_bytes", BigInteger, nullable=False, default=0),
)

streams_table = Table(
    "log_streams",
    log_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("log_groups.id"), nullable=False),
    Column("name", String(512), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("first_event", BigInteger),
    Column("last_event", BigInteger),
    Column("last_ingestion", BigInteger),
    UniqueConstraint("group_id", "name", name="uq_log_streams_group_name"),
)

# The row id is the ingestion order: events sort by (timestamp, id).
events_table = Table(
    "log_events",
    log_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, nullable=False),
    Column("stream_id", Integer, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("ingestion", BigInteger, nullable=False),
    Column("message", Text, nullable=False),
    Index("ix_log_events_stream_order", "stream_id", "timestamp", "id"),
    Index("ix_log_events_group_order", "group_id", "timestamp", "id"),
)


class LogFailure(enum.Enum):
    GROUP_EXISTS = "group exists"
    GROUP_MISSING = "group missing"
    STREAM_EXISTS = "stream exists"
    STREAM_MISSING = "stream missing"
    INVALID_TOKEN = "invalid token"
    INVALID_RETENTION = "invalid retention"
    BATCH_TOO_LARGE = "batch too large"
    EVENT_TOO_LARGE = "event too large"
    NOT_CHRONOLOGICAL = "not chronological"
    SPAN_TOO_LONG = "span too long"
    INVALID_PATTERN = "invalid pattern"
    STREAM_SELECTION = "both stream names and prefix"


# How long a LogSink put waits, at most, before the writer thread stores it.
FLUSH_EVERY = 0.2


class LogsError(Exception):
    """A typed failure of the store; services/logs turns it into the API's error."""

    def __init__(self, failure: LogFailure, **details: Any) -> None:
        super().__init__(failure.value, details)
        self.failure = failure
        self.details = details


@dataclass(frozen=True)
class LogGroup:
    name: str
    created: int  # ms since the epoch, as the API reports times
    retention_days: int | None
    stored_bytes: int


@dataclass(frozen=True)
class LogStream:
    name: str
    created: int
    first_event: int | None
    last_event: int | None
    last_ingestion: int | None


@dataclass(frozen=True)
class Position:
    """Where an event sorts: its timestamp, then its ingestion sequence."""

    timestamp: int
    seq: int


FIRST = Position(0, 0)  # before every event (ids start at 1)
LAST = Position(2**63 - 1, 2**63 - 1)  # after every event


@dataclass(frozen=True)
class LogEvent:
    timestamp: int
    message: str
    ingestion: int
    seq: int
    stream: str = ""

    @property
    def position(self) -> Position:
        return Position(self.timestamp, self.seq)


@dataclass(frozen=True)
class EventPage:
    """GetLogEvents' answer: events in ascending order and the tokens either way."""

    events: list[LogEvent]
    forward_token: str
    backward_token: str


@dataclass(frozen=True)
class FilteredPage:
    events: list[LogEvent]
    searched_streams: list[str]
    next_token: str | None


@dataclass(frozen=True)
class Rejected:
    """PutLogEvents' rejectedLogEventsInfo: indexes into the (sorted) batch."""

    too_new_start: int | None = None  # inclusive
    too_old_end: int | None = None  # exclusive
    expired_end: int | None = None  # exclusive

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.too_new_start, self.too_old_end, self.expired_end))


def now_ms() -> int:
    return int(time.time() * 1000)


# GetLogEvents tokens: a direction and a position, "f/" or "b/" then 19+19 digits (AWS's
# are "f/" or "b/" and digits too). FilterLogEvents' nextToken is the bare position.
def _position_text(pos: Position) -> str:
    return f"{pos.timestamp:019d}{pos.seq:019d}"


def _parse_position(text: str) -> Position:
    if len(text) != 38 or not text.isdigit():
        raise LogsError(LogFailure.INVALID_TOKEN)
    return Position(int(text[:19]), int(text[19:]))


def forward_token(pos: Position) -> str:
    return "f/" + _position_text(pos)


def backward_token(pos: Position) -> str:
    return "b/" + _position_text(pos)


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _record) -> None:  # type: ignore[no-untyped-def]
        cur = conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # see the module's docstring
        cur.close()

    return engine


class LogEvents:
    """The log store. `where` is the data dir (its logs.db) or an engine to use."""

    def __init__(self, where: Engine | Path, clock: Callable[[], int] = now_ms) -> None:
        self.engine = _sqlite_engine(where / LOGS_DB) if isinstance(where, Path) else where
        self.clock = clock
        self._write = threading.Lock()  # one writer at a time: no SQLITE_BUSY upgrades
        self._last_purge = 0.0
        log_metadata.create_all(self.engine)
        # LogSink puts wait here for the writer thread: a function's or a stage's log
        # lines never cost its invocation a database write on the server's event loop
        self._pending: list[tuple[str, str, list[tuple[int, str]]]] = []
        self._pending_lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._writer: threading.Thread | None = None

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._writer is not None:
            self._writer.join(timeout=10)
        self.flush()
        self.engine.dispose()

    def flush(self) -> None:
        """Write every buffered LogSink put (in the order they came); reads call it first,
        so what was put is what is read."""
        with self._flushing:
            with self._pending_lock:
                batch, self._pending = self._pending, []
            merged: dict[tuple[str, str], list[tuple[int, str]]] = {}
            for group, stream, events in batch:
                merged.setdefault((group, stream), []).extend(events)
            for (group, stream), events in merged.items():
                self._put_now(group, stream, events)

    def _write_behind(self) -> None:
        while not self._closed:
            self._wake.wait(FLUSH_EVERY)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # a failed write must not end the writer: logged, retried
                logging.getLogger(__name__).exception("writing log events failed")

    # -- groups --------------------------------------------------------------------------

    def create_group(self, name: str) -> LogGroup:
        self.flush()  # the buffered puts came first
        with self._write, self.engine.begin() as conn:
            if self._group_id(conn, name) is not None:
                raise LogsError(LogFailure.GROUP_EXISTS, name=name)
            created = self.clock()
            conn.execute(insert(groups_table).values(name=name, created=created, stored_bytes=0))
        return LogGroup(name, created, None, 0)

    def group(self, name: str) -> LogGroup:
        self.flush()
        with self.engine.connect() as conn:
            row = conn.execute(select(groups_table).where(groups_table.c.name == name)).first()
        if row is None:
            raise LogsError(LogFailure.GROUP_MISSING, name=name)
        return _group(row)

    def groups(self, prefix: str | None = None, contains: str | None = None) -> list[LogGroup]:
        """Every group by name; with a name prefix, or a case-sensitive substring
        (DescribeLogGroups' logGroupNamePattern)."""
        self.flush()
        query = select(groups_table).order_by(groups_table.c.name)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            _group(row)
            for row in rows
            if (prefix is None or row.name.startswith(prefix))
            and (not contains or contains in row.name)
        ]

    def delete_group(self, name: str) -> None:
        self.flush()  # the buffered puts came first
        with self._write, self.engine.begin() as conn:
            group_id = self._require_group(conn, name)
            conn.execute(delete(events_table).where(events_table.c.group_id == group_id))
            conn.execute(delete(streams_table).where(streams_table.c.group_id == group_id))
            conn.execute(delete(groups_table).where(groups_table.c.id == group_id))

    def set_retention(self, name: str, days: int | None) -> None:
        if days is not None and days not in RETENTION_DAYS:
            raise LogsError(LogFailure.INVALID_RETENTION, days=days)
        self.flush()
        with self._write, self.engine.begin() as conn:
            group_id = self._require_group(conn, name)
            conn.execute(
                update(groups_table)
                .where(groups_table.c.id == group_id)
                .values(retention_days=days)
            )
        self.purge_expired()

    # -- streams -------------------------------------------------------------------------

    def create_stream(self, group: str, stream: str) -> LogStream:
        self.flush()  # the buffered puts came first
        with self._write, self.engine.begin() as conn:
            group_id = self._require_group(conn, group)
            if self._stream_id(conn, group_id, stream) is not None:
                raise LogsError(LogFailure.STREAM_EXISTS, name=stream)
            created = self.clock()
            conn.execute(
                insert(streams_table).values(group_id=group_id, name=stream, created=created)
            )
        return LogStream(stream, created, None, None, None)

    def streams(self, group: str, prefix: str | None = None) -> list[LogStream]:
        """The group's streams by name."""
        self.flush()
        with self.engine.connect() as conn:
            group_id = self._require_group(conn, group)
            query = (
                select(streams_table)
                .where(streams_table.c.group_id == group_id)
                .order_by(streams_table.c.name)
            )
            rows = conn.execute(query).all()
        return [_stream(row) for row in rows if prefix is None or row.name.startswith(prefix)]

    # -- writing -------------------------------------------------------------------------

    def put(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """LogSink: append, creating the group and the stream when missing; buffered and
        written by a thread of its own within FLUSH_EVERY (or at the next read)."""
        if not events:
            return
        with self._pending_lock:
            self._pending.append((group, stream, list(events)))
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_behind, name="log-events", daemon=True
                )
                self._writer.start()

    def _put_now(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """Append now. Messages beyond an event's size limit are cut to it (a function's
        output is not refused)."""
        limit = MAX_EVENT_BYTES - EVENT_OVERHEAD
        kept = [(ts, _cut(message, limit)) for ts, message in events if message]
        with self._write, self.engine.begin() as conn:
            group_id = self._group_id(conn, group)
            if group_id is None:
                group_id = conn.execute(
                    insert(groups_table).values(name=group, created=self.clock(), stored_bytes=0)
                ).inserted_primary_key[0]
            stream_id = self._stream_id(conn, group_id, stream)
            if stream_id is None:
                stream_id = conn.execute(
                    insert(streams_table).values(
                        group_id=group_id, name=stream, created=self.clock()
                    )
                ).inserted_primary_key[0]
            self._append(conn, group_id, stream_id, sorted(kept, key=lambda e: e[0]))
        self._maybe_purge()

    def put_events(self, group: str, stream: str, events: Sequence[tuple[int, str]]) -> Rejected:
        """PutLogEvents: the batch checked against AWS's limits (a violation refuses it
        whole), events too new, too old or past the group's retention left out and
        reported, the rest appended to an existing stream."""
        _check_batch(events)
        self.flush()
        now = self.clock()
        with self._write, self.engine.begin() as conn:
            group_id = self._require_group(conn, group)
            stream_id = self._stream_id(conn, group_id, stream)
            if stream_id is None:
                raise LogsError(LogFailure.STREAM_MISSING, name=stream)
            retention = conn.execute(
                select(groups_table.c.retention_days).where(groups_table.c.id == group_id)
            ).scalar()
            rejected = _rejections(events, now, retention)
            start = max(rejected.too_old_end or 0, rejected.expired_end or 0)
            end = rejected.too_new_start if rejected.too_new_start is not None else len(events)
            self._append(conn, group_id, stream_id, list(events[start:end]))
        self._maybe_purge()
        return rejected

    def _append(
        self, conn: Any, group_id: int, stream_id: int, events: list[tuple[int, str]]
    ) -> None:
        if not events:
            return
        ingestion = self.clock()
        conn.execute(
            insert(events_table),
            [
                {"group_id": group_id, "stream_id": stream_id, "timestamp": ts,
                 "ingestion": ingestion, "message": message}
                for ts, message in events
            ],
        )  # fmt: skip
        s = streams_table.c
        first, last = min(ts for ts, _ in events), max(ts for ts, _ in events)
        conn.execute(
            update(streams_table)
            .where(s.id == stream_id)
            .values(
                first_event=func.coalesce(func.min(s.first_event, first), first),
                last_event=func.coalesce(func.max(s.last_event, last), last),
                last_ingestion=ingestion,
            )
        )
        size = sum(len(message.encode()) for _, message in events)
        conn.execute(
            update(groups_table)
            .where(groups_table.c.id == group_id)
            .values(stored_bytes=groups_table.c.stored_bytes + size)
        )

    # -- reading -------------------------------------------------------------------------

    def get_events(
        self,
        group: str,
        stream: str,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
        start_from_head: bool = False,
        token: str | None = None,
    ) -> EventPage:
        """GetLogEvents. Without a token: the first events (start_from_head) or the last
        ones. A forward token reads on after its position, a backward one back before it;
        with nothing more that way, the same token comes back (API Reference,
        "GetLogEvents": "If you have reached the end of the stream, it returns the same
        token you passed in")."""
        self.flush()
        if token is not None:
            if token[:2] not in ("f/", "b/"):
                raise LogsError(LogFailure.INVALID_TOKEN)
            forward, anchor = token[:2] == "f/", _parse_position(token[2:])
        else:
            forward, anchor = start_from_head, FIRST if start_from_head else LAST
        size = min(limit or MAX_PAGE_EVENTS, MAX_PAGE_EVENTS)
        e = events_table.c
        with self.engine.connect() as conn:
            group_id = self._require_group(conn, group)
            stream_id = self._stream_id(conn, group_id, stream)
            if stream_id is None:
                raise LogsError(LogFailure.STREAM_MISSING, name=stream)
            where = [e.stream_id == stream_id, *self._time_range(conn, group_id, start, end)]
            key = tuple_(e.timestamp, e.id)
            here = tuple_(anchor.timestamp, anchor.seq)
            if forward:
                query = select(events_table).where(*where, key > here).order_by(e.timestamp, e.id)
            else:
                query = (
                    select(events_table)
                    .where(*where, key < here)
                    .order_by(e.timestamp.desc(), e.id.desc())
                )
            rows = conn.execute(query.limit(size)).all()
        events = _within_bytes([_event(row) for row in rows])
        if not forward:
            events.reverse()
        if not events:
            same = token or (forward_token(anchor) if forward else backward_token(anchor))
            return EventPage(
                [],
                same if forward else forward_token(anchor),
                backward_token(anchor) if forward else same,
            )
        return EventPage(
            events, forward_token(events[-1].position), backward_token(events[0].position)
        )

    def filter_events(
        self,
        group: str,
        *,
        stream_names: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        start: int | None = None,
        end: int | None = None,
        pattern: str | None = None,
        limit: int | None = None,
        token: str | None = None,
    ) -> FilteredPage:
        """FilterLogEvents across the group's streams (all, the named ones, or those with
        the prefix), in timestamp then ingestion order, a nextToken while more remain."""
        self.flush()
        if stream_names is not None and stream_prefix is not None:
            raise LogsError(LogFailure.STREAM_SELECTION)
        try:
            matcher = parse_pattern(pattern)
        except PatternError as exc:
            raise LogsError(LogFailure.INVALID_PATTERN, reason=str(exc)) from None
        after = _parse_position(token) if token is not None else FIRST
        size = min(limit or MAX_PAGE_EVENTS, MAX_PAGE_EVENTS)
        e = events_table.c
        with self.engine.connect() as conn:
            group_id = self._require_group(conn, group)
            query = select(streams_table.c.id, streams_table.c.name).where(
                streams_table.c.group_id == group_id
            )
            streams = {
                row.id: row.name
                for row in conn.execute(query.order_by(streams_table.c.name))
                if (stream_names is None or row.name in stream_names)
                and (stream_prefix is None or row.name.startswith(stream_prefix))
            }
            where = [
                e.group_id == group_id,
                e.stream_id.in_(list(streams)),
                *self._time_range(conn, group_id, start, end, end_inclusive=True),
                *_pushed_down(matcher),
            ]
            found = self._scan(conn, where, after, matcher, size + 1)
        events = [
            LogEvent(ev.timestamp, ev.message, ev.ingestion, ev.seq, streams[sid])
            for sid, ev in found
        ]
        page = _within_bytes(events[:size])
        more = len(page) < len(events)
        next_token = _position_text(page[-1].position) if more and page else None
        return FilteredPage(page, sorted(streams.values()), next_token)

    def _scan(
        self, conn: Any, where: list, after: Position, matcher: FilterPattern, wanted: int
    ) -> list[tuple[int, LogEvent]]:
        """Events after `after` that the pattern matches; the SQL conditions carry the
        terms, so only a regex needs more than one batch."""
        e = events_table.c
        found: list[tuple[int, LogEvent]] = []
        batch = max(wanted, 1000)
        while len(found) < wanted:
            here = tuple_(after.timestamp, after.seq)
            query = (
                select(events_table)
                .where(*where, tuple_(e.timestamp, e.id) > here)
                .order_by(e.timestamp, e.id)
                .limit(batch)
            )
            rows = conn.execute(query).all()
            for row in rows:
                if matcher.matches(row.message):
                    found.append((row.stream_id, _event(row)))
                    if len(found) == wanted:
                        break
            if len(rows) < batch:
                break
            after = Position(rows[-1].timestamp, rows[-1].id)
        return found

    def events_since(self, group: str, after_seq: int = 0, limit: int = 1000) -> list[LogEvent]:
        """The group's events ingested after sequence `after_seq`, in ingestion order: how
        `cove logs -f` follows a group without missing events put out of time order."""
        self.flush()
        e = events_table.c
        with self.engine.connect() as conn:
            group_id = self._require_group(conn, group)
            names = dict(
                conn.execute(
                    select(streams_table.c.id, streams_table.c.name).where(
                        streams_table.c.group_id == group_id
                    )
                ).all()
            )
            query = (
                select(events_table)
                .where(e.group_id == group_id, e.id > after_seq)
                .order_by(e.id)
                .limit(limit)
            )
            rows = conn.execute(query).all()
        return [
            LogEvent(r.timestamp, r.message, r.ingestion, r.id, names.get(r.stream_id, ""))
            for r in rows
        ]

    # -- retention -----------------------------------------------------------------------

    def purge_expired(self) -> int:
        """Delete events older than their group's retention; returns how many."""
        now = self.clock()
        removed = 0
        with self._write, self.engine.begin() as conn:
            rows = conn.execute(
                select(groups_table.c.id, groups_table.c.retention_days).where(
                    groups_table.c.retention_days.is_not(None)
                )
            ).all()
            for group_id, days in rows:
                old = and_(
                    events_table.c.group_id == group_id,
                    events_table.c.timestamp < now - days * DAY_MS,
                )
                freed = conn.execute(
                    select(func.coalesce(func.sum(func.length(events_table.c.message)), 0)).where(
                        old
                    )
                ).scalar()
                removed += conn.execute(delete(events_table).where(old)).rowcount
                conn.execute(
                    update(groups_table)
                    .where(groups_table.c.id == group_id)
                    .values(stored_bytes=func.max(groups_table.c.stored_bytes - freed, 0))
                )
        self._last_purge = time.monotonic()
        return removed

    def _maybe_purge(self) -> None:
        if time.monotonic() - self._last_purge >= PURGE_EVERY_S:
            self.purge_expired()

    # -- helpers -------------------------------------------------------------------------

    def _time_range(
        self,
        conn: Any,
        group_id: int,
        start: int | None,
        end: int | None,
        end_inclusive: bool = False,
    ) -> list[ColumnElement[bool]]:
        """startTime inclusive; endTime exclusive for GetLogEvents ("Events with a
        timestamp equal to or later than this time are not included") and inclusive for
        FilterLogEvents ("Events with a timestamp later than this time are not returned");
        and nothing past the group's retention, even before it is purged."""
        e = events_table.c
        where: list[ColumnElement[bool]] = []
        days = conn.execute(
            select(groups_table.c.retention_days).where(groups_table.c.id == group_id)
        ).scalar()
        if days is not None:
            where.append(e.timestamp >= self.clock() - days * DAY_MS)
        if start is not None:
            where.append(e.timestamp >= start)
        if end is not None:
            where.append(e.timestamp <= end if end_inclusive else e.timestamp < end)
        return where

    @staticmethod
    def _group_id(conn: Any, name: str) -> int | None:
        return conn.execute(select(groups_table.c.id).where(groups_table.c.name == name)).scalar()

    def _require_group(self, conn: Any, name: str) -> int:
        group_id = self._group_id(conn, name)
        if group_id is None:
            raise LogsError(LogFailure.GROUP_MISSING, name=name)
        return group_id

    @staticmethod
    def _stream_id(conn: Any, group_id: int, name: str) -> int | None:
        s = streams_table.c
        return conn.execute(select(s.id).where(s.group_id == group_id, s.name == name)).scalar()


def _check_batch(events: Sequence[tuple[int, str]]) -> None:
    """PutLogEvents' limits on the batch as a whole; texts are the ones AWS answers."""
    total = 0
    for _, message in events:
        size = len(message.encode()) + EVENT_OVERHEAD
        if size > MAX_EVENT_BYTES:
            raise LogsError(LogFailure.EVENT_TOO_LARGE, size=size, limit=MAX_EVENT_BYTES)
        total += size
    if total > MAX_BATCH_BYTES:
        raise LogsError(LogFailure.BATCH_TOO_LARGE, size=total, limit=MAX_BATCH_BYTES)
    stamps = [ts for ts, _ in events]
    if any(b < a for a, b in zip(stamps, stamps[1:], strict=False)):
        raise LogsError(LogFailure.NOT_CHRONOLOGICAL)
    if stamps and stamps[-1] - stamps[0] > MAX_BATCH_SPAN_MS:
        raise LogsError(LogFailure.SPAN_TOO_LONG)


def _rejections(events: Sequence[tuple[int, str]], now: int, retention: int | None) -> Rejected:
    """The sorted batch's too-new suffix and too-old / expired prefixes."""
    stamps = [ts for ts, _ in events]
    too_new = next((i for i, ts in enumerate(stamps) if ts > now + MAX_FUTURE_MS), None)
    too_old = sum(1 for ts in stamps if ts < now - MAX_PAST_MS)
    expired = 0
    if retention is not None:
        expired = sum(1 for ts in stamps if ts < now - retention * DAY_MS)
    return Rejected(too_new, too_old or None, expired or None)


def _pushed_down(matcher: FilterPattern) -> list[ColumnElement[bool]]:
    """A term pattern as SQL conditions (instr is case-sensitive, as patterns are)."""
    if matcher.regex is not None:
        return []
    message = events_table.c.message
    where: list[ColumnElement[bool]] = [func.instr(message, t) > 0 for t in matcher.required]
    where += [func.instr(message, t) == 0 for t in matcher.excluded]
    if matcher.alternatives:
        where.append(or_(*(func.instr(message, t) > 0 for t in matcher.alternatives)))
    return where


def _within_bytes(events: list[LogEvent]) -> list[LogEvent]:
    """As many events as fit in a page's 1 MB (at least one)."""
    total = 0
    for i, ev in enumerate(events):
        total += len(ev.message.encode()) + EVENT_OVERHEAD
        if total > MAX_PAGE_BYTES and i > 0:
            return events[:i]
    return events


def _cut(message: str, limit: int) -> str:
    data = message.encode()
    return message if len(data) <= limit else data[:limit].decode(errors="ignore")


def _group(row: Any) -> LogGroup:
    return LogGroup(row.name, row.created, row.retention_days, row.stored_bytes)


def _stream(row: Any) -> LogStream:
    return LogStream(row.name, row.created, row.first_event, row.last_event, row.last_ingestion)


def _event(row: Any) -> LogEvent:
    return LogEvent(row.timestamp, row.message, row.ingestion, row.id)
