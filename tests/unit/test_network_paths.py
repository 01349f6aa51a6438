"""What a subnet's route table reaches beyond the VPC: S3 through a gateway endpoint in its
table (the prefix-list route, more specific than a default route, wins), an interface
endpoint with private DNS, or an internet-gateway route, else nothing, with advice that
names the route table (VPC UG, "Gateway endpoints for Amazon S3":
https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html; "Route tables")."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path

from cove.network.endpoints import EndpointRequest
from cove.network.firewall_rules import ruleset_of
from cove.network.paths import S3Path, no_s3_route, reaches_internet, s3_gateway, s3_path
from cove.network.resources import EndpointType
from cove.network.store import NetworkStore
from cove.network.vpc_dns import PUBLIC_EDGE, S3_EDGE
from cove.storage.db import open_engine

S3 = "com.amazonaws.us-east-1.s3"


def test_s3_by_gateway_internet_or_interface_and_the_advice_without(tmp_path: Path) -> None:
    store = NetworkStore(open_engine(f"sqlite:///{tmp_path / 'db'}"), "us-east-1", "0" * 12)
    vpc = store.create_vpc("10.0.0.0/16").vpc_id
    a = store.create_subnet(vpc, "10.0.1.0/24").subnet_id
    b = store.create_subnet(vpc, "10.0.2.0/24").subnet_id
    main = store.snapshot(vpc).route_tables[0].route_table_id
    other = store.create_route_table(vpc).route_table_id
    store.associate(other, b)
    snap = store.snapshot(vpc)
    assert s3_path(snap, a) is S3Path.NONE
    assert no_s3_route(snap, a, "us-east-1") == (
        f"no route to S3 from subnet {a} (route table {main}): add an S3 gateway endpoint "
        f"({S3}) to that route table, an S3 interface endpoint with private DNS, or a route "
        "to an internet gateway"
    )
    gateway = store.create_endpoint(EndpointRequest(vpc, S3, route_table_ids=[main]))
    snap = store.snapshot(vpc)
    assert s3_gateway(snap, a) == gateway and s3_gateway(snap, b) is None
    assert (s3_path(snap, a), s3_path(snap, b)) == (S3Path.GATEWAY, S3Path.NONE)
    assert not reaches_internet(snap, a, S3_EDGE)  # a prefix-list route is not the internet
    igw = store.create_gateway().gateway_id
    store.attach_gateway(igw, vpc)
    store.create_route(other, "0.0.0.0/0", igw)
    snap = store.snapshot(vpc)
    assert s3_path(snap, b) is S3Path.INTERNET and s3_path(snap, a) is S3Path.GATEWAY
    assert reaches_internet(snap, b) and reaches_internet(snap, b, S3_EDGE)
    assert not reaches_internet(snap, a, PUBLIC_EDGE)
    store.set_vpc_attributes(vpc, dns_hostnames=True)
    store.create_endpoint(EndpointRequest(vpc, S3, EndpointType.INTERFACE, subnet_ids=[a],
                                          private_dns=True))  # fmt: skip
    assert s3_path(store.snapshot(vpc), b) is S3Path.INTERFACE


def test_a_gateway_endpoint_whose_listener_is_not_built_routes_s3_nowhere(
    tmp_path: Path,
) -> None:
    """The router's rules (firewall_rules.py) for a subnet whose route table sends S3 to a
    gateway endpoint: to its listener when it is built; while it is not (its build
    failed), S3's public address is unrouted, even beside an internet-gateway route (the
    endpoint's route is the more specific one: S3 never goes past its policy)."""
    store = NetworkStore(open_engine(f"sqlite:///{tmp_path / 'db'}"), "us-east-1", "0" * 12)
    vpc = store.create_vpc("10.0.0.0/16").vpc_id
    a = store.create_subnet(vpc, "10.0.1.0/24").subnet_id
    eni = store.create_host_interface(a).eni_id
    main = store.snapshot(vpc).route_tables[0].route_table_id
    gateway = store.create_endpoint(EndpointRequest(vpc, S3, route_table_ids=[main]))
    listener = "198.18.1.1"

    def s3_from_a(gateways: dict[str, str]) -> tuple[bool, bool]:
        """(S3's public address unrouted, its 443 redirected to the listener)."""
        rules = ruleset_of(store.snapshot(vpc), {eni: "va"}, gateways)
        unrouted = ("va", ip_network(f"{S3_EDGE}/32")) in rules.unrouted
        return unrouted, any(str(r.to) == listener for r in rules.redirects)

    assert s3_from_a({gateway.endpoint_id: listener}) == (False, True)
    assert s3_from_a({}) == (True, False)
    igw = store.create_gateway().gateway_id
    store.attach_gateway(igw, vpc)
    store.create_route(main, "0.0.0.0/0", igw)
    assert s3_from_a({}) == (True, False)
    assert s3_from_a({gateway.endpoint_id: listener}) == (False, True)
