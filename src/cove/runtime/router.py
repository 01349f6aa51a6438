"""Routing decisions: a variant by traffic weight, then the least-loaded healthy instance,
in the AZ of the VPC endpoint ENI a request came through when the variant has a healthy
instance there (AZ-local routing; a request on the public listener may go to any AZ).

Kept free of I/O so the policy is easy to test.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from typing import Protocol


class Routable(Protocol):
    healthy: bool
    outstanding: int
    az: str | None


class WeightTable:
    """Variant names with their weights; `pick()` draws one in proportion to weight."""

    def __init__(self, weights: dict[str, float], rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self.weights: dict[str, float] = {}
        self._names: list[str] = []
        self._cumulative: list[float] = []
        for name, weight in weights.items():
            self.set(name, weight)

    def set(self, name: str, weight: float) -> None:
        self.weights[name] = max(0.0, float(weight))
        self._names = [n for n, w in self.weights.items() if w > 0]
        self._cumulative = list(itertools.accumulate(self.weights[n] for n in self._names))

    def pick(self) -> str | None:
        """A variant drawn by weight; None when no variant has a weight above zero."""
        if not self._names:
            return None
        if len(self._names) == 1:
            return self._names[0]
        x = self._rng.random() * self._cumulative[-1]
        return self._names[bisect.bisect_right(self._cumulative, x)]


class LeastOutstanding:
    """Picks the healthy instance with the fewest requests in flight, among those in
    `az` when any of them is healthy (another AZ only when none is); ties rotate."""

    def __init__(self) -> None:
        self._turn = 0

    def pick(self, instances: Sequence[Routable], az: str | None = None) -> Routable | None:
        n = len(instances)
        self._turn += 1
        best: Routable | None = None
        best_key: tuple[int, int] | None = None
        for k in range(n):
            inst = instances[(self._turn + k) % n]
            if not inst.healthy:
                continue
            key = (0 if az is None or inst.az == az else 1, inst.outstanding)
            if best_key is None or key < best_key:
                best, best_key = inst, key
        return best
