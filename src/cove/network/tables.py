"""The network tables. Every resource keeps its AWS id as its key, so a restart describes
the same ids and addresses; what hangs off a resource (rules, routes, associations, an
endpoint's subnets, an interface's addresses) refers to it by id. Tags of every kind live
in one table, as EC2's CreateTags takes any resource id."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table, Text, UniqueConstraint

from cove.storage.db import metadata

vpcs_table = Table(
    "net_vpcs",
    metadata,
    Column("vpc_id", String(32), primary_key=True),
    Column("cidr", String(24), nullable=False),
    Column("cidr_association_id", String(40), nullable=False),
    Column("dns_support", Boolean, nullable=False),
    Column("dns_hostnames", Boolean, nullable=False),
    Column("created", Float, nullable=False),
)

subnets_table = Table(
    "net_subnets",
    metadata,
    Column("subnet_id", String(32), primary_key=True),
    Column("vpc_id", String(32), nullable=False, index=True),
    Column("cidr", String(24), nullable=False),
    Column("zone_name", String(32), nullable=False),
    Column("created", Float, nullable=False),
)

groups_table = Table(
    "net_groups",
    metadata,
    Column("group_id", String(32), primary_key=True),
    Column("vpc_id", String(32), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("description", String(255), nullable=False),
    Column("created", Float, nullable=False),
    UniqueConstraint("vpc_id", "name"),
)

rules_table = Table(
    "net_rules",
    metadata,
    Column("rule_id", String(32), primary_key=True),
    Column("group_id", String(32), nullable=False, index=True),
    Column("egress", Boolean, nullable=False),
    Column("protocol", String(16), nullable=False),
    Column("from_port", Integer, nullable=True),
    Column("to_port", Integer, nullable=True),
    Column("cidr", String(24), nullable=True),
    Column("peer_group_id", String(32), nullable=True, index=True),
    Column("description", String(255), nullable=True),
    Column("position", Integer, nullable=False),  # rules are described in creation order
)

route_tables_table = Table(
    "net_route_tables",
    metadata,
    Column("route_table_id", String(32), primary_key=True),
    Column("vpc_id", String(32), nullable=False, index=True),
    Column("main", Boolean, nullable=False),
    Column("main_association_id", String(40), nullable=True),
    Column("created", Float, nullable=False),
)

routes_table = Table(
    "net_routes",
    metadata,
    Column("route_table_id", String(32), primary_key=True),
    Column("destination", String(32), primary_key=True),  # a CIDR or a pl-... id
    Column("target", String(32), nullable=False),  # local | igw-... | vpce-...
    Column("origin", String(32), nullable=False),  # CreateRouteTable | CreateRoute | ...
    Column("position", Integer, nullable=False),
)

associations_table = Table(
    "net_associations",
    metadata,
    Column("association_id", String(40), primary_key=True),
    Column("route_table_id", String(32), nullable=False, index=True),
    Column("subnet_id", String(32), nullable=False, unique=True),
)

gateways_table = Table(
    "net_internet_gateways",
    metadata,
    Column("gateway_id", String(32), primary_key=True),
    Column("vpc_id", String(32), nullable=True, index=True),
    Column("created", Float, nullable=False),
)

endpoints_table = Table(
    "net_endpoints",
    metadata,
    Column("endpoint_id", String(32), primary_key=True),
    Column("vpc_id", String(32), nullable=False, index=True),
    Column("service_name", String(255), nullable=False),
    Column("endpoint_type", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("policy", Text, nullable=False),
    Column("private_dns", Boolean, nullable=False),
    Column("dns_suffix", String(16), nullable=False),
    Column("created", Float, nullable=False),
)

endpoint_subnets_table = Table(
    "net_endpoint_subnets",
    metadata,
    Column("endpoint_id", String(32), primary_key=True),
    Column("subnet_id", String(32), primary_key=True, index=True),
    Column("eni_id", String(32), nullable=False),
)

endpoint_groups_table = Table(
    "net_endpoint_groups",
    metadata,
    Column("endpoint_id", String(32), primary_key=True),
    Column("group_id", String(32), primary_key=True, index=True),
)

endpoint_route_tables_table = Table(
    "net_endpoint_route_tables",
    metadata,
    Column("endpoint_id", String(32), primary_key=True),
    Column("route_table_id", String(32), primary_key=True, index=True),
)

interfaces_table = Table(
    "net_interfaces",
    metadata,
    Column("eni_id", String(32), primary_key=True),
    Column("subnet_id", String(32), nullable=False, index=True),
    Column("vpc_id", String(32), nullable=False, index=True),
    Column("interface_type", String(32), nullable=False),
    Column("description", String(255), nullable=False),
    Column("requester_managed", Boolean, nullable=False),
    Column("owner", String(64), nullable=True),
    Column("mac", String(17), nullable=False),
    Column("created", Float, nullable=False),
)

addresses_table = Table(
    "net_addresses",
    metadata,
    Column("subnet_id", String(32), primary_key=True),
    Column("ip", String(15), primary_key=True),
    Column("eni_id", String(32), nullable=False, index=True),
    Column("position", Integer, nullable=False),  # 0: the primary address
)

interface_groups_table = Table(
    "net_interface_groups",
    metadata,
    Column("eni_id", String(32), primary_key=True),
    Column("group_id", String(32), primary_key=True, index=True),
)

tags_table = Table(
    "net_tags",
    metadata,
    Column("resource_id", String(40), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)

TABLES = [
    vpcs_table, subnets_table, groups_table, rules_table, route_tables_table, routes_table,
    associations_table, gateways_table, endpoints_table, endpoint_subnets_table,
    endpoint_groups_table, endpoint_route_tables_table, interfaces_table, addresses_table,
    interface_groups_table, tags_table,
]  # fmt: skip
