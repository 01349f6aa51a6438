"""Policy documents: AWS's grammar, parsed into frozen dataclasses and compiled once.

A document that is not valid grammar is refused as IAM refuses it, with
`MalformedPolicyDocument` (400) and IAM's own message where one is known (IAM UG,
"Grammar of the IAM JSON policy language", "Troubleshoot JSON policy documents"). The
three grammars differ in the Principal and Resource elements:

- identity policies (also session policies and permissions boundaries): no Principal or
  NotPrincipal, Resource or NotResource required;
- resource-based policies (and VPC endpoint policies): Principal or NotPrincipal and
  Resource or NotResource required;
- role trust policies: Principal required, no NotPrincipal, no Resource or NotResource.

Without `"Version": "2012-10-17"` a `${...}` is literal text, not a variable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any

from cove.errors import AwsError
from cove.iam.conditions import Condition, UnknownOperator
from cove.iam.context import ConditionContext
from cove.iam.patterns import Template, arn_regex, glob_fragment, is_arn_like


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


class PolicyVersion(Enum):
    V2012_10_17 = "2012-10-17"
    V2008_10_17 = "2008-10-17"


class PolicyKind(Enum):
    """Which grammar a document is held to."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"


# Messages IAM answers with (quoted from its responses; see the test module).
SYNTAX_ERROR = "Syntax errors in policy."
LEGACY_PARSING = "The policy failed legacy parsing"
VERSION_REQUIRED = "Policy document must be version 2012-10-17 or greater."
PRINCIPAL_IN_IDENTITY = "Policy document should not specify a principal."
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."
NO_PRINCIPAL = "Missing required field Principal"
TRUST_WITHOUT_PRINCIPAL = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)
NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
VENDOR_WILDCARD = "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards"
SID_CHARACTERS = (
    "Statement IDs (SID) must be alpha-numeric. "
    "Check that your input satisfies the regular expression [0-9A-Za-z]*"
)
SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."


def malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocument", message, 400)


def prohibited_field(name: str) -> str:
    return f"Has prohibited field {name}"


def invalid_principal(kind: str, value: str) -> str:
    return f'Invalid principal in policy: "{kind}":"{value}"'


def invalid_resource(value: str) -> str:
    return f'Resource {value} must be in ARN format or "*".'


# The size IAM counts against its quotas: white space is not counted (IAM UG, "IAM and
# AWS STS quotas"). Exceeding one is LimitExceeded (409), the caller's to raise.
MANAGED_POLICY_MAX_SIZE = 6144
ROLE_TRUST_POLICY_MAX_SIZE = 2048  # default quota, adjustable to 4096
INLINE_POLICIES_MAX_SIZE = {"user": 2048, "group": 5120, "role": 10240}


def policy_size(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


# --- the parsed document ------------------------------------------------------------

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_AWS_PRINCIPAL = re.compile(
    r"^arn:aws:(iam::\d{12}:(root|user/.+|role/.+)|sts::\d{12}:(assumed-role/[^/]+/.+|federated-user/.+))$"
)
_UNIQUE_ID = re.compile(r"^A[A-Z0-9]{15,127}$")  # what IAM keeps once a principal is deleted
_SID = re.compile(r"^[0-9A-Za-z]*$")

_POLICY_FIELDS = {"Version", "Id", "Statement"}
_STATEMENT_FIELDS = {
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
    "Resource", "NotResource", "Condition",
}  # fmt: skip
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


def account_root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


@dataclass(frozen=True)
class Principals:
    """A Principal or NotPrincipal element. Account IDs are stored as their root ARN."""

    wildcard: bool = False  # "*", or {"AWS": "*"}: everyone
    aws: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_users: tuple[str, ...] = ()

    @cached_property
    def names(self) -> frozenset[str]:
        """What a caller's names are looked up in (service names without case)."""
        return frozenset(self.aws) | {s.lower() for s in self.services}


class _Matcher:
    """Any of a statement's patterns (its Action or Resource list), compiled once."""

    __slots__ = ("everything", "static", "templates")

    def __init__(
        self, everything: bool, static: re.Pattern[str] | None, templates: tuple[Template, ...]
    ):
        self.everything = everything
        self.static = static
        self.templates = templates

    def matches(self, value: str, context: ConditionContext) -> bool:
        if self.everything:
            return True
        if self.static is not None and self.static.fullmatch(value):
            return True
        for template in self.templates:
            resolved = template.resolve(context)  # a variable without a value matches nothing
            regex = None if resolved is None else arn_regex(resolved)
            if regex is not None and regex.fullmatch(value):
                return True
        return False


def _action_matcher(patterns: tuple[str, ...]) -> _Matcher:
    if "*" in patterns:
        return _Matcher(True, None, ())
    source = "|".join(glob_fragment(p) for p in patterns)
    return _Matcher(False, re.compile(f"(?:{source})", re.IGNORECASE | re.DOTALL), ())


def _resource_matcher(patterns: tuple[str, ...], variables: bool) -> _Matcher:
    if "*" in patterns:
        return _Matcher(True, None, ())
    static: list[str] = []
    templates: list[Template] = []
    for pattern in patterns:
        template = Template.parse(pattern, variables)
        if template.variable_keys:
            templates.append(template)
            continue
        resolved = template.resolve(ConditionContext())
        regex = None if resolved is None else arn_regex(resolved)
        if regex is not None:
            static.append(regex.pattern)
    joined = re.compile("(?:" + "|".join(static) + ")", re.DOTALL) if static else None
    return _Matcher(False, joined, tuple(templates))


@dataclass(frozen=True)
class Statement:
    effect: Effect
    sid: str | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None  # both None: a trust policy's statement
    not_resources: tuple[str, ...] | None = None
    principals: Principals | None = None
    not_principals: Principals | None = None
    conditions: tuple[Condition, ...] = ()
    variables: bool = True  # False without Version 2012-10-17
    _actions: _Matcher = field(init=False, repr=False, compare=False)
    _resources: _Matcher | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        actions = self.actions if self.actions is not None else self.not_actions or ()
        object.__setattr__(self, "_actions", _action_matcher(actions))
        resources = self.resources if self.resources is not None else self.not_resources
        matcher = None if resources is None else _resource_matcher(resources, self.variables)
        object.__setattr__(self, "_resources", matcher)

    def matches_action(self, action: str) -> bool:
        return self._actions.matches(action, _NO_CONTEXT) != (self.not_actions is not None)

    def matches_resource(self, resource: str, context: ConditionContext) -> bool:
        if self._resources is None:
            return True
        return self._resources.matches(resource, context) != (self.not_resources is not None)

    def matches(self, action: str, resource: str, context: ConditionContext) -> bool:
        """Action, Resource and Condition all apply (Principal is evaluation's to check)."""
        actions = self._actions  # inlined: this runs for every statement of every request
        listed = actions.everything or actions.static.fullmatch(action) is not None  # type: ignore[union-attr]
        if listed == (self.not_actions is not None):
            return False
        if not self.matches_resource(resource, context):
            return False
        return all(condition.holds(context) for condition in self.conditions)


_NO_CONTEXT = ConditionContext()


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    kind: PolicyKind = PolicyKind.IDENTITY
    version: PolicyVersion | None = PolicyVersion.V2012_10_17
    id: str | None = None
    allows: tuple[Statement, ...] = field(init=False, repr=False, compare=False)
    denies: tuple[Statement, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, effect in (("allows", Effect.ALLOW), ("denies", Effect.DENY)):
            object.__setattr__(self, name, tuple(s for s in self.statements if s.effect is effect))

    @cached_property
    def referenced_keys(self) -> frozenset[str]:
        """Every condition key its conditions and variables read (lowercased)."""
        keys: set[str] = set()
        for statement in self.statements:
            for condition in statement.conditions:
                keys |= condition.referenced_keys
            for pattern in (statement.resources or ()) + (statement.not_resources or ()):
                keys |= Template.parse(pattern, statement.variables).variable_keys
        return frozenset(keys)


# --- parsing ------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """IAM refuses an element given twice (e.g. two Effect blocks)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise malformed(SYNTAX_ERROR)
        result[key] = value
    return result


def _load(document: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(document, Mapping):
        return document
    try:
        loaded = json.loads(document, object_pairs_hook=_no_duplicates)
    except (ValueError, TypeError):
        raise malformed(SYNTAX_ERROR) from None
    if not isinstance(loaded, dict):
        raise malformed(SYNTAX_ERROR)
    return loaded


def _strings(value: Any, *, empty: str) -> tuple[str, ...]:
    """A string or a list of strings; `empty` is the message for an empty list."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        if not value:
            raise malformed(empty)
        return tuple(value)
    raise malformed(SYNTAX_ERROR)


def _check_action(action: str) -> None:
    if action == "*":
        return
    vendor, colon, _ = action.partition(":")
    if not colon or not vendor:
        raise malformed(NO_VENDOR)
    if action.count(":") > 1:
        raise malformed(ONE_COLON)
    if "*" in vendor or "?" in vendor:
        raise malformed(VENDOR_WILDCARD)


def _check_resource(resource: str) -> None:
    if resource != "*" and not is_arn_like(resource):
        raise malformed(invalid_resource(resource))


def _principals(value: Any) -> Principals:
    if value == "*":
        return Principals(wildcard=True)
    if not isinstance(value, dict) or not value or set(value) - set(_PRINCIPAL_TYPES):
        raise malformed(SYNTAX_ERROR)
    entries = {
        kind: _strings(value[kind], empty=SYNTAX_ERROR) if kind in value else ()
        for kind in _PRINCIPAL_TYPES
    }
    aws: list[str] = []
    wildcard = False
    for entry in entries["AWS"]:
        if entry == "*":
            wildcard = True
        elif _ACCOUNT_ID.match(entry):
            aws.append(account_root(entry))
        elif (_AWS_PRINCIPAL.match(entry) and "*" not in entry) or _UNIQUE_ID.match(entry):
            aws.append(entry)
        else:
            raise malformed(invalid_principal("AWS", entry))
    for kind in ("Service", "Federated", "CanonicalUser"):
        for entry in entries[kind]:
            if not entry:
                raise malformed(invalid_principal(kind, entry))
    return Principals(
        wildcard=wildcard,
        aws=tuple(aws),
        services=entries["Service"],
        federated=entries["Federated"],
        canonical_users=entries["CanonicalUser"],
    )


def _condition_value(value: Any) -> str:
    """Condition values may be JSON numbers and booleans as well as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise malformed(SYNTAX_ERROR)


def _conditions(block: Any, variables: bool) -> tuple[Condition, ...]:
    if not isinstance(block, dict):
        raise malformed(SYNTAX_ERROR)
    conditions: list[Condition] = []
    for operator, entries in block.items():
        if not isinstance(entries, dict) or not entries:
            raise malformed(SYNTAX_ERROR)
        for key, raw in entries.items():
            if ":" not in key.split("/", 1)[0]:
                raise malformed(NO_VENDOR)
            listed = raw if isinstance(raw, list) else [raw]
            if not listed:
                raise malformed(SYNTAX_ERROR)
            values = tuple(_condition_value(v) for v in listed)
            try:
                conditions.append(Condition(operator, key, values, variables))
            except UnknownOperator:
                raise malformed(SYNTAX_ERROR) from None
    return tuple(conditions)


def _one_of(raw: Mapping[str, Any], a: str, b: str) -> str | None:
    if a in raw and b in raw:
        raise malformed(SYNTAX_ERROR)
    return a if a in raw else b if b in raw else None


def _statement(raw: Any, kind: PolicyKind, variables: bool) -> Statement:
    if not isinstance(raw, dict) or set(raw) - _STATEMENT_FIELDS:
        raise malformed(SYNTAX_ERROR)
    if "Effect" not in raw:
        raise malformed(SYNTAX_ERROR)
    effects = {e.value: e for e in Effect}
    if raw["Effect"] not in effects:  # "The Effect value is case sensitive"
        raise malformed(LEGACY_PARSING)
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise malformed(SYNTAX_ERROR)
    if sid and kind is not PolicyKind.RESOURCE and not _SID.match(sid):
        raise malformed(SID_CHARACTERS)

    principal_field = _one_of(raw, "Principal", "NotPrincipal")
    if kind is PolicyKind.IDENTITY and principal_field:
        raise malformed(PRINCIPAL_IN_IDENTITY)
    if kind is PolicyKind.TRUST:
        if principal_field == "NotPrincipal":
            raise malformed(prohibited_field("NotPrincipal"))
        if principal_field is None:
            raise malformed(TRUST_WITHOUT_PRINCIPAL)
    if kind is PolicyKind.RESOURCE and principal_field is None:
        raise malformed(NO_PRINCIPAL)
    principals = _principals(raw[principal_field]) if principal_field else None

    action_field = _one_of(raw, "Action", "NotAction")
    if action_field is None:
        raise malformed(NO_ACTIONS)
    actions = _strings(raw[action_field], empty=NO_ACTIONS)
    for action in actions:
        _check_action(action)

    resource_field = _one_of(raw, "Resource", "NotResource")
    resources: tuple[str, ...] | None = None
    if kind is PolicyKind.TRUST:
        if resource_field:
            raise malformed(prohibited_field(resource_field))
    elif resource_field is None:
        raise malformed(NO_RESOURCES)
    else:
        resources = _strings(raw[resource_field], empty=NO_RESOURCES)
        for resource in resources:
            _check_resource(resource)

    conditions = _conditions(raw["Condition"], variables) if "Condition" in raw else ()
    return Statement(
        effect=effects[raw["Effect"]],
        sid=sid,
        actions=actions if action_field == "Action" else None,
        not_actions=actions if action_field == "NotAction" else None,
        resources=resources if resource_field == "Resource" else None,
        not_resources=resources if resource_field == "NotResource" else None,
        principals=principals if principal_field == "Principal" else None,
        not_principals=principals if principal_field == "NotPrincipal" else None,
        conditions=conditions,
        variables=variables,
    )


def parse_policy(
    document: str | bytes | Mapping[str, Any],
    kind: PolicyKind = PolicyKind.IDENTITY,
    *,
    require_version: bool = False,
) -> Policy:
    """Parse and validate `document`, raising AwsError("MalformedPolicyDocument", ...).

    `require_version` refuses documents that are not Version 2012-10-17, as IAM does for
    managed policies.
    """
    raw = _load(document)
    if not isinstance(raw, Mapping) or set(raw) - _POLICY_FIELDS or "Statement" not in raw:
        raise malformed(SYNTAX_ERROR)
    version_text = raw.get("Version")
    versions = {v.value: v for v in PolicyVersion}
    if version_text is not None and version_text not in versions:
        raise malformed(LEGACY_PARSING)
    version = versions.get(version_text) if version_text is not None else None
    if require_version and version is not PolicyVersion.V2012_10_17:
        raise malformed(VERSION_REQUIRED)
    policy_id = raw.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise malformed(SYNTAX_ERROR)

    body = raw["Statement"]
    listed = body if isinstance(body, list) else [body]
    variables = version is PolicyVersion.V2012_10_17
    statements = tuple(_statement(s, kind, variables) for s in listed)
    sids = [s.sid for s in statements if s.sid]
    if len(sids) != len(set(sids)):
        raise malformed(SID_UNIQUE)
    return Policy(statements, kind, version, policy_id)
