"""Function names, ARNs and qualifiers as Lambda takes them: FunctionName may be the name,
`name:qualifier`, the partial ARN `<account>:function:<name>[:qualifier]`, or the full
ARN `arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]` (Lambda API
reference, "Invoke": FunctionName)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cove.functions.failures import Failure, FunctionError

LATEST = "$LATEST"
_VERSION = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class FunctionRef:
    name: str
    qualifier: str | None = None  # None: unqualified; "$LATEST", a version, or an alias


def parse_reference(text: str, qualifier: str | None = None) -> FunctionRef:
    """The function and qualifier `text` names; a separate Qualifier must agree with one
    in the name or ARN."""
    parts = text.split(":")
    if text.startswith("arn:"):
        parts = parts[6:]  # arn aws lambda region account function | name [qualifier]
    elif len(parts) >= 3 and parts[1] == "function":
        parts = parts[2:]
    name = parts[0]
    embedded = parts[1] if len(parts) > 1 else None
    if embedded is not None and qualifier is not None and embedded != qualifier:
        raise FunctionError(Failure.INVALID_QUALIFIER, qualifier=qualifier)
    return FunctionRef(name, embedded if embedded is not None else qualifier)


def is_version(qualifier: str) -> bool:
    return qualifier == LATEST or bool(_VERSION.match(qualifier))


@dataclass(frozen=True)
class Arns:
    """The account's Lambda ARNs in one region."""

    region: str
    account: str

    def function(self, name: str, qualifier: str | None = None) -> str:
        arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
        return arn if qualifier is None else f"{arn}:{qualifier}"
