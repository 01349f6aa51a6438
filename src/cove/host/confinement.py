"""How this server confines the untrusted processes it starts: one sandbox builder and
one set of cgroups, made at start-up and shared by instances and jobs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cove.host import cgroups
from cove.host.cgroups import Cgroup, Cgroups, LimitBackend, Limits
from cove.host.sandbox import Sandbox, describe

log = logging.getLogger(__name__)

# Processes and threads one sandbox may have at once (SageMaker documents no figure; a
# fork bomb stops here instead of at the host's limit).
PIDS_PER_SANDBOX = 1024


@dataclass
class Confinement:
    sandbox: Sandbox
    cgroups: Cgroups

    @classmethod
    def for_server(cls, data_dir: Path) -> Confinement:
        found = cls(Sandbox.from_environment(data_dir), cgroups.detect())
        log.info(describe(found.sandbox, found.cgroups.backend.value))
        return found

    @property
    def rlimits_only(self) -> bool:
        """No cgroup: the process must cap its own address space (hard rlimit)."""
        return self.cgroups.backend is LimitBackend.RLIMIT

    def cgroup(self, name: str, memory_bytes: int, cpus: float) -> Cgroup | None:
        return self.cgroups.create(name, Limits(memory_bytes, cpus, PIDS_PER_SANDBOX))

    def close(self) -> None:
        self.cgroups.close()
