"""A training job's ENI is given back when the job cannot go on right after it was placed
(here its log cannot be written): no JobTransfers holds the host yet to release it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from network_standins import vpc

from cove.config import Settings
from cove.jobs.training.lifecycle import TrainingJobs


def test_a_job_that_fails_after_placement_gives_back_its_eni(tmp_path: Path) -> None:
    net = vpc(tmp_path)
    free = net.free()
    jobs = TrainingJobs(
        Settings(data_dir=tmp_path / "data"), None, None,  # type: ignore[arg-type]
        SimpleNamespace(sandbox=None), hosts=lambda: net.hosts,  # type: ignore[arg-type]
    )  # fmt: skip
    doc = {"VpcConfig": {"Subnets": list(net.subnets), "SecurityGroupIds": [net.group]}}
    missing_root = tmp_path / "no-such-dir"  # the job's log cannot be opened there

    with pytest.raises(FileNotFoundError):
        asyncio.run(jobs._place("job", missing_root, doc, {}))
    assert net.enis() == [] and net.free() == free
