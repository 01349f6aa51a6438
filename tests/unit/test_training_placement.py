"""A training job with a VpcConfig whose ENI cannot be placed fails, with the reason, and
leaves nothing live behind: not the ENI, and not the execution role's credentials grant
made for SageMaker's transfers through it (the job's host releases that grant once it
exists; before, the placement does)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from network_standins import vpc

from cove.config import Settings
from cove.host.cgroups import Cgroups, LimitBackend
from cove.host.confinement import Confinement
from cove.host.sandbox import Sandbox
from cove.identity.vending import CredentialVending
from cove.jobs.training.lifecycle import FAILED, STORE_KIND, TrainingJobs, initial_state
from cove.storage.db import open_engine
from cove.storage.resources import ResourceStore

ROLE = "arn:aws:iam::000000000000:role/training"


def test_a_job_whose_eni_cannot_be_built_fails_and_keeps_no_grant(tmp_path: Path) -> None:
    net = vpc(tmp_path)
    net.fabric.broken = True
    settings = Settings(data_dir=tmp_path)
    store = ResourceStore(open_engine(settings.db_url))
    vending = CredentialVending(None, settings.public_url, "us-east-1")  # type: ignore[arg-type]
    confinement = Confinement(Sandbox(settings.data_dir), Cgroups(LimitBackend.RLIMIT, ()))
    jobs = TrainingJobs(settings, store, None, confinement, vending,  # type: ignore[arg-type]
                        lambda: net.hosts)  # fmt: skip
    doc = {
        "TrainingJobName": "job", "Algorithm": "linear-learner", "RoleArn": ROLE,
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "VpcConfig": {"Subnets": list(net.subnets), "SecurityGroupIds": [net.group]},
    }  # fmt: skip
    store.create(STORE_KIND, "job", "arn:job", initial_state(doc, time.time()), "InProgress")

    async def go() -> None:
        jobs.launch("job")
        await asyncio.wait_for(jobs.tasks["job"], 10)

    asyncio.run(go())
    res = store.get(STORE_KIND, "job")
    assert res is not None and res.status == FAILED
    assert "could not be built" in res.doc["FailureReason"]
    assert net.enis() == []
    assert vending._grants == {}  # none live: the credentials endpoint would honour it
