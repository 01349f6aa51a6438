"""A stage's method settings (Stage.methodSettings): per `{resourcePath}/{httpMethod}` key,
or `*/*` for every method, logging, metrics, throttling and caching. A key made by a patch
starts as a copy of `*/*` when there is one, else from API Gateway's defaults (as AWS
answers: throttling 5000 burst / 10000.0 rate, caching off with a 300 s TTL, ...). Cove
acts on the logging ones: the execution log (apis/execution_log.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

WILDCARD = "*/*"


class LoggingLevel(StrEnum):
    OFF = "OFF"
    ERROR = "ERROR"  # error-level entries only
    INFO = "INFO"  # error-level and informational entries (MethodSetting.loggingLevel)


@dataclass(frozen=True)
class MethodSetting:
    metrics_enabled: bool = False
    logging_level: LoggingLevel | None = None  # unset until a patch sets it
    data_trace_enabled: bool = False
    throttling_burst_limit: int = 5000
    throttling_rate_limit: float = 10000.0
    caching_enabled: bool = False
    cache_ttl_in_seconds: int = 300
    cache_data_encrypted: bool = False
    require_authorization_for_cache_control: bool = True
    unauthorized_cache_control_header_strategy: str = "SUCCEED_WITH_RESPONSE_HEADER"

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, data: dict[str, Any]) -> MethodSetting:
        level = data.get("logging_level")
        return replace(cls(**data), logging_level=None if level is None else LoggingLevel(level))


def setting_key(resource_path: str, http_method: str) -> str:
    """The key a method's own setting has: the resource path without its leading "/",
    then the method (`pets/{id}/GET`); "~1" stands for "/" in a patch path."""
    return f"{resource_path.lstrip('/')}/{http_method}"


def normalized(key: str) -> str:
    """A key as a patch path wrote it (`~1pets~1{id}/GET` or `pets/{id}/GET`)."""
    return key.replace("~1", "/").lstrip("/")


def effective(
    settings: dict[str, MethodSetting], resource_path: str, http_method: str
) -> MethodSetting | None:
    """The setting a request to the method runs under: its own, else `*/*`, else none."""
    own = setting_key(resource_path, http_method)
    for key, setting in settings.items():
        if key != WILDCARD and normalized(key) == own:
            return setting
    return settings.get(WILDCARD)


def logging_level(setting: MethodSetting | None) -> LoggingLevel:
    if setting is None or setting.logging_level is None:
        return LoggingLevel.OFF
    return setting.logging_level
