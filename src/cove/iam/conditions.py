"""Condition operators (IAM UG, "IAM JSON policy elements: Condition operators").

One condition is an operator, a key and the policy's values for it. The rules, from the
operator and multiple-keys-or-values pages:

- The values listed for one key are ORed; for a negated operator (StringNotEquals,
  NotIpAddress, ...) the request value must match none of them.
- A key missing from the request makes a condition false, and a negated one true.
  `...IfExists` makes a missing key true for every operator; `Null` tests presence.
- `ForAllValues:` is true when every request value matches (so also when the key is
  missing or empty); `ForAnyValue:` when at least one does (so false when missing).
- Policy variables substitute in the String, ARN and Bool operators only.
- Values: String and ARN operators compare case-sensitively (but the IgnoreCase ones);
  Bool compares "true"/"false" without case; Date takes W3C ISO 8601 or epoch seconds;
  BinaryEquals compares bytes, the request's value given base64-encoded like the policy's.
- A policy value an operator cannot read (a Numeric value that is no number, a CIDR that
  is none) matches nothing.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from cove.iam.context import ConditionContext
from cove.iam.patterns import Template, arn_regex, like_regex, text_of


class Family(Enum):
    STRING = "String"
    NUMERIC = "Numeric"
    DATE = "Date"
    BOOL = "Bool"
    BINARY = "Binary"
    IP = "IpAddress"
    ARN = "Arn"
    NULL = "Null"


class SetQualifier(Enum):
    FOR_ALL_VALUES = "ForAllValues"
    FOR_ANY_VALUE = "ForAnyValue"


class UnknownOperator(ValueError):
    """Not a condition operator AWS defines."""


# --- policy values, compiled once per document -------------------------------------

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EPOCH = re.compile(r"^[+-]?\d+$")
_YEAR_OR_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def parse_number(text: str) -> float | None:
    return float(text) if _DECIMAL.match(text.strip()) else None


def parse_date(text: str) -> float | None:
    """Seconds since the epoch for W3C ISO 8601 text or epoch seconds; None if neither."""
    text = text.strip()
    if _EPOCH.match(text):
        return float(text)
    short = _YEAR_OR_MONTH.match(text)  # "YYYY" and "YYYY-MM", which fromisoformat refuses
    try:
        if short:
            when = datetime(int(short.group(1)), int(short.group(2) or 1), 1, tzinfo=UTC)
        else:
            when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR block; a bare address is its own /32 (or /128)."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def parse_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


# --- operators ----------------------------------------------------------------------

# A test takes the compiled policy value, one request value and the context (for
# variables) and says whether the value matches; negated operators invert it.
Test = Callable[[object, str, ConditionContext], bool]


def _resolved_text(template: object, context: ConditionContext) -> str | None:
    assert isinstance(template, Template)
    resolved = template.resolve(context)
    return None if resolved is None else text_of(resolved)


def _string_equals(policy: object, value: str, context: ConditionContext) -> bool:
    return _resolved_text(policy, context) == value


def _string_equals_ignore_case(policy: object, value: str, context: ConditionContext) -> bool:
    text = _resolved_text(policy, context)
    return text is not None and text.lower() == value.lower()


def _string_like(policy: object, value: str, context: ConditionContext) -> bool:
    assert isinstance(policy, Template)
    resolved = policy.resolve(context)
    return resolved is not None and like_regex(resolved).fullmatch(value) is not None


def _arn_like(policy: object, value: str, context: ConditionContext) -> bool:
    assert isinstance(policy, Template)
    resolved = policy.resolve(context)
    if resolved is None:
        return False
    if resolved == ("*",):
        return True
    regex = arn_regex(resolved)
    return regex is not None and regex.fullmatch(value) is not None


def _bool_equals(policy: object, value: str, context: ConditionContext) -> bool:
    text = _resolved_text(policy, context)
    return text is not None and text.lower() == value.lower()


def _compare(parse: Callable[[str], float | None], accept: Callable[[float, float], bool]) -> Test:
    def test(policy: object, value: str, context: ConditionContext) -> bool:
        request = parse(value)
        return policy is not None and request is not None and accept(request, policy)  # type: ignore[arg-type]

    return test


def _binary_equals(policy: object, value: str, context: ConditionContext) -> bool:
    return policy is not None and parse_binary(value) == policy


def _in_network(policy: object, value: str, context: ConditionContext) -> bool:
    if policy is None:
        return False
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    assert isinstance(policy, ipaddress.IPv4Network | ipaddress.IPv6Network)
    return address.version == policy.version and address in policy


def _numbers(policy_value: str, variables: bool) -> object:
    return parse_number(policy_value)


def _dates(policy_value: str, variables: bool) -> object:
    return parse_date(policy_value)


def _templates(policy_value: str, variables: bool) -> object:
    return Template.parse(policy_value, variables)


def _networks(policy_value: str, variables: bool) -> object:
    return parse_network(policy_value)


def _binaries(policy_value: str, variables: bool) -> object:
    return parse_binary(policy_value)


def _nulls(policy_value: str, variables: bool) -> object:
    return policy_value.strip().lower() == "true"


Compile = Callable[[str, bool], object]

_COMPILERS: dict[Family, Compile] = {
    Family.STRING: _templates,
    Family.ARN: _templates,
    Family.BOOL: _templates,
    Family.NUMERIC: _numbers,
    Family.DATE: _dates,
    Family.IP: _networks,
    Family.BINARY: _binaries,
    Family.NULL: _nulls,
}


@dataclass(frozen=True)
class Operator:
    name: str
    family: Family
    test: Test
    negated: bool = False


def _ordered(family: Family, prefix: str, parse: Callable[[str], float | None]) -> list[Operator]:
    ops = {
        "Equals": (lambda a, b: a == b, False),
        "NotEquals": (lambda a, b: a == b, True),
        "LessThan": (lambda a, b: a < b, False),
        "LessThanEquals": (lambda a, b: a <= b, False),
        "GreaterThan": (lambda a, b: a > b, False),
        "GreaterThanEquals": (lambda a, b: a >= b, False),
    }
    return [
        Operator(prefix + suffix, family, _compare(parse, accept), negated)
        for suffix, (accept, negated) in ops.items()
    ]


_OPERATORS: dict[str, Operator] = {
    op.name.lower(): op
    for op in [
        Operator("StringEquals", Family.STRING, _string_equals),
        Operator("StringNotEquals", Family.STRING, _string_equals, True),
        Operator("StringEqualsIgnoreCase", Family.STRING, _string_equals_ignore_case),
        Operator("StringNotEqualsIgnoreCase", Family.STRING, _string_equals_ignore_case, True),
        Operator("StringLike", Family.STRING, _string_like),
        Operator("StringNotLike", Family.STRING, _string_like, True),
        *_ordered(Family.NUMERIC, "Numeric", parse_number),
        *_ordered(Family.DATE, "Date", parse_date),
        Operator("Bool", Family.BOOL, _bool_equals),
        Operator("BinaryEquals", Family.BINARY, _binary_equals),
        Operator("IpAddress", Family.IP, _in_network),
        Operator("NotIpAddress", Family.IP, _in_network, True),
        # "ArnEquals and ArnLike behave identically", as do their negations
        Operator("ArnEquals", Family.ARN, _arn_like),
        Operator("ArnLike", Family.ARN, _arn_like),
        Operator("ArnNotEquals", Family.ARN, _arn_like, True),
        Operator("ArnNotLike", Family.ARN, _arn_like, True),
        Operator("Null", Family.NULL, lambda policy, value, context: False),
    ]
}

OPERATOR_NAMES = tuple(op.name for op in _OPERATORS.values())


@dataclass(frozen=True)
class ParsedOperator:
    operator: Operator
    qualifier: SetQualifier | None
    if_exists: bool


def parse_operator(name: str) -> ParsedOperator:
    """`ForAnyValue:StringLikeIfExists` and the like; UnknownOperator if it is none."""
    qualifier = None
    base = name
    if ":" in name:
        prefix, base = name.split(":", 1)
        qualifier = next((q for q in SetQualifier if q.value.lower() == prefix.lower()), None)
        if qualifier is None:
            raise UnknownOperator(name)
    if_exists = base.lower().endswith("ifexists") and base.lower() != "ifexists"
    if if_exists:
        base = base[: -len("IfExists")]
    operator = _OPERATORS.get(base.lower())
    if operator is None:
        raise UnknownOperator(name)
    # "You can add IfExists to the end of any condition operator name except the Null
    # condition"; a set of values has no presence of its own to test either.
    if operator.family is Family.NULL and (if_exists or qualifier is not None):
        raise UnknownOperator(name)
    return ParsedOperator(operator, qualifier, if_exists)


@dataclass(frozen=True)
class Condition:
    """One operator-key-values entry of a statement's Condition block."""

    operator: str
    key: str
    values: tuple[str, ...]
    variables: bool = True  # False in documents without Version 2012-10-17
    _parsed: ParsedOperator = field(init=False, repr=False, compare=False)
    _compiled: tuple[object, ...] = field(init=False, repr=False, compare=False)
    _key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parsed = parse_operator(self.operator)
        allow_variables = self.variables and parsed.operator.family in (
            Family.STRING,
            Family.ARN,
            Family.BOOL,
        )
        compile_value = _COMPILERS[parsed.operator.family]
        object.__setattr__(self, "_parsed", parsed)
        object.__setattr__(
            self, "_compiled", tuple(compile_value(v, allow_variables) for v in self.values)
        )
        object.__setattr__(self, "_key", self.key.lower())

    @property
    def family(self) -> Family:
        return self._parsed.operator.family

    @property
    def referenced_keys(self) -> frozenset[str]:
        """The condition key and every key its values' variables read (lowercased)."""
        keys = {self._key}
        for value in self._compiled:
            if isinstance(value, Template):
                keys |= value.variable_keys
        return frozenset(keys)

    def holds(self, context: ConditionContext) -> bool:
        parsed = self._parsed
        operator = parsed.operator
        request = context.values_of(self._key)
        if operator.family is Family.NULL:
            absent = request is None or all(v == "" for v in request)
            return any(wants_absent == absent for wants_absent in self._compiled)
        if request is None:
            if parsed.if_exists:
                return True
            if parsed.qualifier is SetQualifier.FOR_ALL_VALUES:
                return True
            if parsed.qualifier is SetQualifier.FOR_ANY_VALUE:
                return False
            return operator.negated

        def satisfied(value: str) -> bool:
            matched = any(operator.test(policy, value, context) for policy in self._compiled)
            return matched != operator.negated

        if parsed.qualifier is not None:
            # an empty list or an empty string is a null data set
            values = [v for v in request if v != ""]
            if parsed.qualifier is SetQualifier.FOR_ALL_VALUES:
                return all(satisfied(v) for v in values)
            return any(satisfied(v) for v in values)
        # A single-valued operator on several request values: any value matching counts
        # as a match, so its negation holds only when none does.
        matched = any(
            operator.test(policy, value, context) for value in request for policy in self._compiled
        )
        return matched != operator.negated


def conditions_hold(conditions: tuple[Condition, ...], context: ConditionContext) -> bool:
    """Every operator and every key of a Condition block must hold (logical AND)."""
    return all(condition.holds(context) for condition in conditions)
