"""`SandboxedRuntime`, Cove's FunctionRuntime: function versions run in warm sandboxed
workers (pool.py), one invocation at a time each; an invocation's answer and its log
(Lambda's START/END/REPORT lines around the handler's output) are built here, and the
log also goes to the LogSink, group `/aws/lambda/<name>`, one stream per worker.

Credentials: each worker gets a role session of the function's execution role as
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, set directly as Lambda sets
them (`RoleSessions.session`, which CredentialVending provides); a worker is replaced
before its keys expire (see `pool.CREDENTIALS_MARGIN`). A role that does not exist gives
a worker without keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import time
from pathlib import Path
from typing import Protocol

from cove.config import Settings
from cove.functions.contracts import FunctionNetworks, FunctionSpec, LogSink, RawResult
from cove.functions.runtime import faults, logs
from cove.functions.runtime.launch import prepare
from cove.functions.runtime.pool import QUEUE_SECONDS, Pool, PoolClosed
from cove.functions.runtime.worker import Answer, Init, Outcome, Worker
from cove.host.confinement import Confinement
from cove.identity.sessions import Session

log = logging.getLogger(__name__)

UNHANDLED = "Unhandled"
RUN_DIR = "functions/workers"  # in the data dir: each worker's environment file


class RoleSessions(Protocol):
    def session(self, role_arn: str, session_name: str) -> Session | None: ...


class SandboxedRuntime:
    def __init__(
        self,
        confinement: Confinement,
        sessions: RoleSessions,
        sink: LogSink,
        run_root: Path,
        endpoint_url: str,
        region: str,
        concurrency: int = 8,
        idle_timeout: float = 300.0,
        queue_seconds: float = QUEUE_SECONDS,
        networks: FunctionNetworks | None = None,
    ) -> None:
        self.confinement = confinement
        self.networks = networks  # VpcConfig: where the workers of a function in a VPC run
        self.sessions = sessions
        self.sink = sink
        self.run_root = run_root
        self.endpoint_url = endpoint_url
        self.region = region
        self.concurrency = concurrency
        self.idle_timeout = idle_timeout
        self.queue_seconds = queue_seconds
        self._pools: dict[tuple[str, str], Pool] = {}
        self._code: dict[tuple[Path, str], asyncio.Task[None]] = {}
        self._reaper: asyncio.Task[None] | None = None
        shutil.rmtree(run_root, ignore_errors=True)  # a previous server's, keys included

    @classmethod
    def from_settings(
        cls, settings: Settings, confinement: Confinement, sessions: RoleSessions, sink: LogSink,
        networks: FunctionNetworks | None = None,
    ) -> SandboxedRuntime:  # fmt: skip
        return cls(
            confinement,
            sessions,
            sink,
            settings.data_dir / RUN_DIR,
            settings.public_url,
            settings.region,
            settings.function_concurrency,
            settings.function_idle_timeout,
            networks=networks,
        )

    def workers(self, function_arn: str) -> list[Worker]:
        return [
            w
            for (arn, _), pool in self._pools.items()
            if arn == function_arn
            for w in pool.workers()
        ]

    # -- FunctionRuntime ------------------------------------------------------------------
    async def invoke(self, spec: FunctionSpec, event: bytes, request_id: str) -> RawResult:
        """Run one invocation. A caller that goes away (its client hung up) does not stop
        it: as in Lambda, the invocation runs to its end and its worker stays warm (a
        cancelled invocation would leave the worker in an unknown state, to be killed)."""
        task = asyncio.ensure_future(self._invoke(spec, event, request_id))
        task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def _invoke(self, spec: FunctionSpec, event: bytes, request_id: str) -> RawResult:
        self._start_reaper()
        while True:
            pool = self._pool_for(spec)
            try:
                worker = await pool.acquire()
                break
            except PoolClosed:
                continue
        try:
            return await self._run(worker, spec, event, request_id)
        finally:
            pool.release(worker)

    async def retire(self, function_arn: str) -> None:
        for key in [k for k in self._pools if k[0] == function_arn]:
            await self._pools.pop(key).close()
        if self.networks is not None:
            await self.networks.detach(function_arn)

    async def shutdown(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        pools, self._pools = list(self._pools.values()), {}
        await asyncio.gather(*(p.close(busy_too=True) for p in pools))
        await asyncio.to_thread(shutil.rmtree, self.run_root, True)

    # -- pools and workers ----------------------------------------------------------------
    def _pool_for(self, spec: FunctionSpec) -> Pool:
        key = (spec.function_arn, spec.version)
        pool = self._pools.get(key)
        if pool is not None and pool.spec == spec and not pool.closed:
            return pool
        if pool is not None:  # new code or configuration: new workers
            self._background(pool.close())
        pool = Pool(spec, lambda: self._start_worker(spec), self.concurrency, self.queue_seconds)
        self._pools[key] = pool
        return pool

    async def _start_worker(self, spec: FunctionSpec) -> Worker:
        await self._code_given(spec)
        worker_id = secrets.token_hex(6)
        session = await asyncio.to_thread(self._session, spec)
        network = None
        if spec.vpc is not None:
            if self.networks is None:
                raise RuntimeError(f"function {spec.name} has a VpcConfig, and Cove no VPCs")
            network = await self.networks.attach(spec)
        launch = await asyncio.to_thread(
            prepare,
            spec,
            worker_id,
            self.confinement,
            session,
            self.run_root / worker_id,
            self.endpoint_url,
            self.region,
            network,
        )
        worker = Worker(worker_id, launch)
        try:
            worker.init = await worker.start()
        except BaseException:
            await asyncio.shield(worker.stop())
            raise
        return worker

    async def _code_given(self, spec: FunctionSpec) -> None:
        """The sandbox user may read the code (once per package)."""
        key = (spec.code_dir, spec.code_sha256)
        task = self._code.get(key)
        if task is None or (task.done() and task.exception() is not None):
            give = self.confinement.sandbox.give
            task = asyncio.get_running_loop().create_task(asyncio.to_thread(give, spec.code_dir))
            self._code[key] = task
        await asyncio.shield(task)

    def _session(self, spec: FunctionSpec) -> Session | None:
        if not spec.role_arn:
            return None
        session = self.sessions.session(spec.role_arn, spec.name)
        if session is None:
            log.warning(
                "function %s: its role %s does not exist; no credentials", spec.name, spec.role_arn
            )
        return session

    def _start_reaper(self) -> None:
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap())

    async def _reap(self) -> None:
        interval = min(max(self.idle_timeout / 4, 0.05), 5.0)
        while True:
            await asyncio.sleep(interval)
            for key, pool in list(self._pools.items()):
                pool.retire_idle(self.idle_timeout)
                if pool.closed and pool.size == 0:
                    self._pools.pop(key, None)

    def _background(self, work: object) -> None:
        task = asyncio.ensure_future(work)  # type: ignore[arg-type]
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    # -- one invocation ---------------------------------------------------------------------
    async def _run(
        self, worker: Worker, spec: FunctionSpec, event: bytes, request_id: str
    ) -> RawResult:
        init: Init | None = worker.init if worker.served == 0 else None
        started = time.time()
        if init is not None and init.failed:
            worker.served += 1
            await worker.stop()
            answer = self._init_failure(init, request_id, spec)
        else:
            arn = (
                spec.function_arn
                if spec.version == "$LATEST"
                else (f"{spec.function_arn}:{spec.version}")
            )
            answer = await worker.invoke(request_id, event, arn, spec.timeout_s)
        text = self._log(spec, request_id, init, answer, worker, started)
        error = None if answer.outcome is Outcome.OK else UNHANDLED
        return RawResult(answer.payload, error, text, request_id)

    def _init_failure(self, init: Init, request_id: str, spec: FunctionSpec) -> Answer:
        if init.timed_out:
            message = faults.timed_out_message(request_id, init.duration_ms / 1000, time.time())
            return Answer(Outcome.TIMED_OUT, faults.platform_error(message), "", 0.0, 0, message)
        if init.exit_reason is not None:
            message = faults.exited_message(request_id, init.exit_reason)
            payload = faults.platform_error(message, faults.EXIT_ERROR)
            return Answer(Outcome.EXITED, payload, "", 0.0, 0, init.exit_reason)
        assert init.fault is not None
        return Answer(Outcome.FAILED, init.fault, "", 0.0, 0)

    def _log(
        self,
        spec: FunctionSpec,
        request_id: str,
        init: Init | None,
        answer: Answer,
        worker: Worker,
        started: float,
    ) -> str:
        body = answer.output
        if answer.outcome is Outcome.EXITED:
            body += faults.exited_message(request_id, answer.exit_reason) + "\n"
            body += faults.EXIT_ERROR + "\n"
        report = logs.Report(
            request_id,
            answer.duration_ms,
            spec.memory_mb,
            max(answer.max_memory_mb, worker.max_memory_mb),
            init.duration_ms if init is not None else None,
        )
        tail = report.line()
        if answer.outcome is Outcome.TIMED_OUT:
            tail += answer.exit_reason + "\n"
        start = logs.start_line(request_id, spec.version)
        end = logs.end_line(request_id)
        now_ms = int(time.time() * 1000)
        events: list[tuple[int, str]] = []
        if init is not None:
            events += logs.events(init.output, int(started * 1000 - init.duration_ms))
        events += logs.events(start, int(started * 1000))
        events += logs.events(body + end + tail, now_ms)
        try:
            self.sink.put(logs.log_group(spec.name), worker.log_stream, events)
        except Exception:
            log.exception("function %s: its log could not be written", spec.name)
        return (init.output if init is not None else "") + start + body + end + tail


def _retrieve(task: asyncio.Task[RawResult]) -> None:
    """Nobody awaits an invocation whose caller left: its outcome is read here so that
    asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()
