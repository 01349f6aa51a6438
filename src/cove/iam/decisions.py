"""A bounded cache of decisions, invalidated by a generation number.

A decision is a function of the request and of the policies in force. Within one
generation the policies for a given request do not change (the caller bumps the
generation on any policy, access key or group-membership change), so the cache key is
the request alone: principal, action, resource, resource account and the context without
its volatile keys (aws:CurrentTime and the like). A decision that read a volatile key is
not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property

from cove.iam.context import VOLATILE_KEYS
from cove.iam.documents import Policy
from cove.iam.evaluation import Decision, evaluate
from cove.iam.request import Request


@dataclass(frozen=True)
class PolicySet:
    """Every policy that bears on one request, as `evaluate` takes them."""

    identity: Sequence[Policy] = ()
    resource: Sequence[Policy] = ()
    trust: Policy | None = None
    session: Sequence[Policy] | None = None
    endpoint: Sequence[Policy] | None = None
    boundary: Policy | None = None

    def evaluate(self, request: Request) -> Decision:
        return evaluate(
            request,
            self.identity,
            resource_policies=self.resource,
            trust_policy=self.trust,
            session_policies=self.session,
            endpoint_policies=self.endpoint,
            permission_boundary=self.boundary,
        )

    @cached_property
    def volatile(self) -> bool:
        """Whether any policy reads a key whose value changes on its own."""
        return any(policy.referenced_keys & VOLATILE_KEYS for policy in self._all())

    def _all(self) -> list[Policy]:
        singles = [p for p in (self.trust, self.boundary) if p is not None]
        return [
            *self.identity,
            *self.resource,
            *(self.session or ()),
            *(self.endpoint or ()),
            *singles,
        ]


def request_key(request: Request) -> Hashable:
    return (
        request.principal,
        request.action.lower(),  # actions are case-insensitive
        request.resource,
        request.resource_account,
        request.context.fingerprint(),
    )


class DecisionCache:
    """At most `maxsize` decisions, least recently used dropped first; thread-safe."""

    def __init__(self, maxsize: int = 10_000) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, Decision] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def generation(self) -> int:
        return self._generation

    def invalidate(self) -> int:
        """Forget every decision (a policy, key or membership changed); the new generation."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
            return self._generation

    def __len__(self) -> int:
        return len(self._entries)

    def decide(
        self,
        request: Request,
        load: Callable[[Request], PolicySet],
        *,
        generation: int | None = None,
    ) -> Decision:
        """The cached decision for `request`, or `load`'s policies evaluated and kept.

        A caller that keeps its own change counter passes it as `generation`: a number
        other than the cache's empties the cache first.
        """
        key = request_key(request)
        with self._lock:
            if generation is not None and generation != self._generation:
                self._generation = generation
                self._entries.clear()
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return cached
            self.misses += 1
            started = self._generation
        policies = load(request)
        decision = policies.evaluate(request)
        if not policies.volatile:
            with self._lock:
                if self._generation == started:  # nothing changed while we evaluated
                    self._entries[key] = decision
                    if len(self._entries) > self.maxsize:
                        self._entries.popitem(last=False)
        return decision
