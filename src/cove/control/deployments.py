"""Endpoint state machines, driven against the data plane.

    Creating -> InService | Failed
    InService -> Updating -> InService   (a failed update keeps the old fleet serving and
                                          sets FailureReason, as SageMaker does)
    InService | Failed -> Deleting -> gone

The database row is the source of truth. A handler persists the target (status plus the
variant records to deploy) and submits a transition; the transition reads the row, drives
the runtime and persists the outcome. Transitions of one endpoint run one after another.
`start()` reconciles after a restart: InService endpoints are brought back (start() waits
for them, so a restarted server serves them once it says it is serving), Creating and
Updating ones are resumed, Deleting ones are finished. `stop()` cancels transitions
without persisting anything, so the next start picks them up where they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from cove.control.kinds import ENDPOINT
from cove.control.records import EndpointRecord, VariantRecord
from cove.control.variants import fleet_specs, mark_deployed
from cove.control.vpc import NetworkLookup, zone_shortage
from cove.runtime.contract import Fleet, FleetFailed, Runtime
from cove.statuses import EndpointStatus
from cove.storage.resources import Resource, ResourceStore

log = logging.getLogger(__name__)

CREATING = EndpointStatus.CREATING
IN_SERVICE = EndpointStatus.IN_SERVICE
UPDATING = EndpointStatus.UPDATING
DELETING = EndpointStatus.DELETING
FAILED = EndpointStatus.FAILED

Step = Callable[[str], Awaitable[None]]


class Deployments:
    def __init__(
        self, store: ResourceStore, runtime: Runtime, network: NetworkLookup | None = None
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.network = network  # where the variants' subnets are
        self._fleets: dict[str, Fleet] = {}  # the fleet installed per endpoint (lower name)
        self._tasks: dict[str, asyncio.Task[None]] = {}  # the latest transition per endpoint

    # -- what handlers submit once they persisted the target state

    def create(self, name: str) -> None:
        self._submit(name, self._create)

    def update(self, name: str) -> None:
        self._submit(name, self._update)

    def apply_weights(self, name: str) -> None:
        self._submit(name, self._apply_weights)

    def delete(self, name: str) -> None:
        self._submit(name, self._delete)

    # -- lifecycle

    async def start(self) -> None:
        """Reconcile every endpoint row with the (empty) data plane after a start."""
        awaited = []
        for res in self.store.list(ENDPOINT.store_kind):
            name, status, rec = res.name, res.status, EndpointRecord.from_doc(res.doc)
            if status == IN_SERVICE:
                awaited.append(self._submit(name, self._restore))
            elif status == CREATING:
                self._submit(name, self._create)
            elif status == UPDATING and rec.pending:
                if rec.variants:  # the old config serves while the update resumes
                    awaited.append(self._submit(name, self._restore))
                self._submit(name, self._update)
            elif status == UPDATING:  # weights and capacities: start at the desired values
                awaited.append(self._submit(name, self._apply_weights))
            elif status == DELETING:
                self._submit(name, self._delete)
        if awaited:
            log.info("bringing back %d endpoint(s)", len(awaited))
            await asyncio.gather(*awaited, return_exceptions=True)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- plumbing

    def _submit(self, name: str, step: Step) -> asyncio.Task[None]:
        key = name.lower()
        before = self._tasks.get(key)
        task = asyncio.get_running_loop().create_task(
            self._run_after(before, step, name), name=f"endpoint {name}: {step.__name__}"
        )
        self._tasks[key] = task
        task.add_done_callback(lambda t: self._forget(key, t))
        return task

    def _forget(self, key: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]

    async def _run_after(self, before: asyncio.Task[None] | None, step: Step, name: str) -> None:
        if before is not None:
            with contextlib.suppress(Exception):  # its outcome is persisted already
                await before
        try:
            await step(name)
        except Exception:
            log.exception("endpoint %s: %s failed", name, step.__name__)

    def _read(self, name: str) -> tuple[Resource, EndpointRecord] | None:
        res = self.store.get(ENDPOINT.store_kind, name)
        return None if res is None else (res, EndpointRecord.from_doc(res.doc))

    def _persist(self, name: str, change: Callable[[EndpointRecord], EndpointStatus]) -> None:
        """Re-read the row (tags may have changed meanwhile), apply `change`, which
        returns the status to save, and save."""
        found = self._read(name)
        if found is not None:
            res, rec = found
            res.status = change(rec)
            res.doc = rec.to_doc()
            self.store.save(res)

    def _settle(self, name: str, status: EndpointStatus, reason: str | None) -> None:
        def settle(rec: EndpointRecord) -> EndpointStatus:
            rec.settle(reason)
            return status

        self._persist(name, settle)

    async def _start_fleet(self, name: str, records: list[VariantRecord]) -> Fleet:
        """A healthy fleet for `records`, or FleetFailed; nothing is left running on failure."""
        self._check_placement(records)
        fleet: Fleet | None = None
        try:
            fleet = self.runtime.create_fleet(name, fleet_specs(records))
            await fleet.start()
            return fleet
        except BaseException as exc:
            if fleet is not None:
                await _stop_quietly(fleet)
            if isinstance(exc, FleetFailed) or not isinstance(exc, Exception):
                raise
            log.exception("endpoint %s: starting its fleet failed", name)
            raise FleetFailed(f"Cove could not start the endpoint's instances: {exc}") from exc

    def _check_placement(self, records: list[VariantRecord]) -> None:
        """SageMaker hosts a model in a VPC only where its subnets span two Availability
        Zones, and says so by failing the endpoint (see cove.control.vpc)."""
        if self.network is None:
            return
        for rec in records:
            spec = rec.spec
            if spec.subnets:
                reason = zone_shortage(self.network, spec.subnets, spec.instance_type)
                if reason is not None:
                    raise FleetFailed(reason)

    def _install(self, name: str, fleet: Fleet) -> Fleet | None:
        replaced = self.runtime.install(name, fleet)
        previous = self._fleets.get(name.lower())
        self._fleets[name.lower()] = fleet
        return replaced or previous

    # -- transitions

    async def _create(self, name: str) -> None:
        found = self._read(name)
        if found is None or found[0].status != CREATING or found[1].pending is None:
            return
        records = found[1].pending.variants
        try:
            fleet = await self._start_fleet(name, records)
        except FleetFailed as exc:
            self._settle(name, FAILED, str(exc))
            return
        self._install(name, fleet)

        def done(rec: EndpointRecord) -> EndpointStatus:
            rec.variants = mark_deployed(records, time.time())
            rec.settle(None)
            return IN_SERVICE

        self._persist(name, done)

    async def _update(self, name: str) -> None:
        found = self._read(name)
        if found is None or found[0].status != UPDATING or found[1].pending is None:
            return
        current, pending = found[1], found[1].pending
        try:
            fleet = await self._start_fleet(name, pending.variants)
        except FleetFailed as exc:
            serving = name.lower() in self._fleets
            old = current.config_name
            reason = (
                f"{exc} (the endpoint still serves endpoint configuration {old})"
                if serving
                else str(exc)
            )
            self._settle(name, IN_SERVICE if serving else FAILED, reason)
            return
        old_fleet = self._install(name, fleet)  # traffic moves only to a healthy fleet

        def done(rec: EndpointRecord) -> EndpointStatus:
            rec.variants = mark_deployed(pending.variants, time.time())
            rec.config_name = pending.config_name
            rec.settle(None)
            return IN_SERVICE

        self._persist(name, done)
        if old_fleet is not None and old_fleet is not fleet:
            await old_fleet.stop()  # lets its in-flight requests finish

    async def _apply_weights(self, name: str) -> None:
        found = self._read(name)
        if found is None or found[0].status != UPDATING or found[1].pending is not None:
            return
        records = found[1].variants or []
        fleet = self._fleets.get(name.lower())
        try:
            if fleet is None:  # after a restart: start straight at the desired values
                self._install(name, await self._start_fleet(name, records))
            else:
                for variant in records:
                    fleet.set_weight(variant.name, variant.desired_weight)
                    await fleet.set_instance_count(variant.name, variant.desired_instance_count)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, FleetFailed) else f"Scaling failed: {exc}"
            serving = name.lower() in self._fleets

            def failed(rec: EndpointRecord) -> EndpointStatus:
                for variant in rec.variants or []:
                    variant.roll_back_desired()
                rec.settle(reason)
                return IN_SERVICE if serving else FAILED

            self._persist(name, failed)
            return

        def done(rec: EndpointRecord) -> EndpointStatus:
            rec.variants = mark_deployed(records, time.time())
            rec.settle(None)
            return IN_SERVICE

        self._persist(name, done)

    async def _delete(self, name: str) -> None:
        res = self.store.get(ENDPOINT.store_kind, name)
        if res is None or res.status != DELETING:
            return
        fleet = self.runtime.uninstall(name) or self._fleets.get(name.lower())
        self._fleets.pop(name.lower(), None)
        if fleet is not None:
            await fleet.stop()
        self.store.delete(ENDPOINT.store_kind, name)

    async def _restore(self, name: str) -> None:
        """Start the deployed variants again after a restart, keeping the status."""
        found = self._read(name)
        if found is None or not found[1].variants:
            return
        res, rec = found
        try:
            fleet = await self._start_fleet(name, rec.variants)
        except FleetFailed as exc:
            reason = f"The endpoint could not be brought back after a restart: {exc}"
            log.warning("endpoint %s: %s", name, reason)
            if res.status == IN_SERVICE:
                self._settle(name, FAILED, reason)
            return
        self._install(name, fleet)


async def _stop_quietly(fleet: Fleet) -> None:
    try:
        await fleet.stop()
    except Exception:
        log.exception("stopping a fleet that failed to start")
