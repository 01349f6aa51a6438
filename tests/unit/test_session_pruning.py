"""Role sessions do not pile up: issuing one forgets those expired for longer than the
longest session lasts (12 hours), while recently expired keys still answer ExpiredToken
(they stay known to the credential store)."""

from __future__ import annotations

from cove.auth.credentials import CredentialStore
from cove.identity.directory import Directory
from cove.identity.sessions import FORGET_AFTER
from cove.storage.db import open_engine

ACCOUNT = "000000000000"


def test_issuing_forgets_long_expired_sessions_and_keeps_recent_ones() -> None:
    credentials = CredentialStore(ACCOUNT)
    directory = Directory(open_engine("sqlite://"), ACCOUNT, credentials)
    role = directory.role_by_arn(f"arn:aws:iam::{ACCOUNT}:role/cove")
    assert role is not None
    sessions = directory.sessions
    long_gone = sessions.issue(role, "old", -(FORGET_AFTER + 60))
    recent = sessions.issue(role, "recent", -60)
    assert credentials.get(long_gone.access_key_id) is None  # forgot at the second issue
    live = sessions.issue(role, "live", 3600)
    assert credentials.get(recent.access_key_id) is not None  # still ExpiredToken
    assert credentials.get(live.access_key_id) is not None
