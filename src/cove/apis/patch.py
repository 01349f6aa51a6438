"""API Gateway's PATCH updates (`patchOperations`, RFC 6902 in API Gateway's dialect): each
Update* operation has a table of the paths it takes and, per path, the ops it allows
(API Reference, "Patch Operations"). A path names a member (`/description`) or an entry
of a map member (`/requestTemplates/application~1json`, "/" escaped as "~1").

Errors are API Gateway's BadRequestException, in the wording the operation answers with
(seen from AWS: localstack's recorded AWS snapshots of these operations):
- LISTED (resources, deployments): "Invalid patch path  '/x' specified for op 'replace'.
  Must be one of: [/parentId, /pathPart]" (two spaces, as AWS writes it), and for a known
  path and a refused op "... specified for op 'add'. Please choose supported operations";
- BRIEF (REST APIs, methods, integrations and their responses, the account): "Invalid
  patch path /x" and "Invalid patch operation specified. Must be one of: [replace]";
- stages have their own texts (apis/stage_patch.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Generic, TypeVar

from cove.apis.failures import bad_request

T = TypeVar("T")


class PatchOp(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    REPLACE = "replace"
    MOVE = "move"
    COPY = "copy"
    TEST = "test"


class Wording(Enum):
    LISTED = "listed"
    BRIEF = "brief"


@dataclass(frozen=True)
class Patch:
    op: PatchOp
    path: str
    value: str | None = None
    from_: str | None = None

    @property
    def key(self) -> str:
        """The map entry a two-part path names (`/requestTemplates/application~1json` ->
        `application/json`)."""
        return unescape(self.path.split("/", 2)[2])


def unescape(part: str) -> str:
    """JSON Pointer's escapes: "~1" is "/", "~0" is "~"."""
    return part.replace("~1", "/").replace("~0", "~")


def parse(operations: Iterable[Mapping[str, Any]] | None) -> list[Patch]:
    """The wire's patchOperations (the model already checked each `op`)."""
    patches = []
    for item in operations or ():
        path = item.get("path")
        if path is None:
            raise bad_request("Invalid patch path null")
        patches.append(Patch(PatchOp(item["op"]), str(path), item.get("value"), item.get("from")))
    return patches


# An update of one path: the object before, the patch, the object after.
Apply = Callable[[T, Patch], T]


@dataclass(frozen=True)
class Rule(Generic[T]):
    """A path the operation takes: a member (`/name`) or `/<member>/{key}`."""

    path: str
    ops: frozenset[PatchOp]
    apply: Apply[T]

    @property
    def is_map(self) -> bool:
        return self.path.endswith("/{key}")

    def matches(self, path: str) -> bool:
        if self.is_map:
            head = self.path.removesuffix("{key}")
            rest = path[len(head) :]
            return path.startswith(head) and bool(rest) and "/" not in rest
        return path == self.path


def rule(path: str, ops: str, apply: Apply[T]) -> Rule[T]:
    return Rule(path, frozenset(PatchOp(op) for op in ops.split()), apply)


@dataclass(frozen=True)
class PatchTable(Generic[T]):
    rules: tuple[Rule[T], ...]
    wording: Wording

    def apply(self, target: T, patches: Iterable[Patch]) -> T:
        """Every patch in order; the first one refused refuses them all."""
        for patch in patches:
            found = next((r for r in self.rules if r.matches(patch.path)), None)
            if found is None:
                raise bad_request(self._unknown(patch))
            if patch.op not in found.ops:
                raise bad_request(self._refused(patch, found))
            target = found.apply(target, patch)
        return target

    def _unknown(self, patch: Patch) -> str:
        if self.wording is Wording.LISTED:
            listed = ", ".join(r.path for r in self.rules)
            return (f"Invalid patch path  '{patch.path}' specified for op '{patch.op}'. Must be "
                    f"one of: [{listed}]")  # fmt: skip
        return f"Invalid patch path {patch.path}"

    def _refused(self, patch: Patch, found: Rule[T]) -> str:
        if self.wording is Wording.LISTED:
            return (f"Invalid patch path  '{patch.path}' specified for op '{patch.op}'. Please "
                    f"choose supported operations")  # fmt: skip
        ops = ", ".join(op for op in PatchOp if op in found.ops)
        return f"Invalid patch operation specified. Must be one of: [{ops}]"


# Values


def required(patch: Patch, member: str) -> str:
    """A value that must be there ("Invalid null or empty value in responseTemplates", as
    UpdateGatewayResponse answers)."""
    if patch.value is None or patch.value == "":
        raise bad_request(f"Invalid null or empty value in {member}")
    return patch.value


def boolean(patch: Patch) -> bool:
    """API Gateway reads "true" (any case) as true and anything else as false."""
    return (patch.value or "").strip().lower() == "true"


def integer(patch: Patch, low: int, high: int, message: str) -> int:
    text = (patch.value or "").strip()
    if not re.fullmatch(r"-?\d+", text) or not low <= int(text) <= high:
        raise bad_request(message)
    return int(text)


def number(patch: Patch, message: str) -> float:
    try:
        return float((patch.value or "").strip())
    except ValueError:
        raise bad_request(message) from None


def map_entry(
    current: Mapping[str, T], patch: Patch, value: T | None, missing: Callable[[], Exception]
) -> dict[str, T]:
    """A map member after an add, replace or remove of the entry the patch names; a
    remove of an entry that is not there is `missing()`."""
    out = dict(current)
    if patch.op is PatchOp.REMOVE:
        if patch.key not in out:
            raise missing()
        del out[patch.key]
    else:
        assert value is not None
        out[patch.key] = value
    return out
