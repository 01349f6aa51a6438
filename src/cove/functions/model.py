"""What the store keeps of a function: each version's configuration (the unpublished
`$LATEST` among them), its state, its aliases. Plain values; the front end renders them
in Lambda's shapes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class State(Enum):
    """FunctionConfiguration.State (Lambda DG, "Lambda function states")."""

    PENDING = "Pending"
    ACTIVE = "Active"
    FAILED = "Failed"


class UpdateStatus(Enum):
    """FunctionConfiguration.LastUpdateStatus: absent until creation completes, then
    Successful; InProgress while an update is applied."""

    IN_PROGRESS = "InProgress"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"


@dataclass(frozen=True)
class VpcSettings:
    """VpcConfig as given and checked; the workers run as hosts in these subnets."""

    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    vpc_id: str = ""


@dataclass(frozen=True)
class CodeRef:
    """A deployment package: its key in the package store and what Lambda reports."""

    key: str  # hex sha256 of the zip
    sha256: str  # CodeSha256: base64 of the zip's sha256
    size: int  # CodeSize in bytes


@dataclass(frozen=True)
class FunctionConfig:
    """What CreateFunction and UpdateFunctionConfiguration set."""

    runtime: str
    handler: str
    role: str
    description: str = ""
    timeout: int = 3  # seconds; Lambda's default (Lambda API reference, CreateFunction)
    memory_size: int = 128  # MB; Lambda's default
    environment: dict[str, str] = field(default_factory=dict)
    vpc: VpcSettings | None = None
    architectures: tuple[str, ...] = ("x86_64",)
    ephemeral_storage: int = 512

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    def digest(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @classmethod
    def from_json(cls, text: str) -> FunctionConfig:
        raw: dict[str, Any] = json.loads(text)
        vpc = raw.pop("vpc")
        raw["architectures"] = tuple(raw["architectures"])
        if vpc is not None:
            vpc = VpcSettings(
                tuple(vpc["subnet_ids"]), tuple(vpc["security_group_ids"]), vpc["vpc_id"]
            )
        return cls(**raw, vpc=vpc)


@dataclass(frozen=True)
class Version:
    """One version of a function: `$LATEST` (mutable) or a published number."""

    name: str
    version: str
    config: FunctionConfig
    code: CodeRef
    state: State
    update_status: UpdateStatus | None
    revision_id: str
    last_modified: float  # seconds since the epoch


@dataclass(frozen=True)
class Alias:
    name: str  # the function's
    alias: str
    function_version: str
    description: str
    revision_id: str
    routing: dict[str, float] = field(default_factory=dict)  # AdditionalVersionWeights
