"""The control plane's state machines against an in-test data plane.

The fake runtime below only records what the control plane asks of it; it stands in for
the data plane (a separate subsystem) so these tests can pin down ordering: a new fleet
is healthy before it is installed, the old one stops after, nothing runs after a failure.
End-to-end behaviour with real models is covered in tests/e2e/test_control_*.py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from cove.config import Settings
from cove.control.plane import build_control_plane
from cove.errors import AwsError
from cove.host.cgroups import Cgroups, LimitBackend
from cove.host.confinement import Confinement
from cove.host.sandbox import Sandbox
from cove.http.messages import PUBLIC_LISTENER, Principal, Request, RequestContext
from cove.runtime.contract import FleetFailed, VariantSpec
from cove.services.sagemaker.service import sagemaker_service
from cove.storage.db import open_engine
from cove.storage.resources import ResourceStore

ARN = "arn:aws:sagemaker:us-east-1:000000000000"


class FakeFleet:
    def __init__(self, runtime: FakeRuntime, name: str, specs: list[VariantSpec]) -> None:
        self.runtime, self.name = runtime, name
        self.variants = {s.variant_name: s for s in specs}
        self.weights = {s.variant_name: s.weight for s in specs}
        self.counts = {s.variant_name: s.instance_count for s in specs}
        self.running = False

    async def start(self) -> None:
        self.runtime.log.append(("start", self.name))
        for spec in self.variants.values():
            if spec.image == "hang":
                await asyncio.Event().wait()
            if spec.image == "broken":
                raise FleetFailed(f"variant {spec.variant_name}: the model failed to load")
        self.running = True

    async def stop(self) -> None:
        self.runtime.log.append(("stop", self.name))
        self.running = False

    def set_weight(self, variant: str, weight: float) -> None:
        self.weights[variant] = weight

    async def set_instance_count(self, variant: str, count: int) -> None:
        self.counts[variant] = count


class FakeRuntime:
    def __init__(self) -> None:
        self.installed: dict[str, FakeFleet] = {}
        self.log: list[tuple[str, str]] = []

    def create_fleet(self, endpoint_name: str, specs: list[VariantSpec]) -> FakeFleet:
        return FakeFleet(self, endpoint_name, specs)

    def install(self, endpoint_name: str, fleet: FakeFleet) -> FakeFleet | None:
        assert fleet.running, "only a healthy fleet may receive traffic"
        self.log.append(("install", endpoint_name))
        old = self.installed.get(endpoint_name)
        self.installed[endpoint_name] = fleet
        return old

    def uninstall(self, endpoint_name: str) -> FakeFleet | None:
        return self.installed.pop(endpoint_name, None)

    async def shutdown(self) -> None:
        for fleet in self.installed.values():
            await fleet.stop()


class Harness:
    """A control plane on a SQLite file, called through its json 1.1 service."""

    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(data_dir=data_dir)
        self.engine = open_engine(self.settings.db_url)
        self.runtime = FakeRuntime()
        confinement = Confinement(Sandbox(data_dir), Cgroups(LimitBackend.RLIMIT, ()))
        self.plane = build_control_plane(
            self.settings, ResourceStore(self.engine), self.runtime, None, confinement
        )
        self.service = sagemaker_service(self.plane.context)

    async def call(self, op: str, **params: Any) -> dict[str, Any]:
        admin = Principal("000000000000", "arn:aws:iam::000000000000:root", "AK")
        ctx = RequestContext(PUBLIC_LISTENER, "127.0.0.1", admin)
        req = Request(
            "POST", "/", "", {"x-amz-target": f"SageMaker.{op}"}, json.dumps(params).encode(), ctx
        )
        resp = await self.service.handle(req)
        return json.loads(resp.body)

    async def error(self, op: str, **params: Any) -> str:
        with pytest.raises(AwsError) as info:
            await self.call(op, **params)
        assert info.value.code == "ValidationException"
        return info.value.message

    async def settle(self, name: str) -> dict[str, Any]:
        for _ in range(200):
            out = await self.call("DescribeEndpoint", EndpointName=name)
            if out["EndpointStatus"] not in ("Creating", "Updating", "Deleting"):
                return out
            await asyncio.sleep(0.01)
        raise AssertionError(f"{name} did not settle")

    async def deploy(self, name: str, image: str = "sklearn", count: int = 1) -> None:
        await self.call(
            "CreateModel",
            ModelName=f"{name}-m",
            PrimaryContainer={
                "Image": image,
                "ModelDataUrl": "s3://b/model.tar.gz",
                "Environment": {"A": "1"},
            },
        )
        await self.call(
            "CreateEndpointConfig",
            EndpointConfigName=f"{name}-c",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{name}-m",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": count,
                }
            ],
        )
        await self.call("CreateEndpoint", EndpointName=name, EndpointConfigName=f"{name}-c")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_create_goes_in_service_only_with_a_healthy_installed_fleet(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        await h.deploy("ep", count=2)
        first = await h.call("DescribeEndpoint", EndpointName="ep")
        assert first["EndpointStatus"] == "Creating"
        out = await h.settle("ep")
        assert out["EndpointStatus"] == "InService"
        assert out["EndpointArn"] == f"{ARN}:endpoint/ep"
        [variant] = out["ProductionVariants"]
        assert variant["CurrentInstanceCount"] == variant["DesiredInstanceCount"] == 2
        assert variant["CurrentWeight"] == variant["DesiredWeight"] == 1.0
        assert variant["DeployedImages"][0]["SpecifiedImage"] == "sklearn"
        spec = h.runtime.installed["ep"].variants["AllTraffic"]
        assert (spec.image, spec.model_data_url, spec.environment) == (
            "sklearn",
            "s3://b/model.tar.gz",
            {"A": "1"},
        )
        assert h.runtime.log == [("start", "ep"), ("install", "ep")]

    run(go())


def test_failed_fleet_fails_the_endpoint_with_its_reason(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        await h.deploy("bad", image="broken")
        out = await h.settle("bad")
        assert out["EndpointStatus"] == "Failed"
        assert out["FailureReason"] == "variant AllTraffic: the model failed to load"
        assert "bad" not in h.runtime.installed
        assert ("stop", "bad") in h.runtime.log
        msg = await h.error("UpdateEndpoint", EndpointName="bad", EndpointConfigName="bad-c")
        assert msg == f'Cannot update failed endpoint "{ARN}:endpoint/bad".'
        await h.call("DeleteEndpoint", EndpointName="bad")
        await asyncio.sleep(0.05)
        assert await h.error("DescribeEndpoint", EndpointName="bad") == (
            f'Could not find endpoint "{ARN}:endpoint/bad".'
        )

    run(go())


def test_update_swaps_after_health_and_a_failed_update_keeps_serving(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        await h.deploy("up")
        await h.deploy("other", image="broken")
        await h.settle("up")
        old = h.runtime.installed["up"]
        await h.call(
            "CreateEndpointConfig",
            EndpointConfigName="two",
            ProductionVariants=[
                {
                    "VariantName": "A",
                    "ModelName": "up-m",
                    "InstanceType": "ml.c5.large",
                    "InitialInstanceCount": 1,
                    "InitialVariantWeight": 3,
                },
                {
                    "VariantName": "B",
                    "ModelName": "up-m",
                    "InstanceType": "ml.c5.large",
                    "InitialInstanceCount": 1,
                },
            ],
        )
        h.runtime.log.clear()
        await h.call("UpdateEndpoint", EndpointName="up", EndpointConfigName="two")
        during = await h.call("DescribeEndpoint", EndpointName="up")
        assert during["EndpointStatus"] == "Updating"
        assert during["PendingDeploymentSummary"]["EndpointConfigName"] == "two"
        assert await h.error("UpdateEndpoint", EndpointName="up", EndpointConfigName="two") == (
            f'Cannot update in-progress endpoint "{ARN}:endpoint/up".'
        )
        out = await h.settle("up")
        assert out["EndpointStatus"] == "InService" and out["EndpointConfigName"] == "two"
        assert [v["VariantName"] for v in out["ProductionVariants"]] == ["A", "B"]
        assert h.runtime.log == [("start", "up"), ("install", "up"), ("stop", "up")]
        assert not old.running and h.runtime.installed["up"].weights == {"A": 3.0, "B": 1.0}

        # a failing new config: back to InService on "two", with the reason
        serving = h.runtime.installed["up"]
        await h.call("UpdateEndpoint", EndpointName="up", EndpointConfigName="other-c")
        out = await h.settle("up")
        assert out["EndpointStatus"] == "InService" and out["EndpointConfigName"] == "two"
        assert "the model failed to load" in out["FailureReason"]
        assert "still serves endpoint configuration two" in out["FailureReason"]
        assert h.runtime.installed["up"] is serving and serving.running

    run(go())


def test_weights_and_capacities_apply_live(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        await h.deploy("w")
        await h.settle("w")
        fleet = h.runtime.installed["w"]
        bad = await h.error(
            "UpdateEndpointWeightsAndCapacities",
            EndpointName="w",
            DesiredWeightsAndCapacities=[{"VariantName": "nope", "DesiredWeight": 1}],
        )
        assert "[nope]" in bad
        await h.call(
            "UpdateEndpointWeightsAndCapacities",
            EndpointName="w",
            DesiredWeightsAndCapacities=[
                {"VariantName": "AllTraffic", "DesiredWeight": 2, "DesiredInstanceCount": 3}
            ],
        )
        out = await h.settle("w")
        [v] = out["ProductionVariants"]
        assert (v["CurrentWeight"], v["CurrentInstanceCount"]) == (2.0, 3)
        assert fleet.weights["AllTraffic"] == 2.0 and fleet.counts["AllTraffic"] == 3
        assert h.runtime.installed["w"] is fleet

    run(go())


def test_restart_restores_resumes_and_finishes(tmp_path: Path) -> None:
    async def first() -> None:
        h = Harness(tmp_path)
        await h.deploy("keep", count=2)
        await h.deploy("gone")
        await h.settle("keep")
        await h.settle("gone")
        await h.call("DeleteEndpoint", EndpointName="gone")
        await h.deploy("slow", image="hang")
        await asyncio.sleep(0.05)
        # stop while "slow" is Creating and before "gone"'s deletion was observed
        await h.plane.stop()
        await h.runtime.shutdown()
        out = await h.call("DescribeEndpoint", EndpointName="slow")
        assert out["EndpointStatus"] == "Creating"
        assert ("stop", "slow") in h.runtime.log  # the half-started fleet was stopped

    async def second() -> None:
        h = Harness(tmp_path)
        await h.plane.start()
        # start() returns once every InService endpoint serves again
        fleet = h.runtime.installed["keep"]
        assert fleet.running and fleet.counts == {"AllTraffic": 2}
        out = await h.call("DescribeEndpoint", EndpointName="keep")
        assert out["EndpointStatus"] == "InService" and out["EndpointArn"] == f"{ARN}:endpoint/keep"
        assert (await h.call("DescribeEndpoint", EndpointName="slow"))[
            "EndpointStatus"
        ] == "Creating"
        names = [e["EndpointName"] for e in (await h.call("ListEndpoints"))["Endpoints"]]
        assert "gone" not in names
        await h.plane.stop()

    run(first())
    run(second())


def test_errors_and_dangling_references(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        await h.deploy("e")
        assert await h.error("CreateModel", ModelName="e-m", PrimaryContainer={"Image": "x"}) == (
            f'Cannot create already existing model "{ARN}:model/e-m".'
        )
        assert await h.error("CreateEndpoint", EndpointName="E", EndpointConfigName="e-c") == (
            f'Cannot create already existing endpoint "{ARN}:endpoint/e".'
        )
        assert await h.error("CreateEndpoint", EndpointName="x", EndpointConfigName="nope") == (
            f'Could not find endpoint configuration "{ARN}:endpoint-config/nope".'
        )
        msg = await h.error(
            "CreateEndpointConfig",
            EndpointConfigName="c2",
            ProductionVariants=[
                {
                    "VariantName": "v",
                    "ModelName": "missing",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
        )
        assert msg == f'Could not find model "{ARN}:model/missing".'
        msg = await h.error(
            "CreateEndpointConfig",
            EndpointConfigName="c3",
            ProductionVariants=[
                {
                    "VariantName": "v",
                    "ModelName": "e-m",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ]
            * 2,
        )
        assert "duplicated" in msg
        assert "PrimaryContainer or Containers" in await h.error("CreateModel", ModelName="n")
        # deleting the model and config leaves the endpoint's snapshot deployable
        await h.call("DeleteModel", ModelName="e-m")
        await h.call("DeleteEndpointConfig", EndpointConfigName="e-c")
        assert (await h.settle("e"))["EndpointStatus"] == "InService"
        assert await h.error("DeleteModel", ModelName="e-m") == (
            f'Could not find model "{ARN}:model/e-m".'
        )
        await h.plane.stop()

    run(go())


def test_listing_filters_sorts_and_pages(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        for i in range(5):
            await h.call("CreateModel", ModelName=f"m{i}", PrimaryContainer={"Image": "x"})
            await asyncio.sleep(0.002)
        out = await h.call("ListModels", MaxResults=2, SortBy="Name", SortOrder="Ascending")
        assert [m["ModelName"] for m in out["Models"]] == ["m0", "m1"]
        out = await h.call(
            "ListModels",
            MaxResults=2,
            SortBy="Name",
            SortOrder="Ascending",
            NextToken=out["NextToken"],
        )
        assert [m["ModelName"] for m in out["Models"]] == ["m2", "m3"]
        out = await h.call("ListModels")  # newest first by default
        assert [m["ModelName"] for m in out["Models"]] == ["m4", "m3", "m2", "m1", "m0"]
        assert "NextToken" not in out
        created = {m["ModelName"]: m["CreationTime"] for m in out["Models"]}
        out = await h.call("ListModels", CreationTimeAfter=created["m2"], NameContains="M")
        assert [m["ModelName"] for m in out["Models"]] == ["m4", "m3"]
        assert await h.error("ListModels", NextToken="garbage") == "Invalid pagination token."

    run(go())


def test_tags_by_arn(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        arn = (
            await h.call(
                "CreateModel",
                ModelName="t",
                PrimaryContainer={"Image": "x"},
                Tags=[{"Key": "a", "Value": "1"}],
            )
        )["ModelArn"]
        await h.call(
            "AddTags",
            ResourceArn=arn,
            Tags=[{"Key": "a", "Value": "2"}, {"Key": "b", "Value": "3"}],
        )
        await h.call("DeleteTags", ResourceArn=arn, TagKeys=["b"])
        assert (await h.call("ListTags", ResourceArn=arn))["Tags"] == [{"Key": "a", "Value": "2"}]
        msg = await h.error("ListTags", ResourceArn=f"{ARN}:model/none")
        assert "model/none" in msg

    run(go())
