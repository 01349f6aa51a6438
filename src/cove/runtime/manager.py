"""The local runtime: creates fleets of worker processes on this host and keeps the
endpoint name -> installed fleet table the invocation path reads."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import tempfile
import weakref
from pathlib import Path

from cove.config import Settings
from cove.host.confinement import Confinement
from cove.host.pids import alive
from cove.identity.vending import RoleCredentials
from cove.network.sagemaker_hosts import SageMakerHosts
from cove.runtime.contract import Fleet, VariantSpec
from cove.runtime.fleet import FleetHost, LocalFleet
from cove.runtime.metrics import Metrics
from cove.runtime.model_store import ModelStore, UnpackLimits
from cove.runtime.placement import Placement, RegionZones
from cove.storage.artifacts import ArtifactStore

SOCKET_DIR_PREFIX = "cove-sockets-"


def _socket_dir() -> Path:
    """A fresh directory for the instances' sockets. Unix socket paths are limited to
    ~108 bytes, so it is a short temp dir named after this server's pid; the ones that
    servers killed without a shutdown left behind (their pid is gone) are removed."""
    for old in Path(tempfile.gettempdir()).glob(f"{SOCKET_DIR_PREFIX}*-*"):
        pid = old.name[len(SOCKET_DIR_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and old.stat().st_uid == os.getuid() and not alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{SOCKET_DIR_PREFIX}{os.getpid()}-"))


class LocalRuntime:
    """Implements `cove.runtime.contract.Runtime`."""

    def __init__(
        self,
        settings: Settings,
        artifacts: ArtifactStore,
        confinement: Confinement,
        credentials: RoleCredentials | None = None,
        placement: Placement | None = None,
    ) -> None:
        """`placement` picks each new instance's AZ (by default: spread over the
        region's AZs)."""
        self.settings = settings
        self.socket_dir = _socket_dir()
        slots = itertools.count()
        self.metrics = Metrics()
        limits = UnpackLimits(settings.model_max_unpacked_bytes, settings.model_max_files)
        models = ModelStore(settings.data_dir / "models", artifacts, confinement.sandbox, limits)
        self.host = FleetHost(
            settings,
            models,
            self.socket_dir,
            confinement,
            lambda: next(slots),
            self.metrics,
            placement or RegionZones(settings.region),
            credentials,
        )
        self.fleets: dict[str, LocalFleet] = {}  # lower-cased endpoint name -> serving fleet
        self._created: weakref.WeakSet[LocalFleet] = weakref.WeakSet()
        self._installed: dict[str, asyncio.Event] = {}  # endpoints calls wait for

    def use_networks(self, networks: SageMakerHosts) -> None:
        """Where instances of models in a VPC run (the fabric is built after the runtime)."""
        self.host.networks = networks

    def create_fleet(self, endpoint_name: str, specs: list[VariantSpec]) -> LocalFleet:
        fleet = LocalFleet(endpoint_name, specs, self.host)
        self._created.add(fleet)
        return fleet

    def install(self, endpoint_name: str, fleet: Fleet) -> Fleet | None:
        assert isinstance(fleet, LocalFleet)
        replaced = self._swap(endpoint_name, fleet)
        waiting = self._installed.pop(endpoint_name.lower(), None)
        if waiting is not None:
            waiting.set()
        return replaced

    async def wait_installed(self, endpoint_name: str, timeout: float) -> LocalFleet | None:
        """The endpoint's fleet once one is installed (e.g. restored after a restart),
        or None after `timeout` seconds."""
        key = endpoint_name.lower()
        if key not in self.fleets:
            event = self._installed.setdefault(key, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        return self.fleets.get(key)

    def _swap(self, endpoint_name: str, fleet: LocalFleet | None) -> LocalFleet | None:
        key = endpoint_name.lower()
        old = self.fleets.pop(key, None)
        if fleet is not None:
            self.fleets[key] = fleet
        return old

    def uninstall(self, endpoint_name: str) -> Fleet | None:
        self.metrics.forget(endpoint_name)
        return self._swap(endpoint_name, None)

    def render_metrics(self) -> str:
        return self.metrics.render(s for f in self.fleets.values() for s in f.samples())

    def fleet(self, endpoint_name: str) -> LocalFleet | None:
        return self.fleets.get(endpoint_name.lower())

    async def shutdown(self) -> None:
        fleets = set(self.fleets.values()) | set(self._created)
        self.fleets.clear()
        self._created.clear()
        await asyncio.gather(*(f.stop(keep_networks=True) for f in fleets), return_exceptions=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)
