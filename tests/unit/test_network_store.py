"""The network store on its own: address allocation (five reserved, lowest free first,
released on delete), the default group's rules, deletion rules, change notices for the
fabric, endpoint rules, and persistence across a new store on the same database.

AWS facts: five reserved addresses per subnet, first four and last (Amazon VPC User
Guide, "Subnet CIDR blocks"); the default group allows inbound from itself and all
outbound ("Default security groups for your VPCs"); an interface endpoint's ENIs are
`vpc_endpoint`, requester-managed, described "VPC Endpoint Interface vpce-..." and get
the VPC's default group when none is given (AWS PrivateLink Guide; ../shared/AWS-FACTS.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cove.network.addresses import available, lowest_free
from cove.network.endpoints import FULL_ACCESS, EndpointChange, EndpointRequest
from cove.network.failures import Failure, NetworkError
from cove.network.permissions import Permission
from cove.network.resources import EndpointState, EndpointType, InterfaceType
from cove.network.store import NetworkStore
from cove.network.zones import region_zones, zone_id_prefix
from cove.storage.db import open_engine

ACCOUNT = "000000000000"
RUNTIME = "com.amazonaws.us-east-1.sagemaker.runtime"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cove.db'}"


@pytest.fixture
def store(db_url: str) -> NetworkStore:
    return NetworkStore(open_engine(db_url), "us-east-1", ACCOUNT)


def failure_of(call, *args, **kwargs) -> Failure:  # type: ignore[no-untyped-def]
    with pytest.raises(NetworkError) as info:
        call(*args, **kwargs)
    return info.value.failure


def test_addresses_skip_the_reserved_and_take_the_lowest_free() -> None:
    assert lowest_free("10.0.1.0/28", []) == "10.0.1.4"
    assert lowest_free("10.0.1.0/28", ["10.0.1.4", "10.0.1.6"]) == "10.0.1.5"
    full = [f"10.0.1.{n}" for n in range(4, 15)]
    assert lowest_free("10.0.1.0/28", full) is None  # .15 is the broadcast address
    assert available("10.0.1.0/28", 0) == 11 and available("10.0.0.0/16", 3) == 65536 - 8


def test_zones_of_us_east_1_and_of_other_regions() -> None:
    zones = region_zones("us-east-1")
    assert len(zones) == 6 and zones[0].name == "us-east-1a"
    assert {z.zone_id for z in zones} == {f"use1-az{n}" for n in range(1, 7)}
    assert zone_id_prefix("eu-central-1") == "euc1" and zone_id_prefix("ap-southeast-2") == "apse2"
    assert [z.zone_id for z in region_zones("eu-central-1")] == ["euc1-az1", "euc1-az2", "euc1-az3"]


def test_a_new_vpc_has_its_main_table_and_default_group(store: NetworkStore) -> None:
    vpc = store.create_vpc("10.0.0.0/16")
    snap = store.snapshot(vpc.vpc_id)
    assert (snap.vpc.dns_support, snap.vpc.dns_hostnames) == (True, False)
    assert snap.vpc.resolver_ip == "10.0.0.2"
    (main,) = snap.route_tables
    assert main.main and [(r.destination, r.target) for r in main.routes] == [
        ("10.0.0.0/16", "local")
    ]
    (default,) = snap.groups
    assert default.name == "default"
    assert [(r.protocol, r.peer_group_id) for r in default.ingress] == [("-1", default.group_id)]
    assert [(r.protocol, r.cidr) for r in default.egress] == [("-1", "0.0.0.0/0")]


def test_subnet_rules(store: NetworkStore) -> None:
    vpc = store.create_vpc("10.0.0.0/16")
    assert failure_of(store.create_vpc, "10.0.0.0/15") is Failure.VPC_RANGE
    # host bits set: the canonical block, as EC2 does ("if you specify 100.68.0.18/18, we
    # modify it to 100.68.0.0/18", CreateVpc CidrBlock, EC2 API reference)
    assert store.create_vpc("100.68.0.18/18").cidr == "100.68.0.0/18"
    subnet = store.create_subnet(vpc.vpc_id, "10.0.0.0/24", zone_name="us-east-1b")
    assert subnet.zone.zone_id == "use1-az1" and subnet.available_ips == 251
    assert failure_of(store.create_subnet, vpc.vpc_id, "10.0.0.0/25") is Failure.SUBNET_CONFLICT
    assert failure_of(store.create_subnet, vpc.vpc_id, "10.1.0.0/24") is Failure.SUBNET_RANGE
    assert failure_of(store.create_subnet, vpc.vpc_id, "10.0.9.0/29") is Failure.SUBNET_RANGE
    assert failure_of(store.create_subnet, vpc.vpc_id, "10.0.9.0/24", "mars-1a") is (
        Failure.ZONE_UNKNOWN
    )
    assert failure_of(store.create_subnet, "vpc-0", "10.0.9.0/24") is Failure.VPC_NOT_FOUND
    assert failure_of(store.delete_vpc, vpc.vpc_id) is Failure.VPC_IN_USE


def test_interfaces_take_and_give_back_addresses(store: NetworkStore) -> None:
    vpc = store.create_vpc("10.0.0.0/16")
    subnet = store.create_subnet(vpc.vpc_id, "10.0.1.0/28")
    first = store.create_host_interface(subnet.subnet_id, description="host one")
    second = store.create_host_interface(subnet.subnet_id)
    assert (first.private_ip, second.private_ip) == ("10.0.1.4", "10.0.1.5")
    assert first.interface_type is InterfaceType.INTERFACE and not first.requester_managed
    default = store.snapshot(vpc.vpc_id).groups[0].group_id
    assert first.group_ids == (default,)
    assert store.subnet(subnet.subnet_id).available_ips == 9
    assert store.interface_by_ip(vpc.vpc_id, "10.0.1.5") == second
    assert store.interface_by_ip(vpc.vpc_id, "10.0.1.9") is None
    assert failure_of(store.delete_subnet, subnet.subnet_id) is Failure.SUBNET_IN_USE
    store.delete_interface(first.eni_id)
    assert store.create_host_interface(subnet.subnet_id).private_ip == "10.0.1.4"
    other_vpc = store.create_vpc("10.9.0.0/16")
    foreign = store.snapshot(other_vpc.vpc_id).groups[0].group_id
    assert failure_of(store.create_host_interface, subnet.subnet_id, [foreign]) is (
        Failure.GROUPS_DIFFERENT_VPC
    )


def test_a_managed_interface_takes_all_its_addresses_or_none(store: NetworkStore) -> None:
    # a SageMaker instance's ENI: two private IPs, the first primary (EC2 UG, "Multiple IP
    # addresses"); a subnet without room for both refuses with EC2's text, keeping none
    vpc = store.create_vpc("10.0.0.0/16")
    subnet = store.create_subnet(vpc.vpc_id, "10.0.1.0/28")  # 11 assignable
    default = store.snapshot(vpc.vpc_id).groups[0].group_id
    eni = store.create_managed_interface(subnet.subnet_id, [default], "d", "sagemaker.x", 2)
    assert eni.private_ips == ("10.0.1.4", "10.0.1.5")
    assert (eni.requester_managed, eni.owner, eni.interface_type) == (
        True, "sagemaker.x", InterfaceType.INTERFACE,
    )  # fmt: skip
    assert store.subnet(subnet.subnet_id).available_ips == 9
    for _ in range(8):
        store.create_host_interface(subnet.subnet_id)
    with pytest.raises(NetworkError) as caught:
        store.create_managed_interface(subnet.subnet_id, [default], "d", "sagemaker.x", 2)
    assert str(caught.value) == (
        f"There are not enough free addresses in subnet '{subnet.subnet_id}' to satisfy "
        "the requested number of instances."
    )
    assert store.subnet(subnet.subnet_id).available_ips == 1
    assert failure_of(store.delete_interface, eni.eni_id) is Failure.INTERFACE_IN_USE
    store.release_interface(eni.eni_id)
    assert store.subnet(subnet.subnet_id).available_ips == 3


def test_group_rules_and_deletion(store: NetworkStore) -> None:
    vpc = store.create_vpc("10.0.0.0/16")
    default = store.snapshot(vpc.vpc_id).groups[0]
    web = store.create_group(vpc.vpc_id, "web", "web servers")
    assert [(r.protocol, r.cidr) for r in web.egress] == [("-1", "0.0.0.0/0")]
    https = Permission("tcp", 443, 443, cidr="10.0.0.0/16")
    store.authorize(web.group_id, False, [https])
    assert failure_of(store.authorize, web.group_id, False, [https]) is (
        Failure.PERMISSION_DUPLICATE
    )
    store.authorize(default.group_id, False, [Permission("-1", None, None,
                                                         peer_group_id=web.group_id)])  # fmt: skip
    assert failure_of(store.delete_group, web.group_id) is Failure.GROUP_IN_USE  # referenced
    assert failure_of(store.delete_group, default.group_id) is Failure.DEFAULT_GROUP
    assert failure_of(store.create_group, vpc.vpc_id, "web", "again") is Failure.GROUP_DUPLICATE
    unknown = store.revoke(web.group_id, False, [https, Permission("udp", 1, 1, cidr="1.1.1.1/32")],
                           [])  # fmt: skip
    assert unknown == [Permission("udp", 1, 1, cidr="1.1.1.1/32")]
    assert store.group(web.group_id).ingress == ()
    assert failure_of(store.revoke, web.group_id, False, [https], []) is (
        Failure.PERMISSION_NOT_FOUND
    )
    rule = store.snapshot(vpc.vpc_id).groups[0].ingress[-1]
    store.revoke(default.group_id, False, [], [rule.rule_id])
    store.delete_group(web.group_id)


def test_interface_endpoint_rules(store: NetworkStore) -> None:
    vpc = store.create_vpc("10.0.0.0/16")
    a = store.create_subnet(vpc.vpc_id, "10.0.1.0/24", zone_name="us-east-1a")
    a2 = store.create_subnet(vpc.vpc_id, "10.0.3.0/24", zone_name="us-east-1a")
    b = store.create_subnet(vpc.vpc_id, "10.0.2.0/24", zone_name="us-east-1b")
    request = EndpointRequest(vpc.vpc_id, RUNTIME, EndpointType.INTERFACE, [a.subnet_id])
    assert failure_of(store.create_endpoint, request) is Failure.PRIVATE_DNS_ATTRIBUTES
    store.set_vpc_attributes(vpc.vpc_id, dns_hostnames=True)
    two_in_a = EndpointRequest(vpc.vpc_id, RUNTIME, EndpointType.INTERFACE,
                               [a.subnet_id, a2.subnet_id])  # fmt: skip
    assert failure_of(store.create_endpoint, two_in_a) is Failure.DUPLICATE_ZONE
    assert store.subnet(a.subnet_id).available_ips == 251  # the refused call took nothing
    endpoint = store.create_endpoint(request)
    # one endpoint per service and VPC may carry private DNS (AWS answers InvalidParameter
    # "private-dns-enabled cannot be set because there is already a conflicting DNS domain
    # for logs.us-east-1.amazonaws.com in the VPC vpc-...", as CloudFormation users report)
    again = EndpointRequest(vpc.vpc_id, RUNTIME, EndpointType.INTERFACE, [b.subnet_id])
    with pytest.raises(NetworkError) as info:
        store.create_endpoint(again)
    assert info.value.message == (
        "private-dns-enabled cannot be set because there is already a conflicting DNS domain "
        f"for runtime.sagemaker.us-east-1.amazonaws.com in the VPC {vpc.vpc_id}"
    )
    assert (
        store.create_endpoint(
            EndpointRequest(
                vpc.vpc_id, RUNTIME, EndpointType.INTERFACE, [b.subnet_id], private_dns=False
            )
        ).private_dns_enabled
        is False
    )
    store.delete_endpoint(store.endpoints()[-1].endpoint_id)
    assert endpoint.state is EndpointState.PENDING and endpoint.private_dns_enabled
    assert endpoint.policy_document == FULL_ACCESS
    default = store.snapshot(vpc.vpc_id).groups[0].group_id
    assert endpoint.group_ids == (default,)
    (eni,) = store.snapshot(vpc.vpc_id).interfaces
    assert (eni.interface_type, eni.requester_managed, eni.owner) == (
        InterfaceType.VPC_ENDPOINT, True, endpoint.endpoint_id,
    )  # fmt: skip
    assert eni.description == f"VPC Endpoint Interface {endpoint.endpoint_id}"
    assert failure_of(store.delete_interface, eni.eni_id) is Failure.INTERFACE_IN_USE
    names = [d.dns_name for d in endpoint.dns_entries]
    suffix = endpoint.dns_suffix
    assert names[:2] == [
        f"{endpoint.endpoint_id}-{suffix}.runtime.sagemaker.us-east-1.vpce.amazonaws.com",
        f"{endpoint.endpoint_id}-{suffix}-us-east-1a.runtime.sagemaker.us-east-1.vpce"
        ".amazonaws.com",
    ]
    assert "runtime.sagemaker.us-east-1.amazonaws.com" in names
    web = store.create_group(vpc.vpc_id, "web", "web")
    store.modify_endpoint(endpoint.endpoint_id, EndpointChange(
        add_subnets=[b.subnet_id], add_groups=[web.group_id], remove_groups=[default]))  # fmt: skip
    changed = store.endpoint(endpoint.endpoint_id)
    assert changed.subnet_ids == tuple(sorted([a.subnet_id, b.subnet_id]))
    assert changed.group_ids == (web.group_id,)
    assert {i.group_ids for i in store.snapshot(vpc.vpc_id).interfaces} == {(web.group_id,)}
    assert failure_of(store.delete_group, web.group_id) is Failure.GROUP_IN_USE
    store.set_endpoint_state(endpoint.endpoint_id, EndpointState.AVAILABLE)
    assert store.endpoint(endpoint.endpoint_id).state is EndpointState.AVAILABLE
    store.delete_endpoint(endpoint.endpoint_id)
    assert store.snapshot(vpc.vpc_id).interfaces == ()
    assert store.subnet(a.subnet_id).available_ips == 251


def test_gateway_endpoints_route_to_the_prefix_list(store: NetworkStore) -> None:
    vpc = store.create_vpc("10.0.0.0/16")
    main = store.snapshot(vpc.vpc_id).route_tables[0]
    s3 = "com.amazonaws.us-east-1.s3"
    endpoint = store.create_endpoint(
        EndpointRequest(vpc.vpc_id, s3, route_table_ids=[main.route_table_id])
    )
    assert endpoint.endpoint_type is EndpointType.GATEWAY
    assert endpoint.state is EndpointState.AVAILABLE and not endpoint.private_dns_enabled
    routes = store.route_table(main.route_table_id).routes
    assert [(r.destination, r.target) for r in routes][-1] == ("pl-63a5400a", endpoint.endpoint_id)
    (prefix_list,) = store.catalog.prefix_lists()
    assert prefix_list.name == s3 and prefix_list.cidrs
    wrong = EndpointRequest(vpc.vpc_id, RUNTIME, EndpointType.GATEWAY)
    assert failure_of(store.create_endpoint, wrong) is Failure.INVALID_PARAMETER
    store.delete_endpoint(endpoint.endpoint_id)
    assert len(store.route_table(main.route_table_id).routes) == 1


def test_fabric_hears_of_committed_changes_only(store: NetworkStore) -> None:
    heard: list[str] = []
    store.subscribe(heard.append)
    vpc = store.create_vpc("10.0.0.0/16")
    assert heard == [vpc.vpc_id]
    heard.clear()
    assert failure_of(store.create_subnet, vpc.vpc_id, "10.1.0.0/24") is Failure.SUBNET_RANGE
    assert heard == []
    store.create_subnet(vpc.vpc_id, "10.0.1.0/24")
    store.set_vpc_attributes(vpc.vpc_id, dns_hostnames=True)
    gateway = store.create_gateway()
    store.attach_gateway(gateway.gateway_id, vpc.vpc_id)
    assert heard == [vpc.vpc_id] * 3


def test_everything_survives_a_new_store_on_the_same_database(db_url: str) -> None:
    first = NetworkStore(open_engine(db_url), "us-east-1", ACCOUNT)
    vpc = first.create_vpc("10.0.0.0/16")
    first.set_vpc_attributes(vpc.vpc_id, dns_hostnames=True)
    subnet = first.create_subnet(vpc.vpc_id, "10.0.1.0/24")
    first.create_endpoint(EndpointRequest(vpc.vpc_id, RUNTIME, EndpointType.INTERFACE,
                                          [subnet.subnet_id]))  # fmt: skip
    first.create_tags([vpc.vpc_id], [])
    before = first.snapshot(vpc.vpc_id)
    first.engine.dispose()
    second = NetworkStore(open_engine(db_url), "us-east-1", ACCOUNT)
    assert second.vpc_ids() == [vpc.vpc_id]
    assert second.snapshot(vpc.vpc_id) == before
    host = second.create_host_interface(subnet.subnet_id)
    assert host.private_ip == "10.0.1.5"  # .4 is still the endpoint's


def test_a_subscriber_may_read_and_write_from_its_callback(store: NetworkStore) -> None:
    """The fabric builds from a snapshot on notice and reports endpoint states back."""
    import threading

    seen: list[int] = []

    def on_change(vpc_id: str) -> None:
        def build() -> None:  # on the fabric's own thread, as it will run
            snap = store.snapshot(vpc_id)
            seen.append(len(snap.endpoints))
            for endpoint in snap.endpoints:
                store.set_endpoint_state(endpoint.endpoint_id, EndpointState.AVAILABLE)

        worker = threading.Thread(target=build)
        worker.start()
        worker.join(10)

    vpc = store.create_vpc("10.0.0.0/16")
    store.set_vpc_attributes(vpc.vpc_id, dns_hostnames=True)
    subnet = store.create_subnet(vpc.vpc_id, "10.0.1.0/24")
    store.subscribe(on_change)
    made = store.create_endpoint(EndpointRequest(vpc.vpc_id, RUNTIME, EndpointType.INTERFACE,
                                                 [subnet.subnet_id]))  # fmt: skip
    assert made.state is EndpointState.PENDING  # as CreateVpcEndpoint answers it
    assert seen == [1]
    assert store.endpoint(made.endpoint_id).state is EndpointState.AVAILABLE
