"""Hard CPU, memory and process-count limits for a sandboxed process tree, from cgroups.

cgroup v2 is used where the host delegates its controllers to this server, the v1
`memory`, `pids` and `cpu` hierarchies otherwise (hosts that mount v1 controllers next to
a v2 hierarchy without them). Each server makes one directory under its own cgroup of
each controller, `cove-<pid>`, and one child per sandbox; a child is joined before the
sandbox's first process runs, so everything it starts is counted. Where neither works,
`Cgroups.backend` is `RLIMIT` and `create` returns None: the process then sets a hard
address-space rlimit on itself (see `cove.host.limits`), which is per process only.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from cove.host.pids import alive

log = logging.getLogger(__name__)

CPU_PERIOD_US = 100_000
V1_CONTROLLERS = ("memory", "pids", "cpu")
PREFIX = "cove-"


class LimitBackend(Enum):
    CGROUP_V2 = "cgroup v2"
    CGROUP_V1 = "cgroup v1"
    RLIMIT = "rlimit (per process only: no cgroup controllers are writable here)"


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    cpus: float  # CPU time in cores (CFS quota over period)
    pids: int  # processes and threads, all counted


class Cgroup:
    """One sandbox's cgroup: a directory per v1 controller, or one v2 directory."""

    def __init__(self, dirs: tuple[Path, ...], v2: bool) -> None:
        self.dirs = dirs
        self.v2 = v2

    def join(self) -> None:
        """Move the calling process in; meant for `preexec_fn`, between fork and exec.
        Writing 0 moves the writer, in v1 and v2 alike."""
        for d in self.dirs:
            with open(d / "cgroup.procs", "w") as f:
                f.write("0")

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (d / "cgroup.procs").read_text().split())
        return found

    def signal(self, sig: int) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL everything in it, again while it forks (its pids limit bounds that)."""
        if self.v2:
            with contextlib.suppress(OSError):
                (self.dirs[0] / "cgroup.kill").write_text("1")
        deadline = time.monotonic() + timeout
        while self.pids() and time.monotonic() < deadline:
            self.signal(signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill()
        for d in self.dirs:
            _rmdir(d)


class Cgroups:
    """Where this server's sandboxes get their cgroups."""

    def __init__(self, backend: LimitBackend, bases: tuple[Path, ...]) -> None:
        self.backend = backend
        self.bases = bases  # cove-<pid> under the server's cgroup, per hierarchy

    def create(self, name: str, limits: Limits) -> Cgroup | None:
        if self.backend is LimitBackend.RLIMIT:
            return None
        dirs = tuple(base / name for base in self.bases)
        for d in dirs:
            if d.exists():  # left by an instance of the same name that did not stop
                Cgroup((d,), self.backend is LimitBackend.CGROUP_V2).remove()
            d.mkdir()
        group = Cgroup(dirs, self.backend is LimitBackend.CGROUP_V2)
        try:
            _write_limits(group, limits)
        except OSError:
            group.remove()
            raise
        return group

    def close(self) -> None:
        for base in self.bases:
            _remove_tree(base)


def _write_limits(group: Cgroup, limits: Limits) -> None:
    quota = max(1000, int(limits.cpus * CPU_PERIOD_US))
    for d in group.dirs:
        if group.v2:
            (d / "memory.max").write_text(str(limits.memory_bytes))
            with contextlib.suppress(OSError):  # no swap configured: nothing to cap
                (d / "memory.swap.max").write_text("0")
            (d / "pids.max").write_text(str(limits.pids))
            (d / "cpu.max").write_text(f"{quota} {CPU_PERIOD_US}")
        elif (d / "memory.limit_in_bytes").exists():
            (d / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
            swap = d / "memory.memsw.limit_in_bytes"  # only with swap accounting
            if swap.exists():
                swap.write_text(str(limits.memory_bytes))
        elif (d / "pids.max").exists():
            (d / "pids.max").write_text(str(limits.pids))
        elif (d / "cpu.cfs_quota_us").exists():
            (d / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (d / "cpu.cfs_quota_us").write_text(str(quota))


def detect() -> Cgroups:
    """The best backend this process can write to, with its `cove-<pid>` directories
    made; the directories of servers that died without cleaning up are removed."""
    mounts = _cgroup_mounts()
    own = _own_cgroups()
    for attempt in (_try_v2, _try_v1):
        found = attempt(mounts, own)
        if found is not None:
            return found
    return Cgroups(LimitBackend.RLIMIT, ())


def _try_v2(mounts: dict[str, Mount], own: dict[str, str]) -> Cgroups | None:
    mount = mounts.get("")
    if mount is None or "" not in own:
        return None
    parent = mount.path_of(own[""])
    try:
        available = (parent / "cgroup.controllers").read_text().split()
        if not {"memory", "pids", "cpu"} <= set(available):
            return None
        # Fails (EBUSY) when this cgroup holds processes and is not the root: the host
        # has not delegated a subtree, so fall back.
        (parent / "cgroup.subtree_control").write_text("+memory +pids +cpu")
        base = _make_base(parent)
        (base / "cgroup.subtree_control").write_text("+memory +pids +cpu")
    except OSError:
        return None
    return Cgroups(LimitBackend.CGROUP_V2, (base,))


def _try_v1(mounts: dict[str, Mount], own: dict[str, str]) -> Cgroups | None:
    if any(c not in mounts or c not in own for c in V1_CONTROLLERS):
        return None
    bases: list[Path] = []
    try:
        for controller in V1_CONTROLLERS:
            bases.append(_make_base(mounts[controller].path_of(own[controller])))
    except OSError:
        for base in bases:
            _remove_tree(base)
        return None
    return Cgroups(LimitBackend.CGROUP_V1, tuple(bases))


def _make_base(parent: Path) -> Path:
    for old in parent.glob(f"{PREFIX}*"):
        pid = old.name[len(PREFIX) :]
        if pid.isdigit() and not alive(int(pid)):
            _remove_tree(old)
    base = parent / f"{PREFIX}{os.getpid()}"
    base.mkdir(exist_ok=True)
    return base


@dataclass(frozen=True)
class Mount:
    """Where a cgroup hierarchy is mounted, and which of its cgroups that mount shows at
    its top (not `/` when a container was given a subtree)."""

    point: Path
    root: str

    def path_of(self, cgroup: str) -> Path:
        """The directory of `cgroup` (a path as /proc/self/cgroup gives it)."""
        inner = cgroup[len(self.root) :] if cgroup.startswith(self.root) else cgroup
        return self.point / inner.lstrip("/")


def _cgroup_mounts() -> dict[str, Mount]:
    """Controller name -> its mount ("" for the v2 hierarchy), from /proc/self/mountinfo
    (fields: id, parent, dev, root, mount point, ..., "-", fstype, source, options)."""
    found: dict[str, Mount] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, options = fields[sep + 1], fields[sep + 3].split(",")
            mount = Mount(Path(fields[4]), fields[3] if fields[3] != "/" else "")
            if fstype == "cgroup2":
                found.setdefault("", mount)
            elif fstype == "cgroup":
                for opt in options:
                    found.setdefault(opt, mount)
    return found


def _own_cgroups() -> dict[str, str]:
    """Controller name -> this process's cgroup path in that hierarchy."""
    found: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                found[c] = path
    return found


def _remove_tree(path: Path) -> None:
    if not path.is_dir():
        return
    for child in path.iterdir():
        if child.is_dir():
            _remove_tree(child)
    group = Cgroup((path,), (path / "cgroup.kill").exists())
    group.kill()
    _rmdir(path)


def _rmdir(path: Path) -> None:
    for _ in range(50):  # a killed task leaves the cgroup a moment after it dies
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                log.warning("could not remove cgroup %s: %s", path, exc)
                return
            time.sleep(0.02)
    log.warning("cgroup %s stayed busy; left in place", path)
