"""One function worker, seen from the server: a sandboxed bootstrap process serving one
invocation at a time over its frames channel, its output cut into phases.

A worker that timed out is killed (Lambda replaces the execution environment after a
timeout); one whose process ended answers the invocation in flight with the platform's
Runtime.ExitError (its pool then stops using it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cove.functions.runtime import faults, protocol
from cove.functions.runtime.launch import WorkerLaunch
from cove.functions.runtime.output import Output

log = logging.getLogger(__name__)

# Lambda's Init phase may take 10 s (Lambda Developer Guide, "Understanding the Lambda
# execution environment lifecycle"). Lambda then retries the init within the first
# invocation, under the function's timeout; Cove answers that invocation as timed out.
INIT_TIMEOUT = 10.0
# How long the output of a finished phase may trail its answer (both are pipes).
OUTPUT_GRACE = 2.0
READ_CHUNK = 1 << 16


class Outcome(Enum):
    OK = "ok"  # the handler returned
    FAILED = "failed"  # it raised, or the runtime could not run it (a fault)
    TIMED_OUT = "timed out"
    EXITED = "exited"  # the process ended


@dataclass(frozen=True)
class Init:
    duration_ms: float
    output: str
    fault: bytes | None = None  # the error document of an init that failed
    exit_reason: str | None = None  # the process ended before it was ready
    timed_out: bool = False

    @property
    def failed(self) -> bool:
        return self.fault is not None or self.exit_reason is not None or self.timed_out


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    payload: bytes
    output: str
    duration_ms: float
    max_memory_mb: int
    exit_reason: str = ""


class Worker:
    def __init__(self, worker_id: str, launch: WorkerLaunch) -> None:
        self.worker_id = worker_id
        self.launch = launch
        self.log_stream = launch.log_stream
        self.output = Output(protocol.marker(launch.nonce))
        self.last_used = time.monotonic()
        self.served = 0
        self.max_memory_mb = 0
        self.init: Init | None = None  # how its start went, told with its first invocation
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return not self._stopped and self._proc is not None and self._proc.returncode is None

    def fresh_until(self, now: float, needed_s: float) -> bool:
        """Whether the role's keys it holds outlast `needed_s` more seconds, with room."""
        expires = self.launch.credentials_expire
        return expires is None or now + needed_s < expires

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> Init:
        launch = self.launch
        started = time.time()
        self._proc = await asyncio.create_subprocess_exec(
            *launch.argv,
            env=launch.env,
            cwd=launch.cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, killed as a whole
            preexec_fn=launch.cgroup.join if launch.cgroup else None,
        )
        self._reader = asyncio.get_running_loop().create_task(self._read_output())
        try:
            frame = await asyncio.wait_for(self._frame(), INIT_TIMEOUT)
        except TimeoutError:
            await self.stop()
            return Init(INIT_TIMEOUT * 1000, self.output.take_partial(), timed_out=True)
        if frame is None:
            reason = await self._exit_reason()
            elapsed_ms = (time.time() - started) * 1000
            return Init(elapsed_ms, self.output.take_partial(), exit_reason=reason)
        header, body = frame
        self._note_memory(header)
        init_ms = max(0.0, (header["at"] - started) * 1000)
        output = await self.output.phase(OUTPUT_GRACE)
        return Init(init_ms, output, body if header.get("fault") else None)

    async def stop(self) -> None:
        """Kill the process and everything it started; remove its cgroup and files."""
        self._stopped = True
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        cgroup = self.launch.cgroup
        if cgroup is not None:
            await asyncio.to_thread(cgroup.remove)  # kills what is left inside, then rmdir
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 1.0)
        await asyncio.to_thread(shutil.rmtree, self.launch.run_dir, True)

    # -- one invocation ---------------------------------------------------------------
    async def invoke(
        self, request_id: str, event: bytes, invoked_arn: str, timeout_s: float
    ) -> Answer:
        assert self._proc is not None and self._proc.stdin is not None
        self.served += 1
        sent = time.time()
        header: dict[str, Any] = {
            "kind": protocol.EVENT,
            "request_id": request_id,
            "invoked_arn": invoked_arn,
            "deadline_ms": int((sent + timeout_s) * 1000),
        }
        try:
            try:
                self._proc.stdin.write(protocol.encode(header, event))
                await self._proc.stdin.drain()
                frame = await asyncio.wait_for(self._frame(), timeout_s)
            except (BrokenPipeError, ConnectionResetError):
                frame = None
        except TimeoutError:
            elapsed = time.time() - sent
            await self.stop()
            message = faults.timed_out_message(request_id, elapsed, time.time())
            return Answer(
                Outcome.TIMED_OUT,
                faults.platform_error(message),
                self.output.take_partial(),
                elapsed * 1000,
                self.max_memory_mb,
                message,
            )
        except asyncio.CancelledError:
            await asyncio.shield(self.stop())  # mid-invocation: its state is unknown
            raise
        finally:
            self.last_used = time.monotonic()
        if frame is None:
            elapsed = time.time() - sent
            reason = await self._exit_reason()
            message = faults.exited_message(request_id, reason)
            return Answer(
                Outcome.EXITED,
                faults.platform_error(message, faults.EXIT_ERROR),
                self.output.take_partial(),
                elapsed * 1000,
                self.max_memory_mb,
                reason,
            )
        header, body = frame
        self._note_memory(header)
        output = await self.output.phase(OUTPUT_GRACE)
        outcome = Outcome.OK if header["ok"] else Outcome.FAILED
        return Answer(outcome, body, output, header["duration_ms"], self.max_memory_mb)

    # -- plumbing -----------------------------------------------------------------------
    async def _frame(self) -> tuple[dict[str, Any], bytes] | None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        try:
            line = await stdout.readline()
            if not line:
                return None
            header = protocol_header(line)
            body = await stdout.readexactly(header["size"]) if header["size"] else b""
        except (asyncio.IncompleteReadError, ValueError):
            return None
        return header, body

    async def _read_output(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        while chunk := await self._proc.stderr.read(READ_CHUNK):
            self.output.feed(chunk)

    async def _exit_reason(self) -> str:
        assert self._proc is not None
        try:
            code = await asyncio.wait_for(self._proc.wait(), OUTPUT_GRACE)
        except TimeoutError:
            await self.stop()
            return "Runtime exited without providing a reason"
        await self.stop()
        return faults.exit_reason(_sandboxed_status(code))

    def _note_memory(self, header: dict[str, Any]) -> None:
        self.max_memory_mb = max(self.max_memory_mb, math.ceil(header.get("rss_kb", 0) / 1024))


def protocol_header(line: bytes) -> dict[str, Any]:
    import json

    header = json.loads(line)
    if not isinstance(header, dict) or not isinstance(header.get("size"), int):
        raise ValueError("not a frame header")
    return header


def _sandboxed_status(code: int) -> int:
    """bubblewrap exits with its child's status; a child killed by a signal shows as
    128 + the signal, which Lambda's platform reports as the signal."""
    if 128 < code < 128 + 65:
        return -(code - 128)
    return code
