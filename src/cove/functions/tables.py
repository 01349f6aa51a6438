"""The function tables: every version of a function (`$LATEST` among them) with its
configuration as JSON, the function's own row (its version counter), aliases, and the
statements of each resource policy (one policy per function, version or alias)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Table, Text

from cove.storage.db import metadata

functions_table = Table(
    "fn_functions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_version", Integer, nullable=False),
    Column("created", Float, nullable=False),
)

versions_table = Table(
    "fn_versions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", String(16), primary_key=True),
    Column("config", Text, nullable=False),  # FunctionConfig as JSON
    Column("code_key", String(64), nullable=False),
    Column("code_sha256", String(64), nullable=False),
    Column("code_size", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("update_status", String(16), nullable=True),
    Column("revision_id", String(36), nullable=False),
    Column("last_modified", Float, nullable=False),
)

aliases_table = Table(
    "fn_aliases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("alias", String(128), primary_key=True),
    Column("function_version", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("routing", Text, nullable=False),  # AdditionalVersionWeights as JSON
    Column("revision_id", String(36), nullable=False),
)

statements_table = Table(
    "fn_statements",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("qualifier", String(128), primary_key=True),  # "" for the unqualified function
    Column("sid", String(100), primary_key=True),
    Column("statement", Text, nullable=False),  # as GetPolicy shows it
    Column("position", Integer, nullable=False),
)

TABLES = [functions_table, versions_table, aliases_table, statements_table]
