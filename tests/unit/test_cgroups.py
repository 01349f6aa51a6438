"""cgroups on this host: a sandbox's cgroup holds its limits and every process it starts,
and goes with them; paths are found the way the kernel shows them."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from cove.host import cgroups
from cove.host.cgroups import LimitBackend, Limits, Mount


def test_mount_path_of_a_cgroup_under_a_mounted_subtree() -> None:
    whole = Mount(Path("/sys/fs/cgroup/memory"), "")
    assert whole.path_of("/a/b") == Path("/sys/fs/cgroup/memory/a/b")
    # a container given /docker/abc sees it mounted at its own /sys/fs/cgroup/memory
    subtree = Mount(Path("/sys/fs/cgroup/memory"), "/docker/abc")
    assert subtree.path_of("/docker/abc/svc") == Path("/sys/fs/cgroup/memory/svc")


def test_a_cgroup_holds_its_limits_and_processes_and_goes_with_them() -> None:
    found = cgroups.detect()
    try:
        if found.backend is LimitBackend.RLIMIT:
            pytest.skip("no writable cgroup controllers here (not root?)")
        group = found.create("unit-test", Limits(256 << 20, 0.5, 64))
        assert group is not None
        if found.backend is LimitBackend.CGROUP_V1:
            by_name = {d.parent.name: d for d in group.dirs}
            memory = [d for d in group.dirs if (d / "memory.limit_in_bytes").exists()][0]
            assert int((memory / "memory.limit_in_bytes").read_text()) == 256 << 20
            assert any((d / "pids.max").exists() and (d / "pids.max").read_text().strip()
                       == "64" for d in group.dirs), by_name
        proc = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30"], preexec_fn=group.join)
        deadline = time.monotonic() + 5
        while len(group.pids()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.pid in group.pids() and len(group.pids()) == 3  # the shell's children too
        group.remove()
        proc.wait(timeout=5)
        assert group.pids() == set() and not any(d.exists() for d in group.dirs)
    finally:
        found.close()
    assert not any(base.exists() for base in found.bases)
