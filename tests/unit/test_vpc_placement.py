"""An endpoint whose model's subnets span fewer than two Availability Zones goes Failed
when it is hosted, with the reason SageMaker gives (issue #12 part 1).

AWS asks for "at least two subnets in different availability zones ... even if you have
only one hosting instance" (SageMaker Developer Guide, "Give SageMaker AI hosted endpoints
access to resources in your Amazon VPC",
https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html) and enforces it when it
hosts the endpoint: the SDK's wait for the endpoint reports `Error hosting endpoint
sagemaker-clarify-endpoint-XXX: Failed. Reason: Unable to locate at least 2 availability
zone(s) with the requested instance type YYY that overlap with SageMaker subnets.`
(DescribeEndpoint's FailureReason; "Give SageMaker Clarify jobs access to resources in
your Amazon VPC", https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-vpc.html).

The endpoint rows are written directly: CreateEndpointConfig still refuses models with a
VpcConfig until their instances go into subnets, and this pins the step that follows.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from cove.config import Settings
from cove.control.deployments import CREATING, FAILED, IN_SERVICE, UPDATING, Deployments
from cove.control.endpoints import pending_deployment
from cove.control.kinds import ENDPOINT
from cove.control.records import EndpointRecord, VariantRecord
from cove.control.vpc import zone_shortage
from cove.network.store import NetworkStore
from cove.runtime.contract import VariantSpec
from cove.storage.db import open_engine
from cove.storage.resources import ResourceStore
from tests.unit.test_control_plane import FakeRuntime

ONE_ZONE = (
    "Unable to locate at least 2 availability zone(s) with the requested instance type "
    "ml.c5.xlarge that overlap with SageMaker subnets."
)


class Network:
    def __init__(self, tmp_path: Path) -> None:
        self.settings = Settings(data_dir=tmp_path)
        engine = open_engine(self.settings.db_url)
        self.resources = ResourceStore(engine)
        self.store = NetworkStore(engine, "us-east-1", "000000000000")
        vpc = self.store.create_vpc("10.70.0.0/16").vpc_id
        self.a1, self.a2, self.b = (
            self.store.create_subnet(vpc, cidr, zone).subnet_id
            for cidr, zone in (
                ("10.70.1.0/24", "us-east-1a"),
                ("10.70.2.0/24", "us-east-1a"),
                ("10.70.3.0/24", "us-east-1b"),
            )
        )


def record(*subnets: str, image: str = "sklearn") -> VariantRecord:
    spec = VariantSpec("AllTraffic", "m", image, None, instance_type="ml.c5.xlarge",
                       subnets=subnets, security_group_ids=("sg-1",))  # fmt: skip
    return VariantRecord(spec, None, 1.0, 1)


def test_the_subnets_must_span_two_zones(tmp_path: Path) -> None:
    net = Network(tmp_path)
    assert zone_shortage(net.store, [net.a1, net.b], "ml.c5.xlarge") is None
    assert zone_shortage(net.store, [net.a1, net.a2], "ml.c5.xlarge") == ONE_ZONE
    # a subnet deleted since the model was made offers no zone
    net.store.delete_subnet(net.b)
    assert zone_shortage(net.store, [net.a1, net.b], "ml.c5.xlarge") == ONE_ZONE


def test_hosting_in_one_zone_fails_the_endpoint_and_starts_nothing(tmp_path: Path) -> None:
    net = Network(tmp_path)

    async def go() -> None:
        runtime = FakeRuntime()
        deployments = Deployments(net.resources, runtime, net.store)
        for name, subnets in (("one-zone", (net.a1, net.a2)), ("two-zones", (net.a1, net.b))):
            rec = EndpointRecord("c", pending=pending_deployment("c", [record(*subnets)]))
            ENDPOINT.create(net.resources, net.settings, name, rec.to_doc(), status=CREATING)
            deployments.create(name)
        await settle(net.resources, "one-zone", "two-zones")
        failed = net.resources.get(ENDPOINT.store_kind, "one-zone")
        assert failed is not None and failed.status == FAILED
        assert EndpointRecord.from_doc(failed.doc).failure_reason == ONE_ZONE
        assert ("start", "one-zone") not in runtime.log  # no instance was started for it
        served = net.resources.get(ENDPOINT.store_kind, "two-zones")
        assert served is not None and served.status == IN_SERVICE
        spec = runtime.installed["two-zones"].variants["AllTraffic"]
        assert spec.subnets == (net.a1, net.b) and spec.security_group_ids == ("sg-1",)

        # an update into one zone fails and the endpoint keeps serving its config
        res = net.resources.get(ENDPOINT.store_kind, "two-zones")
        assert res is not None
        rec = EndpointRecord.from_doc(res.doc)
        rec.pending = pending_deployment("c2", [record(net.a2)])
        res.doc, res.status = rec.to_doc(), UPDATING
        net.resources.save(res)
        deployments.update("two-zones")
        await settle(net.resources, "two-zones")
        after = net.resources.get(ENDPOINT.store_kind, "two-zones")
        assert after is not None and after.status == IN_SERVICE
        reason = EndpointRecord.from_doc(after.doc).failure_reason
        assert reason == f"{ONE_ZONE} (the endpoint still serves endpoint configuration c)"
        await deployments.stop()

    asyncio.run(go())


def test_a_specs_vpc_round_trips_through_its_document() -> None:
    rec = record("subnet-1", "subnet-2")
    rec.spec = dataclasses.replace(rec.spec, network_isolation=True)
    doc = rec.to_doc()
    assert doc["Spec"]["subnets"] == ["subnet-1", "subnet-2"]  # JSON has lists
    assert doc["Spec"]["network_isolation"] is True
    assert VariantRecord.from_doc(doc).spec == rec.spec


async def settle(resources: ResourceStore, *names: str) -> None:
    for _ in range(200):
        rows = [resources.get(ENDPOINT.store_kind, n) for n in names]
        if all(r is not None and r.status not in (CREATING, UPDATING) for r in rows):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{names} did not settle")
