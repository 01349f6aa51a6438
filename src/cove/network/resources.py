"""The network resources as typed records: what the EC2 API describes and what the
fabric builds. Records are immutable snapshots; the store hands out fresh ones after
every change. Addresses are strings in dotted form, CIDRs in `a.b.c.d/n` form."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum


class EndpointType(StrEnum):
    INTERFACE = "Interface"
    GATEWAY = "Gateway"


class EndpointState(StrEnum):  # botocore ec2 `State` of a VpcEndpoint (lower case on the wire)
    PENDING = "pending"
    AVAILABLE = "available"
    DELETING = "deleting"
    DELETED = "deleted"
    FAILED = "failed"


# The RequesterId of the ENIs SageMaker makes for the instances and jobs of a VpcConfig
# (requester-managed ENIs of interface type `interface`); their code gets its role's
# credentials from the container credentials address inside, as ECS tasks do.
SAGEMAKER_REQUESTER = "sagemaker.amazonaws.com"


class InterfaceType(StrEnum):
    INTERFACE = "interface"
    VPC_ENDPOINT = "vpc_endpoint"
    LAMBDA = "lambda"  # a function's, in its VpcConfig subnet


@dataclass(frozen=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True)
class Zone:
    name: str  # us-east-1a
    zone_id: str  # use1-az1


@dataclass(frozen=True)
class Vpc:
    vpc_id: str
    cidr: str
    dns_support: bool = True  # enableDnsSupport, on for a new VPC
    dns_hostnames: bool = False  # enableDnsHostnames, off for a new VPC
    tags: tuple[Tag, ...] = ()
    cidr_association_id: str = ""  # vpc-cidr-assoc-..., of the primary CIDR block

    @property
    def resolver_ip(self) -> str:
        """AmazonProvidedDNS: the VPC's base address plus two."""
        return str(ipaddress.ip_network(self.cidr).network_address + 2)


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    vpc_id: str
    cidr: str
    zone: Zone
    tags: tuple[Tag, ...] = ()
    available_ips: int = 0  # AvailableIpAddressCount: size - 5 reserved - in use

    @property
    def gateway_ip(self) -> str:
        """The VPC router's address in this subnet: the subnet's base plus one."""
        return str(ipaddress.ip_network(self.cidr).network_address + 1)


@dataclass(frozen=True)
class PeerGroup:
    group_id: str


@dataclass(frozen=True)
class Rule:
    """One security group rule. protocol is "-1" (all), "tcp", "udp", "icmp" or a number
    as a string; ports are inclusive, None for all (and for protocol -1). A rule names
    either a CIDR or a peer group (EC2 splits a multi-source permission into rules)."""

    rule_id: str  # sgr-...
    group_id: str
    egress: bool
    protocol: str
    from_port: int | None
    to_port: int | None
    cidr: str | None = None
    peer_group_id: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class SecurityGroup:
    group_id: str
    vpc_id: str
    name: str
    description: str
    rules: tuple[Rule, ...] = ()
    tags: tuple[Tag, ...] = ()

    @property
    def ingress(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if not r.egress)

    @property
    def egress(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.egress)


@dataclass(frozen=True)
class Route:
    destination: str  # CIDR, or a prefix list id pl-... (a gateway endpoint's route)
    target: str  # "local", an igw-..., or a vpce-... (gateway endpoint, prefix list route)
    origin: str = "CreateRoute"  # CreateRouteTable for the local route

    @property
    def is_prefix_list(self) -> bool:
        return self.destination.startswith("pl-")


@dataclass(frozen=True)
class Association:
    """A subnet's explicit association with a route table."""

    association_id: str  # rtbassoc-...
    route_table_id: str
    subnet_id: str


@dataclass(frozen=True)
class RouteTable:
    route_table_id: str
    vpc_id: str
    main: bool
    routes: tuple[Route, ...]
    subnet_ids: tuple[str, ...] = ()  # explicitly associated subnets
    tags: tuple[Tag, ...] = ()
    associations: tuple[Association, ...] = ()  # the subnets' associations, with their ids
    main_association_id: str | None = None  # the main table's own association


@dataclass(frozen=True)
class InternetGateway:
    gateway_id: str
    vpc_id: str | None  # attached VPC, None when detached
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class NetworkInterface:
    """An ENI: one private IP (or more) in one subnet, its groups. Requester-managed ones
    belong to a VPC endpoint, a Lambda function or a SageMaker instance or job; the
    others to `cove exec` hosts."""

    eni_id: str
    subnet_id: str
    vpc_id: str
    zone: Zone
    private_ips: tuple[str, ...]
    group_ids: tuple[str, ...]
    interface_type: InterfaceType
    description: str
    requester_managed: bool
    owner: str | None = None  # vpce-..., or another owner's id
    mac: str = ""
    tags: tuple[Tag, ...] = ()

    @property
    def private_ip(self) -> str:
        return self.private_ips[0]


@dataclass(frozen=True)
class DnsEntry:
    dns_name: str
    hosted_zone_id: str


@dataclass(frozen=True)
class VpcEndpoint:
    endpoint_id: str
    vpc_id: str
    service_name: str  # com.amazonaws.us-east-1.sagemaker.runtime
    endpoint_type: EndpointType
    state: EndpointState
    policy_document: str  # JSON text; full access by default
    private_dns_enabled: bool
    subnet_ids: tuple[str, ...] = ()  # Interface
    group_ids: tuple[str, ...] = ()  # Interface
    route_table_ids: tuple[str, ...] = ()  # Gateway
    eni_ids: tuple[str, ...] = ()
    dns_entries: tuple[DnsEntry, ...] = ()
    created: float = 0.0
    tags: tuple[Tag, ...] = ()
    dns_suffix: str = ""  # the <suffix> of vpce-<id>-<suffix>.<service>...


@dataclass(frozen=True)
class VpcSnapshot:
    """Everything of one VPC the fabric builds from, read in one go."""

    vpc: Vpc
    subnets: tuple[Subnet, ...]
    groups: tuple[SecurityGroup, ...]
    route_tables: tuple[RouteTable, ...]
    internet_gateways: tuple[InternetGateway, ...]
    endpoints: tuple[VpcEndpoint, ...]
    interfaces: tuple[NetworkInterface, ...]

    def route_table_of(self, subnet_id: str) -> RouteTable:
        """The subnet's explicitly associated table, else the VPC's main one."""
        for table in self.route_tables:
            if subnet_id in table.subnet_ids:
                return table
        return next(t for t in self.route_tables if t.main)
