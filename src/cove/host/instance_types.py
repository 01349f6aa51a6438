"""The catalog of `ml.*` hosting instance types (data file `cove/data/instance_types.json`)
and the local resource profile an instance of each type gets."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from importlib import resources


class UnknownInstanceType(ValueError):
    pass


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_gib: float
    price_per_hour: float  # USD, on-demand real-time inference in us-east-1
    accelerators: int = 0
    accelerator: str | None = None

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gib * 1024**3)


@functools.cache
def catalog() -> dict[str, InstanceType]:
    text = resources.files("cove").joinpath("data/instance_types.json").read_text()
    return {row["name"]: InstanceType(**row) for row in json.loads(text)["instance_types"]}


def lookup(name: str) -> InstanceType:
    try:
        return catalog()[name]
    except KeyError:
        raise UnknownInstanceType(
            f"Instance type {name} is not in Cove's instance catalog "
            f"(known types: {', '.join(sorted(catalog()))})."
        ) from None


@dataclass(frozen=True)
class Profile:
    """What an instance gets on this host: the CPUs it may run on and its memory limit."""

    cpus: tuple[int, ...]
    memory_bytes: int

    def thread_env(self) -> dict[str, str]:
        """Thread-pool sizes for the numeric libraries, so they match the CPU share."""
        n = str(len(self.cpus))
        names = (
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS",
            "NUMEXPR_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS",
        )
        return dict.fromkeys(names, n)


def host_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def profile_for(itype: InstanceType, slot: int) -> Profile:
    """vCPUs capped at the host's cores; instances rotate their starting core by `slot`
    so that several small instances spread over the host instead of piling on core 0."""
    cpus = host_cpus()
    count = max(1, min(itype.vcpus, len(cpus)))
    start = (slot * count) % len(cpus)
    chosen = tuple(sorted(cpus[(start + i) % len(cpus)] for i in range(count)))
    return Profile(chosen, itype.memory_bytes)
