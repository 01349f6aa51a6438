"""Wildcards, ARN patterns and policy-variable templates, compiled once.

- Actions and StringLike values: `*` is any run of characters, `?` exactly one.
- ARNs (Resource, ArnLike): each of the six colon-separated segments is matched on its
  own, so a `*` before the resource part never spans a colon; in the resource part (after
  the fifth colon) it spans anything, slashes and colons included (IAM UG, "Resource",
  "Condition operators: ARN").
- Policy variables (documents of Version 2012-10-17 only): `${key}` takes the value of a
  single-valued context key, `${key, 'default'}` falls back to the default, and `${*}`,
  `${?}`, `${$}` stand for those characters taken literally (IAM UG, "Variables and
  tags"). A substituted value is literal too: a `*` in a user name is not a wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from cove.iam.context import ConditionContext

_GLOB_TOKEN = re.compile(r"[*?]")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_WITH_DEFAULT = re.compile(r"^\s*([^,\s][^,]*?)\s*,\s*'([^']*)'\s*$")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}
_ARN_SEGMENTS = 6


class Literal(NamedTuple):
    """Text that is matched as it is: a special variable's character, a variable's value."""

    text: str


class Variable(NamedTuple):
    key: str  # lowercased: keys are case-insensitive
    default: str | None


Piece = str | Literal | Variable
Resolved = tuple[str | Literal, ...]


def glob_fragment(text: str, any_char: str = ".") -> str:
    """Regex source for `text` with `*` and `?` as wildcards over `any_char`."""
    out = []
    last = 0
    for token in _GLOB_TOKEN.finditer(text):
        out.append(re.escape(text[last : token.start()]))
        out.append(f"{any_char}*" if token.group() == "*" else any_char)
        last = token.end()
    out.append(re.escape(text[last:]))
    return "".join(out)


@lru_cache(maxsize=4096)
def glob_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(glob_fragment(pattern), flags)


@dataclass(frozen=True)
class Template:
    """A policy string whose `${...}` variables are filled from the request context."""

    source: str
    pieces: tuple[Piece, ...]

    @classmethod
    def parse(cls, source: str, variables: bool = True) -> Template:
        if not variables or "${" not in source:
            return cls(source, (source,))
        pieces: list[Piece] = []
        last = 0
        for match in _VARIABLE.finditer(source):
            if match.start() > last:
                pieces.append(source[last : match.start()])
            pieces.append(_variable_piece(match.group(1)))
            last = match.end()
        if last < len(source):
            pieces.append(source[last:])
        return cls(source, tuple(pieces))

    @property
    def variable_keys(self) -> frozenset[str]:
        return frozenset(p.key for p in self.pieces if isinstance(p, Variable))

    def resolve(self, context: ConditionContext) -> Resolved | None:
        """The pieces with every variable replaced, None where one has no value."""
        if len(self.pieces) == 1 and isinstance(self.pieces[0], str):
            return self.pieces  # type: ignore[return-value]
        out: list[str | Literal] = []
        for piece in self.pieces:
            if isinstance(piece, Variable):
                value = context.single(piece.key)
                if value is None:
                    value = piece.default
                if value is None:
                    return None
                out.append(Literal(value))
            else:
                out.append(piece)
        return tuple(out)


def _variable_piece(inner: str) -> Piece:
    if inner in _SPECIAL:
        return Literal(_SPECIAL[inner])
    with_default = _WITH_DEFAULT.match(inner)
    if with_default:
        return Variable(with_default.group(1).lower(), with_default.group(2))
    return Variable(inner.strip().lower(), None)


def text_of(resolved: Resolved) -> str:
    return "".join(p if isinstance(p, str) else p.text for p in resolved)


@lru_cache(maxsize=4096)
def like_regex(resolved: Resolved) -> re.Pattern[str]:
    """StringLike: wildcards in the policy's own text, never in substituted values."""
    source = "".join(
        glob_fragment(p) if isinstance(p, str) else re.escape(p.text) for p in resolved
    )
    return re.compile(source, re.DOTALL)


@lru_cache(maxsize=4096)
def arn_regex(resolved: Resolved) -> re.Pattern[str] | None:
    """An ARN pattern, segment by segment; None where it has fewer than six segments."""
    out: list[str] = []
    separators = 0
    for piece in resolved:
        if isinstance(piece, Literal):
            out.append(re.escape(piece.text))
            continue
        for part in re.split(r"(:)", piece):
            if part == ":" and separators < _ARN_SEGMENTS - 1:
                separators += 1
                out.append(":")
            else:
                # within the first five segments a wildcard stops at the next colon
                out.append(glob_fragment(part, "." if separators == 5 else "[^:]"))
    if separators < _ARN_SEGMENTS - 1:
        return None
    return re.compile("".join(out), re.DOTALL)


def is_arn_like(value: str) -> bool:
    return value.startswith("arn:") and value.count(":") >= _ARN_SEGMENTS - 1
