"""The gateway's path to one instance of a Cove serving stack, with adaptive batching.

A Cove stack answers one request at a time, so the lane keeps one keep-alive connection
and at most one exchange in flight on it; calls that arrive meanwhile wait in the lane,
where they can still be batched. A lone call goes out as the plain container-contract
request the moment it arrives, and its answer is handed on from the response parser's
callback: no task, no future, no extra turn of the event loop.

Batching is enabled per model through its Environment, like the batching knobs of
TorchServe, Triton and MLServer:
  COVE_MAX_BATCH_SIZE       most calls in one batch (default 1: no batching)
  COVE_MAX_BATCH_DELAY_MS   how long a batch may wait for more calls to join it, under
                            load only: after a batch of one (a lone client) nobody waits
                            (default 0: never wait; batches form only from calls that
                            queued meanwhile)
A batch of more than one travels as one `POST /invocations` in the format of
`serving/batch.py`; the instance answers each call as it would have answered it alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from cove.instance.serving.batch import BATCH_HEADER, decode_outcomes, encode_items
from cove.instance.serving.context import CUSTOM_ATTRIBUTES
from cove.runtime.client import Connector, HttpConnection, HttpResponse, NotSent
from cove.runtime.invocation import Done, Invocation, Moved, QueueTimeout

log = logging.getLogger(__name__)

SIZE_ENV = "COVE_MAX_BATCH_SIZE"
DELAY_ENV = "COVE_MAX_BATCH_DELAY_MS"
MAX_SIZE_LIMIT = 1024


@dataclass(frozen=True)
class BatchPolicy:
    max_size: int = 1
    max_delay: float = 0.0  # seconds

    @property
    def enabled(self) -> bool:
        return self.max_size > 1


def policy_from(environment: dict[str, str]) -> BatchPolicy:
    """Read the knobs; raise ValueError with a message a person can act on."""
    try:
        size = int(environment.get(SIZE_ENV, "1"))
        delay_ms = float(environment.get(DELAY_ENV, "0"))
    except ValueError:
        raise ValueError(
            f"{SIZE_ENV} must be an integer and {DELAY_ENV} a number of milliseconds"
        ) from None
    if not 1 <= size <= MAX_SIZE_LIMIT:
        raise ValueError(f"{SIZE_ENV} must be between 1 and {MAX_SIZE_LIMIT}, not {size}")
    if not 0 <= delay_ms <= 1000:
        raise ValueError(f"{DELAY_ENV} must be between 0 and 1000 ms, not {delay_ms:g}")
    return BatchPolicy(size, delay_ms / 1000)


@dataclass(slots=True)
class _Pending:
    invocation: Invocation
    done: Done
    queued_at: float


class Lane:
    """Calls to one instance: one exchange in flight, the rest queued (and batched)."""

    def __init__(
        self,
        connect: Connector,
        policy: BatchPolicy,
        timeout: float,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        """`on_idle` is called when an answer leaves the lane with nothing to do, so
        that calls queued behind a busy (or hung) sibling can move here."""
        self.connect = connect
        self.on_idle = on_idle
        self.policy = policy
        self.timeout = timeout
        self._loop = asyncio.get_running_loop()
        self._conn: HttpConnection | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._queue: deque[_Pending] = deque()
        self._in_flight: list[_Pending] = []
        self._sent_at = 0.0
        self._last_size = 0  # size of the exchange sent last: is there company to wait for?
        self._delay: asyncio.TimerHandle | None = None  # a batch waiting for company
        self._waited = False  # the next batch has had its wait for company
        self._watchdog: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def load(self) -> int:
        """Calls queued or in flight."""
        return len(self._queue) + len(self._in_flight)

    @property
    def queued(self) -> int:
        """Calls waiting, not sent yet."""
        return len(self._queue)

    def give_up_queued(self, count: int, zone: str | None = None) -> None:
        """Hand back the `count` oldest waiting calls (they get `Moved`); with `zone`,
        only calls that may be served there (from that AZ, or from any), so that a call
        bound to this instance's AZ keeps its place instead of coming back to the end."""
        if zone is None:
            moving = [self._queue.popleft() for _ in range(min(count, len(self._queue)))]
        else:
            moving, staying = [], deque[_Pending]()
            for call in self._queue:
                if len(moving) < count and call.invocation.az in (None, zone):
                    moving.append(call)
                else:
                    staying.append(call)
            self._queue = staying
        for call in moving:
            _settle(call, Moved("moved to an idle instance"))

    # -- calls ------------------------------------------------------------------------
    def submit(self, invocation: Invocation, done: Done) -> None:
        """Send (or queue) one call; `done` gets the instance's answer to it alone."""
        if self._closed:
            done(NotSent("the instance stopped"))
            return
        self._queue.append(_Pending(invocation, done, self._loop.time()))
        if self._watchdog is None:
            self._watchdog = self._loop.call_later(self.timeout, self._watch)
        if self._delay is not None and len(self._queue) >= self.policy.max_size:
            self._delay.cancel()
            self._delay = None
            self._waited = True
        self._pump()

    async def open(self) -> None:
        """Connect ahead of the first call (it would otherwise wait for the connection)."""
        self._reconnect()
        if self._connecting is not None:
            await asyncio.shield(self._connecting)

    def close(self) -> None:
        """Fail what is in flight with ConnectionError and what is queued with NotSent;
        the lane is done."""
        self._closed = True
        for handle in (self._delay, self._watchdog):
            if handle is not None:
                handle.cancel()
        if self._connecting is not None:
            self._connecting.cancel()
        if self._conn is not None:
            self._conn.close()  # fails the exchange in flight through its callback
        self._fail_queued(NotSent("the instance stopped"))

    # -- sending ----------------------------------------------------------------------
    def _pump(self) -> None:
        """Send the next exchange if the connection is free and calls are waiting."""
        if self._in_flight or not self._queue or self._delay is not None or self._closed:
            return
        conn = self._conn
        if conn is None or not conn.idle:
            self._reconnect()
            return
        policy = self.policy
        under_load = self._last_size > 1
        if (
            under_load
            and policy.max_delay
            and len(self._queue) < policy.max_size
            and not self._waited
        ):
            self._delay = self._loop.call_later(policy.max_delay, self._delay_over)
            return
        self._waited = False
        batch = [self._queue.popleft() for _ in range(min(len(self._queue), policy.max_size))]
        self._in_flight = batch
        self._last_size = len(batch)
        self._sent_at = self._loop.time()
        if len(batch) == 1:
            inv = batch[0].invocation
            conn.send("POST", "/invocations", inv.headers(), inv.body, self._answered_one)
        else:
            body = encode_items([c.invocation.batch_item() for c in batch])
            marker = [(BATCH_HEADER, str(len(batch)))]
            conn.send("POST", "/invocations", marker, body, self._answered_batch)

    def _delay_over(self) -> None:
        self._delay = None
        self._waited = True
        self._pump()

    def _reconnect(self) -> None:
        if self._connecting is None:
            self._connecting = self._loop.create_task(self._open())

    async def _open(self) -> None:
        try:
            self._conn = await self.connect()
        except OSError as exc:
            self._fail_queued(NotSent(f"could not connect to the instance: {exc}"))
        finally:
            self._connecting = None
        self._pump()

    # -- answers ----------------------------------------------------------------------
    def _answered_one(self, outcome: HttpResponse | Exception) -> None:
        for call in self._take_in_flight():
            _settle(call, outcome)
        self._next()

    def _answered_batch(self, outcome: HttpResponse | Exception) -> None:
        batch = self._take_in_flight()
        try:
            if isinstance(outcome, Exception):
                raise outcome
            if outcome.status != 200:
                raise ConnectionError(f"the instance answered a batch with {outcome.status}")
            outcomes = decode_outcomes(outcome.body)
            if len(outcomes) != len(batch):
                raise ConnectionError("the instance answered a batch with the wrong count")
        except Exception as exc:  # a malformed batch answer must still settle every call
            error = exc if isinstance(exc, OSError) else ConnectionError(f"bad batch answer: {exc}")
            for call in batch:
                _settle(call, error)
        else:
            for call, out in zip(batch, outcomes, strict=True):
                headers = {"content-type": out.content_type}
                if out.custom_attributes is not None:
                    headers[CUSTOM_ATTRIBUTES.lower()] = out.custom_attributes
                _settle(call, HttpResponse(out.status, headers, out.body))
        self._next()

    def _next(self) -> None:
        """After an answer: the next exchange, or tell the owner the lane is idle."""
        self._pump()
        if not self._queue and not self._in_flight and self.on_idle is not None:
            self.on_idle()

    def _take_in_flight(self) -> list[_Pending]:
        batch, self._in_flight = self._in_flight, []
        return batch

    # -- time limits ------------------------------------------------------------------
    def _watch(self) -> None:
        """Enforce the model timeout on the exchange in flight (TimeoutError, and the
        connection is closed) and on calls queued that long (QueueTimeout). One timer
        per lane, re-armed for the oldest deadline, instead of one per call."""
        self._watchdog = None
        now = self._loop.time()
        if self._in_flight and now - self._sent_at >= self.timeout and self._conn is not None:
            self._conn.abort(TimeoutError())  # its callback fails the calls in flight
        while self._queue and now - self._queue[0].queued_at >= self.timeout:
            _settle(self._queue.popleft(), QueueTimeout())
        starts = [self._sent_at] if self._in_flight else []
        if self._queue:
            starts.append(self._queue[0].queued_at)
        if starts and not self._closed:
            self._watchdog = self._loop.call_at(min(starts) + self.timeout, self._watch)

    def _fail_queued(self, exc: Exception) -> None:
        while self._queue:
            _settle(self._queue.popleft(), exc)


def _settle(call: _Pending, outcome: HttpResponse | Exception) -> None:
    try:
        call.done(outcome)
    except Exception:  # a bug in the caller's callback must not stall the lane
        log.exception("invocation callback failed")
