"""The identity tables. Users, groups and roles share one table (they differ in a few
attributes, kept as JSON); what hangs off them (keys, memberships, attached and inline
policies) refers to their immutable ids, so a rename touches one row. Names are unique
per kind without regard to case, as IAM's are, and kept as written."""

from __future__ import annotations

from sqlalchemy import Column, Float, String, Table, Text, UniqueConstraint

from cove.storage.db import metadata

entities_table = Table(
    "iam_entities",
    metadata,
    Column("kind", String(8), primary_key=True),  # user | group | role
    Column("key", String(128), primary_key=True),  # lower-cased name
    Column("name", String(128), nullable=False),
    Column("entity_id", String(32), nullable=False, unique=True),  # AIDA.. AGPA.. AROA..
    Column("path", String(512), nullable=False),
    Column("created", Float, nullable=False),
    Column("tags", Text, nullable=False),  # JSON list of {"Key", "Value"}
    Column("attributes", Text, nullable=False),  # JSON: a role's trust policy, ...
)

access_keys_table = Table(
    "iam_access_keys",
    metadata,
    Column("access_key_id", String(32), primary_key=True),
    Column("owner_id", String(32), nullable=True, index=True),  # NULL: the root user's
    Column("secret", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", Float, nullable=False),
)

group_members_table = Table(
    "iam_group_members",
    metadata,
    Column("group_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True, index=True),
)

policies_table = Table(
    "iam_policies",
    metadata,
    Column("arn", String(1024), primary_key=True),
    Column("key", String(128), nullable=False, unique=True),  # lower-cased name
    Column("name", String(128), nullable=False),
    Column("policy_id", String(32), nullable=False, unique=True),  # ANPA..
    Column("path", String(512), nullable=False),
    Column("description", Text, nullable=False),
    Column("default_version", String(16), nullable=False),
    Column("next_version", Float, nullable=False),  # versions are numbered v1, v2, ...
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("tags", Text, nullable=False),
)

policy_versions_table = Table(
    "iam_policy_versions",
    metadata,
    Column("arn", String(1024), primary_key=True),
    Column("version_id", String(16), primary_key=True),
    Column("document", Text, nullable=False),  # as the client sent it
    Column("created", Float, nullable=False),
)

attachments_table = Table(
    "iam_attachments",
    metadata,
    Column("entity_id", String(32), primary_key=True),
    Column("policy_arn", String(1024), primary_key=True, index=True),
)

inline_policies_table = Table(
    "iam_inline_policies",
    metadata,
    Column("entity_id", String(32), primary_key=True),
    Column("key", String(128), primary_key=True),  # lower-cased policy name
    Column("name", String(128), nullable=False),
    Column("document", Text, nullable=False),
    UniqueConstraint("entity_id", "key"),
)

# A user's or role's permissions boundary: one managed policy per identity (IAM API
# reference, "PutUserPermissionsBoundary"), by the policy's ARN (AWS managed ones too).
boundaries_table = Table(
    "iam_boundaries",
    metadata,
    Column("entity_id", String(32), primary_key=True),
    Column("policy_arn", String(1024), nullable=False, index=True),
)

# When each access key was last used, and for which service and region; written from the
# credential store's in-memory record every few seconds (cove.identity.key_usage). Keys
# outside iam_access_keys (the data dir's root key) are recorded too.
key_last_used_table = Table(
    "iam_key_last_used",
    metadata,
    Column("access_key_id", String(32), primary_key=True),
    Column("used", Float, nullable=False),
    Column("service", String(64), nullable=False),
    Column("region", String(32), nullable=False),
)

account_table = Table(
    "iam_account",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("created", Float, nullable=False),  # when this data dir's account was set up
)

sessions_table = Table(
    "iam_sessions",
    metadata,
    Column("access_key_id", String(32), primary_key=True),  # ASIA...
    Column("secret", String(64), nullable=False),
    Column("token", Text, nullable=False),
    Column("role_id", String(32), nullable=False, index=True),
    Column("session_name", String(64), nullable=False),
    Column("expires", Float, nullable=False),
    Column("session_policy", Text, nullable=True),
)

TABLES = [
    account_table,
    sessions_table,
    entities_table,
    access_keys_table,
    group_members_table,
    policies_table,
    policy_versions_table,
    attachments_table,
    inline_policies_table,
    boundaries_table,
    key_last_used_table,
]
