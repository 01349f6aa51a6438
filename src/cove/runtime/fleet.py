"""A fleet: every instance of every production variant of one endpoint generation, the
health checks that keep them honest, and the invocation path through them."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cove.config import Settings
from cove.errors import AwsError, internal_error
from cove.host.confinement import Confinement
from cove.host.instance_types import InstanceType, UnknownInstanceType, lookup, profile_for
from cove.host.network_attachment import NetworkAttachment
from cove.host.sandbox import OPT_OUT_ENV, SandboxUnavailable
from cove.identity.vending import RoleCredentials
from cove.instance.serving.context import CUSTOM_ATTRIBUTES
from cove.network.sagemaker_hosts import PlacementFailed, SageMakerHosts
from cove.runtime import errors
from cove.runtime.client import HttpResponse, NotSent
from cove.runtime.contract import FleetFailed, InvokeResult, VariantSpec
from cove.runtime.fleet_vpc import FleetEnis, through_vpc
from cove.runtime.images import ServingImage, UnsupportedImage, resolve
from cove.runtime.instance import Instance, InstanceFailed
from cove.runtime.invocation import Invocation, Moved, QueueTimeout
from cove.runtime.lane import BatchPolicy, policy_from
from cove.runtime.launch import make_launch
from cove.runtime.metrics import InstanceSample, Metrics
from cove.runtime.model_download import from_server
from cove.runtime.model_store import ModelCopy, ModelDataError, ModelStore
from cove.runtime.placement import Placement
from cove.runtime.router import LeastOutstanding, WeightTable

log = logging.getLogger(__name__)

CUSTOM_ATTRIBUTES_KEY = CUSTOM_ATTRIBUTES.lower()  # as the response parser stores it
# Gets a call's InvokeResult, or the AwsError to answer it with.
Answer = Callable[[InvokeResult | AwsError], None]
# How long a request waits for a healthy instance when none is (e.g. during a restart).
HEALTHY_WAIT = 30.0


@dataclass
class FleetHost:
    """What the runtime lends each fleet: settings, model directories, places for
    sockets and logs, the sandbox and cgroups instances run in, a counter that
    spreads instances over the host's CPUs, and the placement that picks their AZs."""

    settings: Settings
    models: ModelStore
    socket_dir: Path
    confinement: Confinement
    next_slot: Callable[[], int]
    metrics: Metrics
    placement: Placement
    credentials: RoleCredentials | None = None  # execution roles' credentials for models
    networks: SageMakerHosts | None = None  # where instances of models in a VPC run


@dataclass
class _Variant:
    spec: VariantSpec
    image: ServingImage
    itype: InstanceType
    model: ModelCopy | None  # None until downloaded through the VPC, for a model in one
    instances: list[Instance]
    batching: BatchPolicy
    released: bool = False  # its model copy, when the fleet stopped
    role_env: dict[str, str] | None = None  # its role's credentials, once an instance ran
    reached: set[str] = field(default_factory=set)  # subnets it was downloaded from


class LocalFleet:
    """Implements `cove.runtime.contract.Fleet` with local worker processes."""

    def __init__(self, endpoint_name: str, specs: list[VariantSpec], host: FleetHost) -> None:
        self.endpoint_name = endpoint_name
        self.variants: dict[str, VariantSpec] = {s.variant_name: s for s in specs}
        self.host = host
        self.settings = host.settings
        self.weights = WeightTable({s.variant_name: s.weight for s in specs})
        self.balancer = LeastOutstanding()
        self._live: dict[str, _Variant] = {}
        self._healthy_changed = asyncio.Event()
        self._health_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._numbers: dict[str, int] = {}
        self._waiting: set[asyncio.Task[None]] = set()  # calls waiting for a healthy instance
        self._cross_az_delay = host.settings.cross_az_delay_ms / 1000  # 0: off
        self.enis = FleetEnis(host.networks, endpoint_name, host.confinement, host.models)

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        try:
            for spec in self.variants.values():
                self._live[spec.variant_name] = await self._prepare(spec)
            await asyncio.gather(
                *(self._grow(v, v.spec.instance_count) for v in self._live.values())
            )
        except BaseException:
            await self.stop()
            raise
        self._health_task = asyncio.get_running_loop().create_task(self._health_loop())

    async def _prepare(self, spec: VariantSpec) -> _Variant:
        try:
            self.host.confinement.sandbox.check()
            image = resolve(spec.image)
            itype = lookup(spec.instance_type)
            batching = policy_from(spec.environment)
        except (SandboxUnavailable, UnsupportedImage, UnknownInstanceType, ValueError) as exc:
            raise FleetFailed(str(exc)) from None
        if spec.network_isolation:
            _check_isolation(self.host.confinement, image)
        if batching.enabled and image.is_command:
            raise FleetFailed(
                f"Adaptive batching ({spec.environment.get('COVE_MAX_BATCH_SIZE')}) needs one of "
                "Cove's serving stacks; a bring-your-own-container image answers one request "
                "at a time. Remove COVE_MAX_BATCH_SIZE from the model's Environment."
            )
        if spec.vpc is not None and image.is_command:
            raise FleetFailed(
                f"Image {spec.image} is a bring-your-own-container command, which Cove cannot "
                "run in a VPC yet (it reaches such a container over TCP on loopback, which "
                "is the ENI's own there); deploy the model without VpcConfig, or with one of "
                "Cove's serving stacks."
            )
        if image.module and importlib.util.find_spec(image.module) is None:
            raise FleetFailed(
                f"Image {spec.image} is not one Cove can run: its {image.stack} serving stack "
                f"({image.module}) is not installed in this Cove."
            )
        variant = _Variant(spec, image, itype, None, [], batching)
        if through_vpc(spec):
            return variant  # its model as its instances start, from their subnets
        models, url = self.host.models, spec.model_data_url
        try:  # as the model's role, as SageMaker downloads it (model_download.py)
            variant.model = await models.prepare(
                url, from_server(url, self._grant(variant), models.artifacts)
            )
        except BaseException as exc:
            self._release_grant(variant)  # the fleet does not hold the variant yet
            if isinstance(exc, ModelDataError):
                raise FleetFailed(str(exc)) from None
            raise
        return variant

    async def _grow(self, variant: _Variant, count: int) -> None:
        """Start `count` more instances; they join the rotation only once all are healthy."""
        new: list[Instance] = []
        try:
            await self._start_new(variant, count, new)
        except BaseException:
            # failed or cancelled (the endpoint deleted or updated meanwhile): none of
            # `new` is in variant.instances, where stop() would find them
            await asyncio.gather(*(i.stop() for i in new))
            await self.enis.release(i.instance_id for i in new)
            raise
        variant.instances.extend(new)

    async def _start_new(self, variant: _Variant, count: int, new: list[Instance]) -> None:
        """`count` instances placed, added to `new`, their model reached, started."""
        try:
            for _ in range(count):
                placed = [i.az for i in (*variant.instances, *new) if i.az is not None]
                zone = self.host.placement.zone(variant.spec, placed)
                new.append(await self._new_instance(variant, zone, placed))
            variant.model = await self.enis.reach_model(
                variant.spec, [i.instance_id for i in new], variant.model, variant.reached,
                self._grant(variant),
            )  # fmt: skip
        except (PlacementFailed, ModelDataError) as exc:
            raise FleetFailed(str(exc)) from None
        results = await asyncio.gather(*(i.start() for i in new), return_exceptions=True)
        failures = [(i, r) for i, r in zip(new, results, strict=True) if isinstance(r, Exception)]
        if failures:
            inst, exc = failures[0]
            if not isinstance(exc, InstanceFailed):
                raise exc
            raise FleetFailed(
                f"The primary container for production variant {variant.spec.variant_name} "
                f"did not pass the ping health check: {exc}"
            )

    def _role_env(self, variant: _Variant) -> dict[str, str]:
        """The variant's instances act as the model's execution role (SageMaker's session
        name for hosting is the endpoint's)."""
        if variant.spec.network_isolation:
            return {}  # an isolated model gets no credentials at all
        return self._grant(variant)

    def _grant(self, variant: _Variant) -> dict[str, str]:
        """The execution role's credentials, as SageMaker itself uses them too (to
        download the model's artifact, an isolated model's too)."""
        credentials, role = self.host.credentials, variant.spec.role_arn
        if credentials is None or role is None:
            return {}
        if variant.role_env is None:
            variant.role_env = credentials.environment(role, f"SageMaker-{self.endpoint_name}")
        return variant.role_env

    def _release_grant(self, variant: _Variant) -> None:
        if variant.role_env is not None and self.host.credentials is not None:
            self.host.credentials.release(variant.role_env)
        variant.role_env = None

    async def _new_instance(self, variant: _Variant, az: str, placed: list[str]) -> Instance:
        """An instance in `az` (its variant's others are in `placed`); for a model in a
        VPC, a host in one of its subnets there (or in the ENI it had before a restart)."""
        name = variant.spec.variant_name
        number = self._numbers[name] = self._numbers.get(name, 0) + 1
        instance_id = f"{name}-{number}"
        network = None
        if variant.spec.vpc is not None:
            nic = await self.enis.attach(variant.spec.vpc, az, placed, instance_id)
            az = nic.az
            # isolated: the ENI is SageMaker's (downloads), the model gets loopback alone
            network = None if variant.spec.network_isolation else nic.attachment
        try:
            return self._instance(variant, instance_id, az, network)
        except BaseException:
            await self.enis.release([instance_id])  # no instance holds its ENI then
            raise

    def _instance(
        self, variant: _Variant, instance_id: str, az: str, network: NetworkAttachment | None
    ) -> Instance:
        name = variant.spec.variant_name
        slot = self.host.next_slot()
        profile = profile_for(variant.itype, slot)
        logs = self.settings.data_dir / "logs" / "endpoints" / self.endpoint_name

        def launch():  # type: ignore[no-untyped-def]
            assert variant.model is not None  # downloaded before any instance starts
            return make_launch(
                variant.image,
                variant.model.path,
                variant.spec.environment,
                profile,
                self.host.socket_dir / str(slot),
                f"instance-{slot}",
                self.host.confinement,
                self._role_env(variant),
                network,
                isolated=variant.spec.network_isolation,
            )

        return Instance(
            instance_id,
            name,
            launch,
            logs / f"{instance_id}.log",
            az=az,
            startup_timeout=self.settings.startup_timeout,
            on_healthy=self._healthy_changed.set,
            timeout=self.settings.model_timeout,
            serial=None if variant.image.is_command else variant.batching,
            on_idle=self._rebalance,
        )

    async def stop(self, keep_networks: bool = False) -> None:
        """Let requests in flight finish (bounded by the model timeout), then stop.
        `keep_networks`: the server is stopping, not the endpoint: its instances' ENIs stay
        for them to adopt after the restart."""
        self._stopped = True
        if self._health_task is not None:
            self._health_task.cancel()
        instances = [i for v in self._live.values() for i in v.instances]
        await _drain(instances, self.settings.model_timeout + 1)
        await asyncio.gather(*(i.stop() for i in instances))
        if not keep_networks:
            await self.enis.release(i.instance_id for i in instances)
        for variant in self._live.values():
            if not variant.released and variant.model is not None:
                variant.released = True
                self.host.models.release(variant.model)
            self._release_grant(variant)  # with or without a model (its download failed)

    def set_weight(self, variant_name: str, weight: float) -> None:
        self.variants[variant_name] = replace(self.variants[variant_name], weight=weight)
        self.weights.set(variant_name, weight)

    async def set_instance_count(self, variant_name: str, count: int) -> None:
        variant = self._live[variant_name]
        current = len(variant.instances)
        if count > current:
            await self._grow(variant, count - current)
        elif count < current:
            # leave the rotation first, then drain and stop
            gone = variant.instances[count:]
            del variant.instances[count:]
            await _drain(gone, self.settings.model_timeout + 1)
            await asyncio.gather(*(i.stop() for i in gone))
            await self.enis.release(i.instance_id for i in gone)
        self.variants[variant_name] = replace(self.variants[variant_name], instance_count=count)

    def instances(self, variant_name: str | None = None) -> list[Instance]:
        return [
            i for name, v in self._live.items() if variant_name in (None, name) for i in v.instances
        ]

    # -- health -----------------------------------------------------------------------
    async def _health_loop(self) -> None:
        while not self._stopped:
            await asyncio.sleep(self.settings.health_interval)
            for inst in self.instances():  # a copy past the cap: off the loop
                await asyncio.to_thread(inst.rotate_log, self.settings.log_max_bytes)
            checks = [i for i in self.instances() if i.healthy and i.outstanding == 0]
            results = await asyncio.gather(*(i.ping() for i in checks))
            for inst, ok in zip(checks, results, strict=True):
                # a busy instance is not pinged: its requests are bounded by the timeout
                if not ok and inst.healthy and inst.outstanding == 0:
                    inst.recycle("failed its /ping health check")

    def _rebalance(self, idle: Instance) -> None:
        """An instance ran out of work: half the calls queued behind the busiest sibling
        come here, so nothing waits behind a slow or hung instance while this one idles
        (those a sibling in another AZ holds for its own AZ stay there)."""
        variant = self._live.get(idle.variant)
        if variant is None or not idle.healthy:
            return
        donor = max(variant.instances, key=lambda i: i.queued)
        if donor is not idle and donor.queued:
            zone = None if donor.az == idle.az else idle.az
            donor.give_up_queued((donor.queued + 1) // 2, zone)

    # -- invocations ------------------------------------------------------------------
    def submit(self, invocation: Invocation, target_variant: str | None, done: Answer) -> None:
        """Route one call to a variant (by weight, unless targeted) and its least busy
        healthy instance; `done` gets an InvokeResult or the AwsError to answer with."""
        if target_variant is not None:
            if target_variant not in self._live:
                done(errors.unknown_variant(target_variant, self.endpoint_name))
                return
            name = target_variant
        else:
            picked = self.weights.pick()
            if picked is None:
                done(errors.no_traffic(self.endpoint_name))
                return
            name = picked
        self._send(_Call(self, invocation, name, done))

    def _send(self, call: _Call) -> None:
        inst = self.balancer.pick(self._live[call.variant].instances, call.invocation.az)
        if inst is None:  # none healthy right now: wait for one off the hot path
            task = asyncio.get_running_loop().create_task(self._send_when_healthy(call))
            self._waiting.add(task)
            task.add_done_callback(self._waiting.discard)
            return
        self._dispatch(call, inst)  # type: ignore[arg-type]

    async def _send_when_healthy(self, call: _Call) -> None:
        try:
            inst = await self._pick(call.variant, call.invocation.az)
        except AwsError as err:
            call.done(err)
            return
        self._dispatch(call, inst)

    def _dispatch(self, call: _Call, inst: Instance) -> None:
        """Send the call; one served in another AZ than its caller's first waits the
        cross-AZ delay when one is set (standing for the hops between AZs it would make)."""
        delay = self._cross_az_delay
        if delay and call.invocation.caller_az not in (None, inst.az):
            # counted as the instance's meanwhile, or routing would see it idle and send
            # it more of the calls that pay the delay
            inst.in_transit += 1
            asyncio.get_running_loop().call_later(delay, self._arrive, call, inst)
            return
        call.send_to(inst)

    @staticmethod
    def _arrive(call: _Call, inst: Instance) -> None:
        inst.in_transit -= 1
        call.send_to(inst)

    async def _pick(self, variant_name: str, az: str | None) -> Instance:
        instances = self._live[variant_name].instances
        inst = self.balancer.pick(instances, az)
        if inst is not None:
            return inst  # type: ignore[return-value]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HEALTHY_WAIT
        while inst is None:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopped:
                raise errors.no_healthy_instance(self.endpoint_name, variant_name)
            self._healthy_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._healthy_changed.wait(), min(remaining, 0.5))
            inst = self.balancer.pick(instances, az)
        return inst  # type: ignore[return-value]

    def samples(self) -> list[InstanceSample]:
        return [
            InstanceSample(self.endpoint_name, i.variant, i.instance_id, i.az, i.pid, i.served)
            for i in self.instances()
        ]

    def log_arn(self, inst: Instance) -> str:
        return self.settings.arn(
            "logs",
            f"log-group:/aws/sagemaker/Endpoints/{self.endpoint_name}"
            f":log-stream:{inst.instance_id}",
        )


class _Call:
    """One call on its way through the fleet: where it went, and what its answer means."""

    __slots__ = ("fleet", "invocation", "variant", "done", "instance", "started", "retried")

    def __init__(self, fleet: LocalFleet, invocation: Invocation, variant: str, done: Answer):
        self.fleet = fleet
        self.invocation = invocation
        self.variant = variant
        self.done = done
        self.instance: Instance | None = None
        self.started = 0.0
        self.retried = False

    def send_to(self, inst: Instance) -> None:
        self.instance = inst
        self.started = time.perf_counter()
        inst.submit(self.invocation, self.answered)

    def answered(self, outcome: HttpResponse | Exception) -> None:
        fleet, inst = self.fleet, self.instance
        assert inst is not None
        if isinstance(outcome, HttpResponse) and 200 <= outcome.status < 300:
            inst.served += 1
            self.done(
                InvokeResult(
                    outcome.body,
                    outcome.headers.get("content-type", "application/octet-stream"),
                    self.variant,
                    outcome.headers.get(CUSTOM_ATTRIBUTES_KEY),
                    (time.perf_counter() - self.started) * 1e6,
                )
            )
            return
        metrics = fleet.host.metrics.variant(fleet.endpoint_name, self.variant)
        timeout = fleet.settings.model_timeout
        if isinstance(outcome, TimeoutError):
            metrics.record_error(504)
            if not isinstance(outcome, QueueTimeout):
                inst.recycle(f"no answer within {timeout:g} s")
            self.done(errors.model_timeout(fleet.log_arn(inst), inst.log_path))
        elif isinstance(outcome, Moved):
            fleet._send(self)  # to the idle instance that asked for it
        elif isinstance(outcome, OSError):
            if inst.alive and inst.healthy:
                inst.recycle("connection to the instance failed")
            # Only a call that never reached the model is tried again (once): one that
            # was in flight may be what crashed the instance, and would crash the next.
            if isinstance(outcome, NotSent) and not self.retried:
                self.retried = True
                fleet._send(self)
                return
            metrics.record_error(502)
            self.done(errors.model_crashed(fleet.log_arn(inst), inst.log_path))
        elif isinstance(outcome, HttpResponse):
            inst.served += 1
            metrics.record_error(outcome.status)
            self.done(
                errors.model_error(outcome.status, outcome.body, fleet.log_arn(inst), inst.log_path)
            )
        else:  # a bug on our side: answer InternalFailure rather than never
            log.error("invocation of %s failed: %r", fleet.endpoint_name, outcome)
            self.done(internal_error())


async def _drain(instances: list[Instance], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while any(i.outstanding for i in instances) and loop.time() < deadline:
        await asyncio.sleep(0.05)


def _check_isolation(confinement: Confinement, image: ServingImage) -> None:
    """EnableNetworkIsolation: the instance runs with no network but loopback and no
    credentials (SageMaker Developer Guide, "Run training and inference containers in
    internet-free mode"). Where Cove cannot do that, the endpoint fails rather than run
    the model connected."""
    if not confinement.sandbox.enabled:
        raise FleetFailed(
            "EnableNetworkIsolation is set but this server runs models without a sandbox "
            f"({OPT_OUT_ENV}=off), so it cannot take their network away. Start the server "
            "with the sandbox or create the model without EnableNetworkIsolation."
        )
    if image.is_command:
        raise FleetFailed(
            f"EnableNetworkIsolation is set and image {image.executable} is a command, which "
            "Cove reaches on a loopback TCP port an isolated instance does not share with "
            "the server. Use one of Cove's serving stacks or turn network isolation off."
        )
