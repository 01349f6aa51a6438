"""API Gateway's tables. A resource row carries its methods (with their integrations and
responses) as JSON: they are only ever read and written with their resource. A deployment
row carries the whole resource tree as it was when it was made. A stage's settings (its
method settings, tracing) and the account's settings are tables of their own, so a data
dir made before them gains them."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, String, Table, Text

from cove.storage.db import metadata

rest_apis_table = Table(
    "apigw_rest_apis",
    metadata,
    Column("api_id", String(16), primary_key=True),
    Column("name", String(1024), nullable=False),
    Column("description", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("root_resource_id", String(16), nullable=False),
    Column("endpoint_types", Text, nullable=False),  # JSON list
    Column("binary_media_types", Text, nullable=False),  # JSON list
    Column("tags", Text, nullable=False),  # JSON object
    Column("disable_execute_api_endpoint", Boolean, nullable=False),
)

resources_table = Table(
    "apigw_resources",
    metadata,
    Column("api_id", String(16), primary_key=True),
    Column("resource_id", String(16), primary_key=True),
    Column("parent_id", String(16), nullable=True, index=True),
    Column("path_part", String(1024), nullable=False),
    Column("path", Text, nullable=False),
    Column("methods", Text, nullable=False),  # JSON: {"GET": Method, ...}
)

deployments_table = Table(
    "apigw_deployments",
    metadata,
    Column("api_id", String(16), primary_key=True),
    Column("deployment_id", String(16), primary_key=True),
    Column("description", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("resources", Text, nullable=False),  # JSON list of the resources, frozen
)

stages_table = Table(
    "apigw_stages",
    metadata,
    Column("api_id", String(16), primary_key=True),
    Column("stage_name", String(128), primary_key=True),
    Column("deployment_id", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("variables", Text, nullable=False),  # JSON object
)

stage_settings_table = Table(
    "apigw_stage_settings",
    metadata,
    Column("api_id", String(16), primary_key=True),
    Column("stage_name", String(128), primary_key=True),
    Column("method_settings", Text, nullable=False),  # JSON: {"*/*": MethodSetting, ...}
    Column("tracing_enabled", Boolean, nullable=False),
)

account_table = Table(
    "apigw_account",
    metadata,
    Column("account_id", String(16), primary_key=True),
    Column("cloudwatch_role_arn", Text, nullable=True),
)
