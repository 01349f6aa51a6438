"""The identity tables. Names are unique without regard to case, as IAM's are, and kept
as written; `key` columns hold the lower-cased name."""

from __future__ import annotations

from sqlalchemy import Column, Float, String, Table, Text

from cove.storage.db import metadata

users_table = Table(
    "iam_users",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("user_id", String(32), nullable=False, unique=True),
    Column("path", String(512), nullable=False),
    Column("created", Float, nullable=False),
    Column("tags", Text, nullable=False),  # JSON list of {"Key", "Value"}
)

access_keys_table = Table(
    "iam_access_keys",
    metadata,
    Column("access_key_id", String(32), primary_key=True),
    # the owning user's key (renamed with it); NULL for keys of the account's root user
    Column("user_key", String(64), nullable=True, index=True),
    Column("secret", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", Float, nullable=False),
)
