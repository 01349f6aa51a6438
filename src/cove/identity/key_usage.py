"""When each access key was last used (IAM API reference, "GetAccessKeyLastUsed",
"AccessKeyLastUsed"): the credential store notes every authenticated request's key in
memory, and this writes what it noted to the metadata store every FLUSH_INTERVAL seconds
and at shutdown, so that recording a use costs a request nothing more than a dict entry.
A crash loses at most the last FLUSH_INTERVAL seconds' uses: what GetAccessKeyLastUsed
answers is "when the access key was most recently used", to a few seconds."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine, delete, insert, select

from cove.auth.credentials import CredentialStore, KeyUse
from cove.identity.tables import key_last_used_table

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 5.0  # seconds


class KeyUsage:
    def __init__(self, engine: Engine, credentials: CredentialStore) -> None:
        self.engine = engine
        self.credentials = credentials

    def last_used(self, access_key_id: str) -> KeyUse | None:
        """The key's latest use, noted or written; None if it was never used."""
        pending = self.credentials.pending_use(access_key_id)
        if pending is not None:
            return pending
        u = key_last_used_table
        with self.engine.connect() as conn:
            row = conn.execute(select(u).where(u.c.access_key_id == access_key_id)).first()
        return None if row is None else KeyUse(row.used, row.service, row.region)

    def flush(self) -> int:
        """Write the uses noted since the last flush; how many keys they were."""
        uses = self.credentials.take_uses()
        if not uses:
            return 0
        u = key_last_used_table
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(u).where(u.c.access_key_id.in_(list(uses))))
                conn.execute(insert(u), [
                    {"access_key_id": key, "used": use.at, "service": use.service,
                     "region": use.region}
                    for key, use in uses.items()
                ])  # fmt: skip
        except Exception:
            for key, use in uses.items():  # kept for the next flush, unless used again since
                if self.credentials.pending_use(key) is None:
                    self.credentials.record_use(key, use)
            raise
        return len(uses)

    def forget(self, access_key_id: str) -> None:
        """A deleted key's record goes with it."""
        u = key_last_used_table
        with self.engine.begin() as conn:
            conn.execute(delete(u).where(u.c.access_key_id == access_key_id))

    async def flush_every(self, interval: float = FLUSH_INTERVAL) -> None:
        """Flush every `interval` seconds until cancelled (the server flushes once more
        at shutdown)."""
        while True:
            await asyncio.sleep(interval)
            try:
                self.flush()
            except Exception:
                log.exception("could not write access keys' last use")
