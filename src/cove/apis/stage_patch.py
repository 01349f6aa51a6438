"""UpdateStage's patches (API Reference, "Patch Operations", UpdateStage): the stage's
description, deployment, variables and tracing, and its method settings at
`/{resourcePath}/{httpMethod}/<group>/<setting>` (`/*/*/logging/loglevel`), a setting key
removed whole with `remove /{resourcePath}/{httpMethod}`. Texts as AWS answers them
(recorded from AWS in localstack's snapshots): "Invalid method setting path: ...",
"Cannot remove method setting */* because there is no method setting for this method ",
and, without an account CloudWatch role, "CloudWatch Logs role ARN must be set in account
settings to enable logging" (seen from AWS in Miserlou/Zappa#1946)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from cove.apis.failures import bad_request
from cove.apis.method_settings import WILDCARD, LoggingLevel, MethodSetting
from cove.apis.model import Stage
from cove.apis.patch import Patch, PatchOp, boolean, integer, number, unescape

# AWS's own list, verbatim (its missing commas included)
VALID_PATHS = (
    "[/deploymentId, /description, /cacheClusterEnabled, /cacheClusterSize, "
    "/clientCertificateId, /accessLogSettings, /accessLogSettings/destinationArn, "
    "/accessLogSettings/format, /{resourcePath}/{httpMethod}/metrics/enabled, "
    "/{resourcePath}/{httpMethod}/logging/dataTrace, "
    "/{resourcePath}/{httpMethod}/logging/loglevel, "
    "/{resourcePath}/{httpMethod}/throttling/burstLimit"
    "/{resourcePath}/{httpMethod}/throttling/rateLimit"
    "/{resourcePath}/{httpMethod}/caching/ttlInSeconds, "
    "/{resourcePath}/{httpMethod}/caching/enabled, "
    "/{resourcePath}/{httpMethod}/caching/dataEncrypted, "
    "/{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, "
    "/{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, "
    "/*/*/metrics/enabled, /*/*/logging/dataTrace, /*/*/logging/loglevel, "
    "/*/*/throttling/burstLimit /*/*/throttling/rateLimit /*/*/caching/ttlInSeconds, "
    "/*/*/caching/enabled, /*/*/caching/dataEncrypted, "
    "/*/*/caching/requireAuthorizationForCacheControl, "
    "/*/*/caching/unauthorizedCacheControlHeaderStrategy, /variables/{variable_name}, "
    "/tracingEnabled]"
)
NO_ROLE = "CloudWatch Logs role ARN must be set in account settings to enable logging"
CACHE_STRATEGIES = (
    "FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER",
)  # fmt: skip


def _level(patch: Patch) -> LoggingLevel:
    try:
        return LoggingLevel((patch.value or "").upper())  # the CLI's examples say "info"
    except ValueError:
        # Cove's wording: no AWS text for this was found
        raise bad_request(
            f"Invalid logging level: {patch.value}. Must be one of: [OFF, ERROR, INFO]"
        ) from None


def _strategy(patch: Patch) -> str:
    if patch.value not in CACHE_STRATEGIES:
        raise bad_request(f"Invalid unauthorizedCacheControlHeaderStrategy: {patch.value}")
    return patch.value


# "<group>/<setting>" -> (MethodSetting field, how the value reads)
LEAVES: dict[str, tuple[str, Callable[[Patch], Any]]] = {
    "metrics/enabled": ("metrics_enabled", boolean),
    "logging/dataTrace": ("data_trace_enabled", boolean),
    "logging/loglevel": ("logging_level", _level),
    "throttling/burstLimit": ("throttling_burst_limit",
                              lambda p: integer(p, 0, 2**31 - 1, "Invalid burst limit")),
    "throttling/rateLimit": ("throttling_rate_limit", lambda p: number(p, "Invalid rate limit")),
    "caching/enabled": ("caching_enabled", boolean),
    "caching/dataEncrypted": ("cache_data_encrypted", boolean),
    "caching/ttlInSeconds": ("cache_ttl_in_seconds",
                             lambda p: integer(p, 0, 3600, "Invalid cache TTL")),
    "caching/requireAuthorizationForCacheControl": (
        "require_authorization_for_cache_control", boolean),
    "caching/unauthorizedCacheControlHeaderStrategy": (
        "unauthorized_cache_control_header_strategy", _strategy),
}  # fmt: skip
_MEMBERS = {"/description", "/deploymentId", "/tracingEnabled"}


def apply(
    stage: Stage,
    patches: Iterable[Patch],
    deployment_exists: Callable[[str], bool],
    logging_allowed: bool,
) -> Stage:
    for patch in patches:
        stage = _one(stage, patch, deployment_exists, logging_allowed)
    return stage


def _one(
    stage: Stage, patch: Patch, deployment_exists: Callable[[str], bool], logging_allowed: bool
) -> Stage:
    parts = patch.path.split("/")[1:]
    if patch.path in _MEMBERS or (len(parts) == 2 and parts[0] == "variables"):
        _only(patch, PatchOp.REPLACE, *((PatchOp.REMOVE,) if parts[0] == "variables" else ()))
        return _member(stage, patch, parts, deployment_exists)
    if len(parts) >= 4 and "/".join(parts[-2:]) in LEAVES:
        _only(patch, PatchOp.REPLACE)
        return _setting(stage, patch, "/".join(parts[:-2]), "/".join(parts[-2:]), logging_allowed)
    if len(parts) >= 2 and patch.op is PatchOp.REMOVE and parts[-1] and parts[-2]:
        key = "/".join(parts)
        if key not in stage.method_settings:
            raise bad_request(f"Cannot remove method setting {key} because there is no method "
                              f"setting for this method ")  # fmt: skip
        settings = {k: v for k, v in stage.method_settings.items() if k != key}
        return replace(stage, method_settings=settings)
    raise bad_request(f"Invalid method setting path: {patch.path}. Must be one of: {VALID_PATHS}")


def _only(patch: Patch, *ops: PatchOp) -> None:
    if patch.op not in ops:
        raise bad_request(f"Invalid {patch.op} operation with path: {patch.path}")


def _member(
    stage: Stage, patch: Patch, parts: list[str], deployment_exists: Callable[[str], bool]
) -> Stage:
    if parts[0] == "variables":
        variables = dict(stage.variables)
        name = unescape(parts[1])
        if patch.op is PatchOp.REMOVE:
            variables.pop(name, None)
        else:
            variables[name] = patch.value or ""
        return replace(stage, variables=variables)
    if parts[0] == "description":
        return replace(stage, description=patch.value or "")
    if parts[0] == "tracingEnabled":
        return replace(stage, tracing_enabled=boolean(patch))
    deployment = patch.value or ""
    if not deployment_exists(deployment):
        raise bad_request("Deployment id does not exist")
    return replace(stage, deployment_id=deployment)


def _setting(stage: Stage, patch: Patch, key: str, leaf: str, logging_allowed: bool) -> Stage:
    name, read = LEAVES[leaf]
    value = read(patch)
    if leaf == "logging/loglevel" and value is not LoggingLevel.OFF and not logging_allowed:
        raise bad_request(NO_ROLE)
    settings = dict(stage.method_settings)
    # a new key starts from */* when there is one
    current = settings.get(key) or settings.get(WILDCARD) or MethodSetting()
    settings[key] = replace(current, **{name: value})
    return replace(stage, method_settings=settings)
