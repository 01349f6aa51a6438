"""Confining an instance process, applied in the process itself before it does work:
die with the server (when no sandbox does it), run on the instance type's CPUs, and
stay within its memory where no cgroup enforces it."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send us `sig` when the server goes away (even by SIGKILL), then
    close the race where it went away before we asked."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:
        sys.exit(1)


def confine(cpus: list[int] | None, memory_bytes: int | None) -> None:
    """CPU affinity, and `memory_bytes` where no cgroup holds the process: then it is a
    hard address-space limit (soft and hard alike, so the model cannot raise it), the
    limit Linux enforces without cgroups; a process over it gets MemoryError."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    if memory_bytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def raise_open_files_limit(wanted: int = 65536) -> int:
    """Lift the soft limit on open files toward the hard one (the soft default of 1024
    would let a thousand idle clients use up the server's descriptors); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft
