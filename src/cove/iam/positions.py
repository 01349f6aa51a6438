"""Where each statement of a policy document sits in its text, as IAM's policy simulator
reports it in MatchedStatements (IAM API reference, "Statement" and "Position": the row
and column of the beginning and of the end of the statement).

IAM's positions are 1-based and fall just past a token: the end just past the
statement's closing `}`; the start just past the `[` or `,` before a statement in a
Statement array, or just past the `{` of a Statement that is a single object. That is
what AWS's own answers show (AWS CLI reference, examples of "simulate-custom-policy" and
"simulate-principal-policy",
https://docs.aws.amazon.com/cli/latest/reference/iam/simulate-custom-policy.html):
`{"Version":"2012-10-17","Statement":{"Effect":...}}` of 167 characters gives 1:38 to
1:167; the 3:19 to 9:10 of a user's inline policy in the other example fits a statement
of four members in a four-space-indented array opened on line 3 (just past its `[`, just
past the statement's `}`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True)
class Span:
    start: Position
    end: Position


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def statement_spans(text: str) -> tuple[Span, ...]:
    """The span of each statement of `text`, in document order; none where `text` is not
    a JSON object with a Statement member (the documents Cove holds were parsed before)."""
    try:
        offsets = _statement_offsets(text)
    except (ValueError, IndexError):
        return ()
    return tuple(Span(_position(text, start), _position(text, end)) for start, end in offsets)


def _position(text: str, offset: int) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return Position(text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _skip(text: str, i: int) -> int:
    match = _SPACE.match(text, i)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _expect(text: str, i: int, char: str) -> int:
    if text[i] != char:
        raise ValueError(f"expected {char!r} at {i}")
    return i + 1


def _statement_offsets(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each statement, by IAM's rule above."""
    i = _expect(text, _skip(text, 0), "{")
    while True:
        i = _skip(text, i)
        key, i = _DECODER.raw_decode(text, i)
        i = _skip(text, _expect(text, _skip(text, i), ":"))
        if key == "Statement":
            return _elements(text, i)
        _, i = _DECODER.raw_decode(text, i)
        i = _expect(text, _skip(text, i), ",")


def _elements(text: str, i: int) -> list[tuple[int, int]]:
    if text[i] == "{":
        _, end = _DECODER.raw_decode(text, i)
        return [(i + 1, end)]
    after = _expect(text, i, "[")
    if text[_skip(text, after)] == "]":
        return []
    spans = []
    while True:
        _, end = _DECODER.raw_decode(text, _skip(text, after))
        spans.append((after, end))
        following = _skip(text, end)
        if text[following] != ",":
            return spans
        after = following + 1
