"""Routing policy: weighted variants, least-outstanding healthy instances."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from cove.runtime.router import LeastOutstanding, WeightTable


def test_weights_split_traffic_in_proportion() -> None:
    table = WeightTable({"A": 3.0, "B": 1.0}, random.Random(7))
    counts = Counter(table.pick() for _ in range(20000))
    assert 0.72 < counts["A"] / 20000 < 0.78


def test_zero_weight_variants_get_no_traffic() -> None:
    table = WeightTable({"A": 1.0, "B": 0.0})
    assert {table.pick() for _ in range(200)} == {"A"}
    table.set("A", 0)
    assert table.pick() is None
    table.set("B", 2)
    assert table.pick() == "B"


@dataclass
class Inst:
    name: str
    healthy: bool = True
    outstanding: int = 0
    az: str | None = None


def test_least_outstanding_among_healthy() -> None:
    a, b, c = Inst("a", outstanding=2), Inst("b", outstanding=1), Inst("c", healthy=False)
    lb = LeastOutstanding()
    assert {lb.pick([a, b, c]).name for _ in range(10)} == {"b"}
    b.healthy = False
    assert lb.pick([a, b, c]) is a
    a.healthy = False
    assert lb.pick([a, b, c]) is None


def test_ties_rotate_and_az_is_preferred() -> None:
    insts = [Inst("a", az="x"), Inst("b", az="y")]
    lb = LeastOutstanding()
    assert {lb.pick(insts).name for _ in range(4)} == {"a", "b"}
    assert {lb.pick(insts, az="y").name for _ in range(4)} == {"b"}
