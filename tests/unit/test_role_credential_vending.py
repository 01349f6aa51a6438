"""Execution-role credentials as instances and jobs fetch them (identity/vending.py): the
same session until less than a quarter of its hour remains, then a new one, as the
container credentials provider expects of its endpoint (botocore refreshes credentials
whose Expiration is near; SageMaker DG, "How to use SageMaker AI execution roles"). A
grant that was released, or whose role was deleted, gets none."""

from __future__ import annotations

import json

import pytest

from cove.auth.credentials import CredentialStore
from cove.identity import vending
from cove.identity.directory import Directory
from cove.identity.kinds import EntityKind
from cove.identity.vending import RENEW_BEFORE, SESSION_SECONDS, TOKEN_VARIABLE
from cove.storage.db import open_engine

ACCOUNT = "000000000000"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }],
}  # fmt: skip


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> tuple[Directory, vending.CredentialVending, Clock]:
    store = CredentialStore(ACCOUNT)
    directory = Directory(open_engine("sqlite://"), ACCOUNT, store)
    directory.create_role("job-role", json.dumps(TRUST))
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr(vending.time, "time", clock)  # the one clock sessions read too
    return directory, vending.CredentialVending(directory, "http://cove", "us-east-1"), clock


def test_the_session_is_kept_then_renewed_before_it_expires(setup) -> None:
    directory, vending_, clock = setup
    env = vending_.environment(f"arn:aws:iam::{ACCOUNT}:role/job-role", "training-job")
    token = env[TOKEN_VARIABLE]
    first = vending_.credentials(token)
    assert first is not None and first.expires == pytest.approx(clock.now + SESSION_SECONDS)
    clock.now += SESSION_SECONDS - RENEW_BEFORE - 1  # just over a quarter left
    assert vending_.credentials(token) is first
    clock.now += 2  # under a quarter left: a new session, good for another hour
    renewed = vending_.credentials(token)
    assert renewed is not None and renewed.access_key_id != first.access_key_id
    assert renewed.expires == pytest.approx(clock.now + SESSION_SECONDS)


def test_a_released_grant_or_a_deleted_role_gets_nothing(setup) -> None:
    directory, vending_, _ = setup
    arn = f"arn:aws:iam::{ACCOUNT}:role/job-role"
    released = vending_.environment(arn, "released")
    vending_.release(released)
    assert vending_.credentials(released[TOKEN_VARIABLE]) is None
    assert vending_.credentials("no-such-token") is None
    kept = vending_.environment(arn, "kept")
    directory.entities.delete(EntityKind.ROLE, "job-role")
    assert vending_.credentials(kept[TOKEN_VARIABLE]) is None
