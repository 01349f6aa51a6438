"""Declarative hyperparameter specs: every value arrives as a string (as in
/opt/ml/input/config/hyperparameters.json) and is parsed, range-checked and defaulted
here, with the wording of SageMaker's algorithm toolkit so users recognise the errors."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cove.jobs.training.errors import ClientError

AUTO = "auto"

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass(frozen=True)
class Param:
    """One hyperparameter. `kind` is int | float | bool | enum | str.

    `default` is the string a user could have passed; None (and not required) means the
    parameter is simply absent unless given. `auto` allows the literal "auto".
    """

    name: str
    kind: str
    default: str | None = None
    required: bool = False
    choices: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    auto: bool = False

    def parse(self, raw: str) -> Any:
        text = str(raw).strip()
        if self.auto and text.lower() == AUTO:
            return AUTO
        if self.kind == "enum":
            if text not in self.choices:
                raise ClientError(
                    f"Hyperparameter {self.name}: '{text}' is not one of {', '.join(self.choices)}"
                )
            return text
        if self.kind == "str":
            return text
        if self.kind == "bool":
            low = text.lower()
            if low in _TRUE or low in _FALSE:
                return low in _TRUE
            raise ClientError(
                f"Hyperparameter {self.name}: could not parse value '{text}' "
                "(expected true or false)"
            )
        value = self._number(text)
        self._check_range(value)
        return value

    def _number(self, text: str) -> int | float:
        try:
            if self.kind == "int":
                as_float = float(text)
                if not as_float.is_integer():
                    raise ValueError(text)
                return int(as_float)
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(text)
            return value
        except ValueError:
            expected = "an integer" if self.kind == "int" else "a number"
            extra = " or auto" if self.auto else ""
            raise ClientError(
                f"Hyperparameter {self.name}: could not parse value '{text}' "
                f"(expected {expected}{extra})"
            ) from None

    def _check_range(self, value: float) -> None:
        too_low = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        too_high = self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi)
        if too_low or too_high:
            raise ClientError(f"Hyperparameter {self.name}: {value:g} is not in {self.interval()}")

    def interval(self) -> str:
        left = "-inf" if self.lo is None else f"{self.lo:g}"
        right = "+inf" if self.hi is None else f"{self.hi:g}"
        return (
            f"{'(' if self.lo_open or self.lo is None else '['}{left}, "
            f"{right}{')' if self.hi_open or self.hi is None else ']'}"
        )


def validate(
    specs: Iterable[Param], given: Mapping[str, str], ignore_prefixes: tuple[str, ...] = ("_",)
) -> dict[str, Any]:
    """Parse `given` against `specs`: unknown names, missing required ones, unparsable or
    out-of-range values raise ClientError; absent optional ones take their default."""
    by_name = {p.name: p for p in specs}
    for name in given:
        if name not in by_name and not name.startswith(ignore_prefixes):
            hint = difflib.get_close_matches(name, by_name, n=1)
            suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ClientError(f"Extraneous hyperparameter found: {name}{suffix}")
    out: dict[str, Any] = {}
    for name, spec in by_name.items():
        if name in given:
            out[name] = spec.parse(given[name])
        elif spec.required:
            raise ClientError(f"Missing required hyperparameter: {name}")
        elif spec.default is not None:
            out[name] = spec.parse(spec.default)
    return out
