"""Versions and aliases in Lambda's output shapes (FunctionConfiguration, AliasConfiguration),
with the states and reasons Lambda reports (Lambda DG, "Lambda function states": a new
function is Pending with reason code Creating; an update is InProgress)."""

from __future__ import annotations

import time
from typing import Any

from cove.functions.model import Alias, State, UpdateStatus, Version
from cove.functions.names import LATEST, Arns

CREATING = ("The function is being created.", "Creating")


def last_modified(when: float) -> str:
    """Lambda's LastModified: ISO 8601 with milliseconds and a +0000 offset."""
    millis = int(round(when * 1000)) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{millis:03d}+0000"


def configuration(arns: Arns, version: Version) -> dict[str, Any]:
    c = version.config
    out: dict[str, Any] = {
        "FunctionName": version.name,
        # $LATEST answers with the unqualified ARN, a published version with its number
        "FunctionArn": arns.function(
            version.name, None if version.version == LATEST else version.version
        ),
        "Runtime": c.runtime,
        "Role": c.role,
        "Handler": c.handler,
        "CodeSize": version.code.size,
        "Description": c.description,
        "Timeout": c.timeout,
        "MemorySize": c.memory_size,
        "LastModified": last_modified(version.last_modified),
        "CodeSha256": version.code.sha256,
        "Version": version.version,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": version.revision_id,
        "State": version.state.value,
        "PackageType": "Zip",
        "Architectures": list(c.architectures),
        "EphemeralStorage": {"Size": c.ephemeral_storage},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{version.name}"},
    }
    if c.environment:
        out["Environment"] = {"Variables": dict(c.environment)}
    if c.vpc is not None:
        out["VpcConfig"] = {
            "SubnetIds": list(c.vpc.subnet_ids),
            "SecurityGroupIds": list(c.vpc.security_group_ids),
            "VpcId": c.vpc.vpc_id,
            "Ipv6AllowedForDualStack": False,
        }
    if version.state is State.PENDING:
        out["StateReason"], out["StateReasonCode"] = CREATING
    if version.update_status is not None:
        out["LastUpdateStatus"] = version.update_status.value
    if version.update_status is UpdateStatus.IN_PROGRESS:
        out["LastUpdateStatusReason"], out["LastUpdateStatusReasonCode"] = CREATING
    return out


def alias_configuration(arns: Arns, alias: Alias) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AliasArn": arns.function(alias.name, alias.alias),
        "Name": alias.alias,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.routing:
        out["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.routing)}
    return out
