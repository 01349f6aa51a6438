"""Settings: every knob comes from the command line or a COVE_* environment variable."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# In the data dir: where the running server listens, for `cove env`.
PORT_FILE = "server.port"
# In the data dir: Cove's certificate authority (the TLS of its listeners inside VPCs).
CA_DIR = "ca"


class InvalidSetting(ValueError):
    """A COVE_* setting has a value Cove cannot use; str(exc) says which and why."""


def _env(name: str, default: str, kind: Callable[[str], Any]) -> Any:
    """A setting read from the environment when Settings is made, with a clear error."""

    def read() -> Any:
        value = os.environ.get(name, default)
        try:
            return kind(value)
        except ValueError:
            raise InvalidSetting(f"{name} must be a {kind.__name__}, not {value!r}") from None

    return field(default_factory=read)


def default_data_dir() -> Path:
    return Path(os.environ.get("COVE_HOME") or Path.home() / ".cove")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8443
    region: str = field(default_factory=lambda: os.environ.get("COVE_REGION", "us-east-1"))
    account_id: str = field(
        default_factory=lambda: os.environ.get("COVE_ACCOUNT_ID", "000000000000")
    )
    # SQLAlchemy URL for metadata; SQLite inside the data dir unless told otherwise.
    database_url: str | None = field(
        default_factory=lambda: os.environ.get("COVE_DATABASE_URL") or None
    )
    # External S3-compatible service for s3:// artifacts; the embedded store when unset.
    s3_endpoint_url: str | None = field(
        default_factory=lambda: os.environ.get("COVE_S3_ENDPOINT_URL") or None
    )
    # How long InvokeEndpoint waits for a model before answering ModelError (AWS: 60 s).
    model_timeout: float = _env("COVE_MODEL_TIMEOUT", "60", float)
    # How long an instance may take to pass its first /ping before the endpoint fails.
    startup_timeout: float = _env("COVE_STARTUP_TIMEOUT", "600", float)
    # Seconds between health checks of a running instance.
    health_interval: float = _env("COVE_HEALTH_INTERVAL", "5", float)
    # How large a model may unpack to; a tar bomb fails the endpoint instead of the disk.
    model_max_unpacked_bytes: int = _env("COVE_MODEL_MAX_UNPACKED_BYTES", str(16 << 30), int)
    model_max_files: int = _env("COVE_MODEL_MAX_FILES", "100000", int)
    # An instance log past this is rotated (see `cove.host.log_files`).
    log_max_bytes: int = _env("COVE_LOG_MAX_BYTES", str(16 << 20), int)
    # Makes cross-AZ cost visible (0: off): a call served in another AZ than its caller's
    # waits this long before it reaches the instance (see `cove.runtime.fleet`).
    cross_az_delay_ms: float = _env("COVE_CROSS_AZ_DELAY_MS", "0", float)

    # Lambda functions (see `cove.functions.runtime`): the workers, and so the concurrent
    # invocations, one function version may have (past it an invocation waits briefly for a
    # worker, then fails with TooManyRequestsException); and how long an idle worker is kept
    # warm before it is stopped (the next invocation after that is a cold start).
    function_concurrency: int = _env("COVE_FUNCTION_CONCURRENCY", "8", int)
    function_idle_timeout: float = _env("COVE_FUNCTION_IDLE_TIMEOUT", "300", float)

    # Host directories file:// artifact URIs may name (os.pathsep-separated); none by default.
    local_roots: tuple[Path, ...] = field(
        default_factory=lambda: tuple(
            Path(p) for p in os.environ.get("COVE_LOCAL_ROOTS", "").split(os.pathsep) if p
        )
    )

    # Client connections (see `cove.http.limits` for why these defaults).
    idle_timeout: float = _env("COVE_IDLE_TIMEOUT", "60", float)
    header_timeout: float = _env("COVE_HEADER_TIMEOUT", "20", float)
    body_timeout: float = _env("COVE_BODY_TIMEOUT", "20", float)
    max_connections_per_client: int = _env("COVE_MAX_CONNECTIONS_PER_CLIENT", "256", int)
    max_connections: int = _env("COVE_MAX_CONNECTIONS", "4096", int)

    def __post_init__(self) -> None:
        if not 0 <= self.cross_az_delay_ms <= 10_000:
            raise InvalidSetting(
                f"COVE_CROSS_AZ_DELAY_MS must be from 0 (off) to 10000 ms, "
                f"not {self.cross_az_delay_ms:g}"
            )

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'cove.db'}"

    @property
    def public_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"
