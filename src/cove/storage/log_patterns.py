"""CloudWatch Logs filter patterns for unstructured events (CloudWatch Logs User Guide,
"Filter pattern syntax for metric filters, subscription filters, filter log events and
Live Tail": https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).

Supported: the empty pattern (every event); terms, all of which must appear (`ERROR
Exception`); quoted phrases matched exactly (`"connection reset"`); `?term` alternatives,
any one of which must appear (`?ERROR ?WARN`); `-term` exclusions (`ERROR -Exiting`); and a
whole-pattern regular expression between percent signs (`%[Ee]rror%`). Matching is
case-sensitive and by substring, as AWS documents it. JSON (`{ $.x = 1 }`) and
space-delimited (`[ip, user, ...]`) patterns are refused with PatternError rather
than misapplied."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class PatternError(ValueError):
    """The pattern is malformed, or is of a kind Cove does not evaluate."""


@dataclass(frozen=True)
class FilterPattern:
    required: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    regex: re.Pattern[str] | None = field(default=None, compare=False)

    def matches(self, message: str) -> bool:
        if self.regex is not None:
            return self.regex.search(message) is not None
        if any(term in message for term in self.excluded):
            return False
        if not all(term in message for term in self.required):
            return False
        return not self.alternatives or any(term in message for term in self.alternatives)

    @property
    def matches_everything(self) -> bool:
        return self.regex is None and not (self.required or self.alternatives or self.excluded)


def parse(pattern: str | None) -> FilterPattern:
    text = (pattern or "").strip()
    if not text:
        return FilterPattern()
    if text[0] in "{[":
        kind = "JSON" if text[0] == "{" else "space-delimited"
        raise PatternError(
            f"Cove does not evaluate {kind} filter patterns; use terms, quoted phrases, "
            "?alternatives, -exclusions or a %regex%"
        )
    if len(text) >= 2 and text[0] == "%" and text[-1] == "%":
        try:
            return FilterPattern(regex=re.compile(text[1:-1]))
        except re.error as exc:
            raise PatternError(f"Invalid regex in filter pattern: {exc}") from None
    required: list[str] = []
    alternatives: list[str] = []
    excluded: list[str] = []
    for prefix, term in _terms(text):
        {"": required, "?": alternatives, "-": excluded}[prefix].append(term)
    return FilterPattern(tuple(required), tuple(alternatives), tuple(excluded))


def _terms(text: str) -> list[tuple[str, str]]:
    """(prefix, term) pairs: prefix "" (required), "?" (alternative) or "-" (excluded)."""
    terms: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        prefix = ""
        if text[i] in "?-" and i + 1 < n and not text[i + 1].isspace():
            prefix, i = text[i], i + 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise PatternError(f"Unterminated quoted phrase in filter pattern: {text}")
            term, i = text[i + 1 : end], end + 1
        else:
            end = i
            while end < n and not text[end].isspace():
                end += 1
            term, i = text[i:end], end
        if term:
            terms.append((prefix, term))
    return terms
