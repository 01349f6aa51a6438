"""Access keys and the principals they belong to.

The admin key pair is created in the data dir on first start (mode 0600) and never logged.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from cove.http.messages import Principal

CREDENTIALS_FILE = "credentials.json"


@dataclass(frozen=True)
class Credential:
    access_key: str
    secret_key: str
    principal: Principal
    # Temporary credentials (STS): the token each request must carry, and when they end.
    session_token: str | None = None
    expires: float | None = None

    def __repr__(self) -> str:  # never leak the secret through logs or tracebacks
        return f"Credential(access_key={self.access_key!r}, principal={self.principal.arn!r})"


def new_access_key(prefix: str = "AKIA") -> str:
    """AKIA for long-term keys, ASIA for temporary ones, then 16 characters (as AWS's)."""
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(16))


def new_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "+/"
    return "".join(secrets.choice(alphabet) for _ in range(40))


def load_or_create_admin(data_dir: Path) -> tuple[str, str]:
    """The admin (access key, secret) pair, created on first use."""
    return load_or_create_pair(data_dir / CREDENTIALS_FILE)


def load_or_create_pair(path: Path) -> tuple[str, str]:
    """An (access key, secret) pair kept in `path` (mode 0600), created on first use."""
    if path.exists():
        doc = json.loads(path.read_text())
        return doc["access_key_id"], doc["secret_access_key"]
    path.parent.mkdir(parents=True, exist_ok=True)
    pair = new_access_key(), new_secret_key()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"access_key_id": pair[0], "secret_access_key": pair[1]}, fh)
    os.replace(tmp, path)
    return pair


class KeyUse(NamedTuple):
    """A long-term key's latest use: when (epoch seconds), for which service (the signing
    name) and in which region (the credential scope's)."""

    at: float
    service: str
    region: str


class CredentialStore:
    """Looks up the secret and principal for an access key, and notes each long-term
    key's latest use in memory (IAM's last-used information, which cove.identity keeps)."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self._by_key: dict[str, Credential] = {}
        self._uses: dict[str, KeyUse] = {}

    def record_use(self, access_key: str, use: KeyUse) -> None:
        """One dict entry per key, the latest use winning: cheap enough for every request."""
        self._uses[access_key] = use

    def pending_use(self, access_key: str) -> KeyUse | None:
        """The key's latest use not taken yet."""
        return self._uses.get(access_key)

    def take_uses(self) -> dict[str, KeyUse]:
        """The uses noted since the last take, forgotten here."""
        taken, self._uses = self._uses, {}
        return taken

    def add_admin(self, access_key: str, secret_key: str) -> Credential:
        principal = Principal(
            account_id=self.account_id,
            arn=f"arn:aws:iam::{self.account_id}:root",
            access_key=access_key,
            user_id=self.account_id,  # what GetCallerIdentity answers for the root user
        )
        cred = Credential(access_key, secret_key, principal)
        self.add(cred)
        return cred

    def add(self, cred: Credential) -> None:
        self._by_key[cred.access_key] = cred

    def remove(self, access_key: str) -> None:
        """The key stops working with the next request that names it."""
        self._by_key.pop(access_key, None)

    def get(self, access_key: str) -> Credential | None:
        return self._by_key.get(access_key)
