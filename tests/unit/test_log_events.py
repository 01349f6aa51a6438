"""The CloudWatch Logs store: ordering, tokens, filters, PutLogEvents' limits, retention,
persistence. Facts are cited from the CloudWatch Logs API Reference where pinned."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove.storage.log_events import (
    DAY_MS,
    LogEvents,
    LogFailure,
    LogsError,
    Rejected,
)
from cove.storage.log_patterns import PatternError, parse

NOW = 1_700_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> LogEvents:
    s = LogEvents(tmp_path, clock=clock)
    yield s
    s.close()


def failure(exc: pytest.ExceptionInfo[LogsError]) -> LogFailure:
    return exc.value.failure


def test_put_creates_group_and_stream_and_orders_by_timestamp_then_ingestion(store):
    store.put("/aws/lambda/f", "s1", [(NOW + 5, "b"), (NOW + 1, "a")])
    store.put("/aws/lambda/f", "s1", [(NOW + 5, "c")])  # same time, ingested later
    page = store.get_events("/aws/lambda/f", "s1", start_from_head=True)
    assert [e.message for e in page.events] == ["a", "b", "c"]
    (stream,) = store.streams("/aws/lambda/f")
    assert (stream.first_event, stream.last_event, stream.last_ingestion) == (NOW + 1, NOW + 5, NOW)


def test_groups_and_streams_are_created_once(store):
    store.create_group("g")
    with pytest.raises(LogsError) as exc:
        store.create_group("g")
    assert failure(exc) is LogFailure.GROUP_EXISTS
    store.create_stream("g", "s")
    with pytest.raises(LogsError) as exc:
        store.create_stream("g", "s")
    assert failure(exc) is LogFailure.STREAM_EXISTS
    with pytest.raises(LogsError) as exc:
        store.create_stream("nope", "s")
    assert failure(exc) is LogFailure.GROUP_MISSING
    store.delete_group("g")
    with pytest.raises(LogsError) as exc:
        store.group("g")
    assert failure(exc) is LogFailure.GROUP_MISSING


def test_group_listing_by_prefix_and_case_sensitive_substring(store):
    for name in ("DataLogs", "aws/DataLogs", "GroupDataLogs", "datalogs"):
        store.create_group(name)
    assert [g.name for g in store.groups(prefix="Data")] == ["DataLogs"]
    # API Reference, DescribeLogGroups logGroupNamePattern: case-sensitive substring search
    assert [g.name for g in store.groups(contains="DataLogs")] == [
        "DataLogs", "GroupDataLogs", "aws/DataLogs",
    ]  # fmt: skip


def test_get_events_tokens_page_both_ways_and_repeat_at_the_end(store):
    store.put("g", "s", [(NOW + i, f"m{i}") for i in range(5)])
    last = store.get_events("g", "s", limit=2)  # default: the latest events
    assert [e.message for e in last.events] == ["m3", "m4"]
    older = store.get_events("g", "s", limit=2, token=last.backward_token)
    assert [e.message for e in older.events] == ["m1", "m2"]
    oldest = store.get_events("g", "s", limit=2, token=older.backward_token)
    assert [e.message for e in oldest.events] == ["m0"]
    # API Reference, GetLogEvents: "If you have reached the end of the stream, it returns
    # the same token you passed in."
    start = store.get_events("g", "s", limit=2, token=oldest.backward_token)
    assert start.events == [] and start.backward_token == oldest.backward_token
    end = store.get_events("g", "s", token=last.forward_token)
    assert end.events == [] and end.forward_token == last.forward_token
    store.put("g", "s", [(NOW + 9, "new")])
    newer = store.get_events("g", "s", token=end.forward_token)
    assert [e.message for e in newer.events] == ["new"]
    assert newer.forward_token != end.forward_token


def test_get_events_from_head_and_time_range(store):
    store.put("g", "s", [(NOW + i, f"m{i}") for i in range(5)])
    page = store.get_events("g", "s", start_from_head=True, start=NOW + 1, end=NOW + 3)
    assert [e.message for e in page.events] == ["m1", "m2"]  # endTime is exclusive
    with pytest.raises(LogsError) as exc:
        store.get_events("g", "s", token="f/garbage")
    assert failure(exc) is LogFailure.INVALID_TOKEN
    with pytest.raises(LogsError) as exc:
        store.get_events("g", "other")
    assert failure(exc) is LogFailure.STREAM_MISSING


def test_filter_across_streams_with_paging_and_stream_selection(store):
    store.put("g", "a", [(NOW + 1, "ERROR one"), (NOW + 3, "INFO two")])
    store.put("g", "b", [(NOW + 2, "ERROR three"), (NOW + 4, "WARN four")])
    store.put("g", "c", [(NOW + 5, "ERROR five")])
    first = store.filter_events("g", pattern="ERROR", limit=2)
    assert [(e.stream, e.message) for e in first.events] == [
        ("a", "ERROR one"),
        ("b", "ERROR three"),
    ]
    assert first.next_token is not None and first.searched_streams == ["a", "b", "c"]
    rest = store.filter_events("g", pattern="ERROR", limit=2, token=first.next_token)
    assert [e.message for e in rest.events] == ["ERROR five"] and rest.next_token is None
    named = store.filter_events("g", stream_names=["b"])
    assert [e.message for e in named.events] == ["ERROR three", "WARN four"]
    prefixed = store.filter_events("g", stream_prefix="a", end=NOW + 1)
    assert [e.message for e in prefixed.events] == ["ERROR one"]  # endTime inclusive here
    with pytest.raises(LogsError) as exc:
        store.filter_events("g", stream_names=["a"], stream_prefix="a")
    assert failure(exc) is LogFailure.STREAM_SELECTION


def test_filter_patterns():
    # CloudWatch Logs User Guide, "Filter pattern syntax": terms are ANDed and
    # case-sensitive, "?" terms are alternatives, "-" excludes, quotes match a phrase.
    msgs = ["[ERROR 400] BAD REQUEST", "[ERROR 401] UNAUTHORIZED REQUEST", "Exiting with ERROR",
            "[WARN] disk", "error lowercase"]  # fmt: skip

    def hits(pattern: str) -> list[str]:
        p = parse(pattern)
        return [m for m in msgs if p.matches(m)]

    assert hits("") == msgs
    assert hits("ERROR") == msgs[:3]
    assert hits("ERROR REQUEST 401") == [msgs[1]]
    assert hits('"BAD REQUEST"') == [msgs[0]]
    assert hits("?WARN ?UNAUTHORIZED") == [msgs[1], msgs[3]]
    assert hits("ERROR -Exiting") == msgs[:2]
    assert hits("%^\\[ERROR 40[01]\\]%") == msgs[:2]
    for refused in ('{ $.level = "x" }', "[ip, user]", '"open'):
        with pytest.raises(PatternError):
            parse(refused)


def test_filter_with_regex_scans_past_a_batch(store):
    store.put("g", "s", [(NOW + i, f"line {i}") for i in range(2500)])
    page = store.filter_events("g", pattern="%line 24[0-9][0-9]$%")
    assert [e.message for e in page.events] == [f"line {i}" for i in range(2400, 2500)]


def test_put_events_limits(store):
    # API Reference, PutLogEvents: the batch is at most 1,048,576 bytes, counted as the
    # UTF-8 messages plus 26 bytes per event; events in chronological order; a span of
    # at most 24 hours; an event at most 1 MB (InputLogEvent).
    store.create_group("g")
    store.create_stream("g", "s")
    with pytest.raises(LogsError) as exc:
        store.put_events("g", "s", [(NOW, "x" * 600_000), (NOW, "y" * 600_000)])
    assert failure(exc) is LogFailure.BATCH_TOO_LARGE
    assert exc.value.details == {"size": 1_200_052, "limit": 1_048_576}
    with pytest.raises(LogsError) as exc:
        store.put_events("g", "s", [(NOW, "x" * 1_048_551)])
    assert failure(exc) is LogFailure.EVENT_TOO_LARGE
    with pytest.raises(LogsError) as exc:
        store.put_events("g", "s", [(NOW + 1, "b"), (NOW, "a")])
    assert failure(exc) is LogFailure.NOT_CHRONOLOGICAL
    with pytest.raises(LogsError) as exc:
        store.put_events("g", "s", [(NOW - DAY_MS - 1, "a"), (NOW, "b")])
    assert failure(exc) is LogFailure.SPAN_TOO_LONG
    with pytest.raises(LogsError) as exc:
        store.put_events("g", "missing", [(NOW, "a")])
    assert failure(exc) is LogFailure.STREAM_MISSING
    assert store.get_events("g", "s").events == []  # nothing of a refused batch


def test_put_events_rejects_too_new_and_too_old(store, clock):
    # API Reference, RejectedLogEventsInfo: tooNewLogEventStartIndex is inclusive,
    # tooOldLogEventEndIndex exclusive; events over 2 hours ahead or 14 days old.
    store.create_group("g")
    store.create_stream("g", "s")
    clock.now = NOW + 15 * DAY_MS
    old, ok = clock.now - 14 * DAY_MS - 1, clock.now - 14 * DAY_MS + 1
    assert store.put_events("g", "s", [(old, "old"), (ok, "ok")]) == Rejected(too_old_end=1)
    new = clock.now + 2 * 3600_000 + 1
    assert store.put_events("g", "s", [(clock.now, "now"), (new, "new")]) == Rejected(
        too_new_start=1
    )
    assert [e.message for e in store.get_events("g", "s").events] == ["ok", "now"]


def test_retention_hides_and_purges_old_events(store, clock):
    store.put("g", "s", [(NOW, "old"), (NOW + 2 * DAY_MS, "recent")])
    clock.now = NOW + 2 * DAY_MS
    with pytest.raises(LogsError) as exc:
        store.set_retention("g", 2)  # API Reference, PutRetentionPolicy: not a valid value
    assert failure(exc) is LogFailure.INVALID_RETENTION
    store.set_retention("g", 1)
    assert store.group("g").retention_days == 1
    assert [e.message for e in store.get_events("g", "s").events] == ["recent"]
    assert store.group("g").stored_bytes == len("recent")


def test_events_persist_across_reopen_and_follow_by_ingestion(tmp_path, clock):
    first = LogEvents(tmp_path, clock=clock)
    first.put("/aws/lambda/f", "s", [(NOW + 10, "late")])
    first.put("/aws/lambda/f", "t", [(NOW, "earlier but ingested second")])
    first.close()
    again = LogEvents(tmp_path, clock=clock)
    events = again.events_since("/aws/lambda/f")
    assert [(e.stream, e.message) for e in events] == [
        ("s", "late"), ("t", "earlier but ingested second"),
    ]  # fmt: skip
    assert again.events_since("/aws/lambda/f", after_seq=events[-1].seq) == []
    again.close()


def test_put_cuts_oversized_messages(store):
    store.put("g", "s", [(NOW, "é" * 600_000)])
    (ev,) = store.get_events("g", "s").events
    assert len(ev.message.encode()) <= 1_048_576 - 26
