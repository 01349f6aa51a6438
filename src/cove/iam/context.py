"""The request context that policy conditions and variables read.

Condition key names are case-insensitive (IAM UG, "IAM JSON policy elements: Condition"),
so keys are lowercased once, here. A value is one string or a list of strings (a
multivalued key such as aws:TagKeys); booleans, numbers and datetimes are stored as the
strings AWS puts in a request context.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

Value = str | tuple[str, ...]

# Keys whose values change from one request to the next by themselves: a decision that
# read one of them cannot be reused (see decisions.py).
VOLATILE_KEYS = frozenset({"aws:currenttime", "aws:epochtime", "aws:tokenissuetime"})


def context_value(value: object) -> Value:
    """`value` as a request context holds it: a string, or a tuple of strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(v for item in value for v in _flat(context_value(item)))
    raise TypeError(f"not a condition context value: {value!r}")


def _flat(value: Value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def iso_time(when: datetime) -> str:
    """aws:CurrentTime's form: UTC, seconds, a trailing Z."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ConditionContext(Mapping[str, Value]):
    """An immutable, case-insensitive mapping of condition keys to their values."""

    __slots__ = ("_values", "_fingerprint")

    def __init__(self, values: Mapping[str, object] | None = None) -> None:
        self._values: dict[str, Value] = {
            key.lower(): context_value(value) for key, value in (values or {}).items()
        }
        self._fingerprint: tuple[tuple[str, Value], ...] | None = None

    def __getitem__(self, key: str) -> Value:
        return self._values[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"ConditionContext({self._values!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConditionContext) and self._values == other._values

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def values_of(self, lowered_key: str) -> tuple[str, ...] | None:
        """Every value of a key (already lowercased), None where the request has none."""
        value = self._values.get(lowered_key)
        if value is None:
            return None
        return (value,) if isinstance(value, str) else value

    def single(self, lowered_key: str) -> str | None:
        """The key's value as a policy variable: only single-valued keys substitute."""
        value = self._values.get(lowered_key)
        return value if isinstance(value, str) else None

    def merged(self, values: Mapping[str, object]) -> ConditionContext:
        """A copy with `values` added (replacing keys it names)."""
        combined = ConditionContext()
        combined._values = {**self._values, **ConditionContext(values)._values}
        return combined

    def fingerprint(self) -> tuple[tuple[str, Value], ...]:
        """A hashable summary without the volatile keys, for the decision cache."""
        if self._fingerprint is None:
            self._fingerprint = tuple(
                sorted(item for item in self._values.items() if item[0] not in VOLATILE_KEYS)
            )
        return self._fingerprint


EMPTY_CONTEXT = ConditionContext()
