"""Invocation metrics like SageMaker's CloudWatch ones, kept in memory and rendered in
the Prometheus text format.

Per endpoint and variant: Invocations, Invocation4XXErrors, Invocation5XXErrors,
ModelLatency and OverheadLatency (microseconds, as SageMaker reports them). Per
instance, labelled with its `instance_id` and `availability_zone` too: the calls it
answered, and the CPU seconds and resident memory of its process tree, read from /proc
when scraped. (Not `instance`: Prometheus gives every scraped series an `instance` label
of its own, the target's address, and renames a clashing one to `exported_instance`.)
Recording is a few attribute updates, so the hot path pays next to nothing for it.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cove.host.proc_tree import tree

# Histogram bucket upper bounds in microseconds: 50 us .. 60 s.
BUCKETS_US = (
    50,
    100,
    200,
    300,
    500,
    750,
    1_000,
    2_000,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    5_000_000,
    60_000_000,
)
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class LatencyHistogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_US) + 1))
    total_us: float = 0.0
    n: int = 0

    def observe(self, micros: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS_US, micros)] += 1
        self.total_us += micros
        self.n += 1


@dataclass
class VariantMetrics:
    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    model_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    overhead_latency: LatencyHistogram = field(default_factory=LatencyHistogram)

    def record(self, model_us: float, overhead_us: float) -> None:
        self.invocations += 1
        self.model_latency.observe(model_us)
        self.overhead_latency.observe(overhead_us)

    def record_error(self, status: int) -> None:
        self.invocations += 1
        if 400 <= status < 500:
            self.errors_4xx += 1
        else:
            self.errors_5xx += 1


@dataclass(frozen=True)
class InstanceSample:
    endpoint: str
    variant: str
    instance: str
    az: str
    pid: int | None
    served: int = 0  # calls it answered


class Metrics:
    """All metrics of one server."""

    def __init__(self) -> None:
        self._variants: dict[tuple[str, str], VariantMetrics] = {}

    def variant(self, endpoint: str, variant: str) -> VariantMetrics:
        key = (endpoint, variant)
        found = self._variants.get(key)
        if found is None:
            found = self._variants[key] = VariantMetrics()
        return found

    def forget(self, endpoint: str) -> None:
        for key in [k for k in self._variants if k[0] == endpoint]:
            del self._variants[key]

    def render(self, instances: Iterable[InstanceSample]) -> str:
        out: list[str] = []
        counters = (
            ("cove_invocations_total", "Invocations", "invocations"),
            ("cove_invocation_4xx_errors_total", "Invocation4XXErrors", "errors_4xx"),
            ("cove_invocation_5xx_errors_total", "Invocation5XXErrors", "errors_5xx"),
        )
        for name, sm_name, attr in counters:
            out.append(f"# HELP {name} SageMaker {sm_name} per endpoint and variant.")
            out.append(f"# TYPE {name} counter")
            for (endpoint, variant), m in sorted(self._variants.items()):
                out.append(f"{name}{_labels(endpoint, variant)} {getattr(m, attr)}")
        for name, sm_name, attr in (
            ("cove_model_latency_microseconds", "ModelLatency", "model_latency"),
            ("cove_overhead_latency_microseconds", "OverheadLatency", "overhead_latency"),
        ):
            out.append(f"# HELP {name} SageMaker {sm_name} in microseconds.")
            out.append(f"# TYPE {name} histogram")
            for (endpoint, variant), m in sorted(self._variants.items()):
                _histogram(out, name, _labels(endpoint, variant), getattr(m, attr))
        _instance_lines(out, list(instances))
        return "\n".join(out) + "\n"


def _labels(endpoint: str, variant: str, instance: InstanceSample | None = None) -> str:
    pairs = [("endpoint", endpoint), ("variant", variant)]
    if instance is not None:
        pairs += [("instance_id", instance.instance), ("availability_zone", instance.az)]
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _histogram(out: list[str], name: str, labels: str, hist: LatencyHistogram) -> None:
    running = 0
    base = labels[:-1] + ","
    for bound, count in zip(BUCKETS_US, hist.counts, strict=False):
        running += count
        out.append(f'{name}_bucket{base}le="{bound}"}} {running}')
    out.append(f'{name}_bucket{base}le="+Inf"}} {hist.n}')
    out.append(f"{name}_sum{labels} {hist.total_us:.0f}")
    out.append(f"{name}_count{labels} {hist.n}")


def _instance_lines(out: list[str], instances: list[InstanceSample]) -> None:
    served_name = "cove_instance_invocations_total"
    cpu_name, mem_name = "cove_instance_cpu_seconds_total", "cove_instance_memory_bytes"
    served_lines, cpu_lines, mem_lines = [], [], []
    for inst in instances:
        labels = _labels(inst.endpoint, inst.variant, inst)
        served_lines.append(f"{served_name}{labels} {inst.served}")
        usage = _proc_usage(inst.pid)
        if usage is None:
            continue
        cpu_lines.append(f"{cpu_name}{labels} {usage[0]:.2f}")
        mem_lines.append(f"{mem_name}{labels} {usage[1]}")
    out.append(f"# HELP {served_name} Calls the instance answered, per instance and AZ.")
    out.append(f"# TYPE {served_name} counter")
    out.extend(served_lines)
    out.append(f"# HELP {cpu_name} CPU time used by the instance's process (CPUUtilization).")
    out.append(f"# TYPE {cpu_name} counter")
    out.extend(cpu_lines)
    out.append(f"# HELP {mem_name} Resident memory of the instance's process (MemoryUtilization).")
    out.append(f"# TYPE {mem_name} gauge")
    out.extend(mem_lines)


def _proc_usage(pid: int | None) -> tuple[float, int] | None:
    """(CPU seconds, resident bytes) of a live process and its descendants, or None."""
    if pid is None or not Path(f"/proc/{pid}").exists():
        return None
    cpu, rss = 0.0, 0
    for member in tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
            statm = Path(f"/proc/{member}/statm").read_text()
        except OSError:
            continue  # exited meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        cpu += (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime
        rss += int(statm.split()[1]) * _PAGE
    return cpu, rss
