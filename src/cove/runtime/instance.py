"""One instance of a production variant: a supervised worker process and its connections.

The process runs in its own session (process group) and sandbox, in a cgroup when the
host has them (see `cove.host`), dies with the server and writes stdout/stderr to the
instance's log file.
It is healthy once `GET /ping` answers 200. When it exits or is recycled (failed health
check, timed-out request), the supervisor starts it again while the fleet routes around it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cove.host.cgroups import Cgroup
from cove.host.log_files import rotate_if_large
from cove.runtime.client import ConnectionPool, Connector
from cove.runtime.invocation import Done, Invocation
from cove.runtime.lane import BatchPolicy, Lane

log = logging.getLogger(__name__)

PING_TIMEOUT = 5.0
STOP_GRACE = 2.0
TAIL_LINES = 12
TAIL_CHARS = 700


class InstanceFailed(Exception):
    """The instance did not become healthy; str(exc) says why, with its last log lines."""


@dataclass(frozen=True)
class Launch:
    """How to start the instance process once; made afresh for every (re)start."""

    argv: list[str]
    env: dict[str, str]
    connect: Connector
    cwd: str
    socket_path: str | None = None  # removed before start, so its existence means "listening"
    cgroup: Cgroup | None = None  # joined before the process runs; killed and removed after
    run_dir: Path | None = None  # the instance's own directory (its socket), removed at stop


class Instance:
    def __init__(
        self,
        instance_id: str,
        variant: str,
        make_launch: Callable[[], Launch],
        log_path: Path,
        az: str,
        startup_timeout: float,
        on_healthy: Callable[[], None],
        timeout: float,
        serial: BatchPolicy | None = None,
        on_idle: Callable[[Instance], None] | None = None,
    ) -> None:
        """`serial`: the process answers one call at a time (Cove's stacks), so calls go
        through a `Lane` with this batching policy; None (bring-your-own container, which
        may serve concurrently) sends each call on its own pooled connection. `on_idle`
        hears when a lane has answered everything it had."""
        self.instance_id = instance_id
        self.variant = variant
        self.az = az  # its Availability Zone, for AZ-local routing behind VPC endpoints
        self.log_path = log_path
        self.healthy = False
        self.restarts = 0
        self.served = 0  # calls it answered (any status), for /metrics
        self._make_launch = make_launch
        self._startup_timeout = startup_timeout
        self._on_healthy = on_healthy
        self._proc: asyncio.subprocess.Process | None = None
        self._timeout = timeout
        self._pool: ConnectionPool | None = None
        self._serial = serial
        self._on_idle = on_idle
        self._lane: Lane | None = None
        self._concurrent = 0  # calls in flight without a lane
        self.in_transit = 0  # calls routed here still waiting out the cross-AZ delay
        self._exchanges: set[asyncio.Task[None]] = set()  # referenced until done
        self._log_offset = 0
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self._cgroup: Cgroup | None = None
        self._run_dir: Path | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Start the process and return once it is healthy; raise InstanceFailed."""
        await self._spawn_until_healthy()
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise())

    async def _spawn_until_healthy(self) -> None:
        # files, ownership and the cgroup (whose predecessor is killed first): off the loop
        try:
            launch = await asyncio.to_thread(self._make_launch)
        except OSError as exc:
            raise InstanceFailed(f"Cove could not prepare the instance: {exc}") from exc
        self._cgroup = launch.cgroup
        self._run_dir = launch.run_dir
        if launch.socket_path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(launch.socket_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            self._log_offset = log_file.tell()
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    *launch.argv,
                    env=launch.env,
                    cwd=launch.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, killed as a whole
                    preexec_fn=launch.cgroup.join if launch.cgroup else None,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise InstanceFailed(f"the process could not be started: {exc}") from exc
        self._close_connections()
        self._pool = ConnectionPool(launch.connect)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._startup_timeout
        delay = 0.02
        while True:
            if self._proc.returncode is not None:
                raise InstanceFailed(
                    f"the process exited with status {self._proc.returncode}{self.log_tail()}"
                )
            if await self.ping():
                if self._serial is not None:
                    idle = (lambda: self._on_idle(self)) if self._on_idle else None
                    self._lane = Lane(launch.connect, self._serial, self._timeout, idle)
                    await self._lane.open()
                self.healthy = True
                self._on_healthy()
                return
            if loop.time() > deadline:
                self._kill(signal.SIGKILL)
                raise InstanceFailed(
                    f"it did not answer GET /ping within {self._startup_timeout:g} s"
                    f"{self.log_tail()}"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    async def _supervise(self) -> None:
        """Restart the process whenever it exits, until the instance is stopped."""
        backoff = 0.5
        while not self._stopping:
            assert self._proc is not None
            code = await self._proc.wait()
            self.healthy = False
            if self._stopping:
                return
            log.warning(
                "instance %s (pid %s) exited with status %s; restarting",
                self.instance_id,
                self._proc.pid,
                code,
            )
            self._kill(signal.SIGKILL)  # whatever it left in its process group
            try:
                await self._spawn_until_healthy()
                self.restarts += 1
                backoff = 0.5
            except InstanceFailed as exc:
                log.error("instance %s failed to restart: %s", self.instance_id, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)

    def recycle(self, reason: str) -> None:
        """Take the instance out of rotation and kill it; the supervisor starts it again."""
        if self._stopping:
            return
        log.warning("recycling instance %s: %s", self.instance_id, reason)
        self.healthy = False
        self._close_connections()  # queued calls fail over to other instances
        self._kill(signal.SIGKILL)

    async def stop(self) -> None:
        self._stopping = True
        self.healthy = False
        if self._supervisor is not None:
            self._supervisor.cancel()
        self._close_connections()
        proc = self._proc
        if proc is not None:
            self._kill(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), STOP_GRACE)
            self._kill(signal.SIGKILL)  # also anything the process left in its group
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), STOP_GRACE)
        if self._cgroup is not None:
            await asyncio.to_thread(self._cgroup.remove)
        if self._run_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self._run_dir, True)

    def _close_connections(self) -> None:
        if self._lane is not None:
            self._lane.close()
        if self._pool is not None:
            self._pool.close()

    def _kill(self, sig: int) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)
        if sig == signal.SIGKILL and self._cgroup is not None:
            self._cgroup.signal(sig)  # whatever left the process group (setsid)

    # -- traffic ----------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def ping(self) -> bool:
        assert self._pool is not None
        try:
            resp = await self._pool.request("GET", "/ping", [], timeout=PING_TIMEOUT)
        except (OSError, ConnectionError):
            return False
        return resp.status == 200

    @property
    def queued(self) -> int:
        """Calls waiting for this instance that were not sent yet."""
        return self._lane.queued if self._lane is not None else 0

    def give_up_queued(self, count: int, zone: str | None = None) -> None:
        """The `count` oldest waiting calls go back to the fleet (as `Moved`); with
        `zone`, only those that may be served in that AZ."""
        if self._lane is not None:
            self._lane.give_up_queued(count, zone)

    @property
    def outstanding(self) -> int:
        """Calls sent, queued or on their way (the cross-AZ delay) to this instance and not
        answered yet."""
        load = self._lane.load if self._lane is not None else self._concurrent
        return load + self.in_transit

    def submit(self, invocation: Invocation, done: Done) -> None:
        """Send one call; `done` gets the answer, TimeoutError after the model timeout,
        or OSError when the instance goes away."""
        if self._lane is not None:
            self._lane.submit(invocation, done)
            return
        self._concurrent += 1
        task = asyncio.get_running_loop().create_task(self._exchange(invocation, done))
        self._exchanges.add(task)
        task.add_done_callback(self._exchanges.discard)

    async def _exchange(self, invocation: Invocation, done: Done) -> None:
        assert self._pool is not None
        try:
            outcome = await self._pool.request(
                "POST", "/invocations", invocation.headers(), invocation.body, self._timeout
            )
        except Exception as exc:  # every call is answered, whatever ended it
            outcome = exc
        finally:
            self._concurrent -= 1
        done(outcome)

    def rotate_log(self, max_bytes: int) -> None:
        """Keep the log within its cap (see `cove.host.log_files`)."""
        if rotate_if_large(self.log_path, max_bytes):
            self._log_offset = 0

    def log_tail(self) -> str:
        """The last lines the current process wrote, as a suffix for a failure reason."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [ln for ln in text.splitlines() if ln.strip()][-TAIL_LINES:]
        tail = "\n".join(lines)[-TAIL_CHARS:]
        return f". Last lines of its log ({self.log_path}):\n{tail}" if tail else ""
