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


def test_a_call_from_an_az_stays_there_while_a_healthy_instance_is_there() -> None:
    a1, a2 = Inst("a1", az="x", outstanding=5), Inst("a2", az="x", outstanding=3)
    b = Inst("b", az="y")  # idle, but in another AZ
    lb = LeastOutstanding()
    # the least outstanding among the AZ's own, however busy next to the other AZ's
    assert {lb.pick([a1, a2, b], az="x").name for _ in range(6)} == {"a2"}
    a2.healthy = False
    assert {lb.pick([a1, a2, b], az="x").name for _ in range(6)} == {"a1"}
    a1.healthy = False  # none healthy in x: another AZ serves
    assert lb.pick([a1, a2, b], az="x") is b
    b.healthy = False
    assert lb.pick([a1, a2, b], az="x") is None


def test_the_public_path_and_an_az_without_instances_go_to_any_az() -> None:
    insts = [Inst("a", az="x", outstanding=1), Inst("b", az="y"), Inst("c", az="z", outstanding=1)]
    lb = LeastOutstanding()
    assert {lb.pick(insts).name for _ in range(6)} == {"b"}  # no AZ: least outstanding
    assert {lb.pick(insts, az="w").name for _ in range(6)} == {"b"}
    insts[1].outstanding = 1
    assert {lb.pick(insts).name for _ in range(6)} == {"a", "b", "c"}  # ties rotate
