"""Medians, ratios to the floor and the best peer, the issue's targets, and RESULTS.md.

A peer with adaptive batching runs twice, without it and with it (`<peer>-batch`); each
peer counts with its better variant at each concurrency, so "best peer" is the best of
the peers each at its best, and the report says which variant that was.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.wrk import WrkResult


@dataclass
class Outcome:
    """Everything measured for one server over all rounds."""

    name: str
    role: str
    family: str = ""  # the server this is a variant of (a peer's batched variant: the peer)
    label: str = ""
    runs: dict[int, list[WrkResult]] = field(default_factory=dict)
    cold_s: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def median(self, conns: int, metric: Callable[[WrkResult], float]) -> float | None:
        runs = self.runs.get(conns)
        return statistics.median(metric(r) for r in runs) if runs else None

    def rps(self, conns: int) -> float | None:
        return self.median(conns, lambda r: r.rps)

    def p50_ms(self, conns: int) -> float | None:
        return self.median(conns, lambda r: r.p50_us / 1000)

    def p99_ms(self, conns: int) -> float | None:
        return self.median(conns, lambda r: r.p99_us / 1000)

    def other_cpu(self, conns: int) -> float | None:
        return self.median(conns, lambda r: r.extra.get("other_cpu_pct", 0.0))

    def server_cpu_us(self, conns: int) -> float | None:
        return self.median(conns, lambda r: r.extra.get("server_cpu_us", 0.0))

    def errors(self, conns: int) -> int:
        return sum(r.errors for r in self.runs.get(conns, []))


@dataclass(frozen=True)
class Goal:
    text: str
    value: float | None  # the measured ratio
    limit: float
    at_least: bool  # True: value >= limit passes; False: value <= limit passes
    unit: str = "x"  # a ratio, unless the goal is on a quantity (" s")

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "NOT MEASURED"
        ok = self.value >= self.limit if self.at_least else self.value <= self.limit
        return "PASS" if ok else "FAIL"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def ratio_of(a: Outcome | None, b: Outcome | None, metric: str, conns: int) -> float | None:
    """a's metric over b's at `conns`, when both ran."""
    if a is None or b is None:
        return None
    return _ratio(getattr(a, metric)(conns), getattr(b, metric)(conns))


def _by_role(outcomes: list[Outcome], role: str) -> list[Outcome]:
    # The relay ("reference") gets rows and ratios to the floor in the table, but is
    # neither the floor nor a peer nor in the targets: nothing below selects its role.
    return [o for o in outcomes if o.role == role]


def peers_at_best(outcomes: list[Outcome], conns: int) -> dict[str, Outcome]:
    """Each peer's variant with the most rps at `conns`, by peer (in the order they ran)."""
    best: dict[str, Outcome] = {}
    for o in _by_role(outcomes, "peer"):
        rps, held = o.rps(conns), best.get(o.family)
        if rps is not None and (held is None or rps > held.rps(conns)):
            best[o.family] = o
    return best


def best_peer(outcomes: list[Outcome], conns: int, but: str = "") -> Outcome | None:
    """The peer variant with the most rps at `conns`, leaving out the peer named `but`."""
    peers = [o for family, o in peers_at_best(outcomes, conns).items() if family != but]
    return max(peers, key=lambda o: o.rps(conns)) if peers else None


def variant(o: Outcome) -> str:
    """Which of its peer's variants an outcome is: "batched" or "unbatched"."""
    return "batched" if o.name != (o.family or o.name) else "unbatched"


def goals(outcomes: list[Outcome], lo: int, hi: int) -> list[Goal]:
    """The issue's targets for Cove, at the lowest (c=1) and highest (c=64) concurrency."""
    cove = next(iter(_by_role(outcomes, "cove")), None)
    user = next(iter(_by_role(outcomes, "cove-user")), None)
    vpce = next(iter(_by_role(outcomes, "cove-vpce")), None)
    vpc_tls = next(iter(_by_role(outcomes, "cove-vpc-tls")), None)
    front = next(iter(_by_role(outcomes, "cove-apigw")), None)
    az_private = next(iter(_by_role(outcomes, "cove-az-private")), None)
    az_public = next(iter(_by_role(outcomes, "cove-az-public")), None)
    floor = next(iter(_by_role(outcomes, "floor")), None)
    peer = best_peer(outcomes, hi)

    def ratio(metric: str, conns: int, base: Outcome | None) -> float | None:
        if cove is None or base is None:
            return None
        return _ratio(getattr(cove, metric)(conns), getattr(base, metric)(conns))

    best = f"{peer.name}, {variant(peer)}" if peer else "none"
    return [
        Goal(f"Cove rps at c={hi} >= 1.0x floor", ratio("rps", hi, floor), 1.0, True),
        Goal(f"Cove rps at c={hi} >= 5x best peer ({best})",
             ratio("rps", hi, peer), 5.0, True),
        Goal(f"Cove p50 at c={lo} <= 1.25x floor", ratio("p50_ms", lo, floor), 1.25, False),
        Goal(f"Cove p99 at c={hi} <= 2x floor", ratio("p99_ms", hi, floor), 2.0, False),
        # identity issue: a non-admin caller's policy check costs at most 10% of throughput
        Goal(f"Cove signed by an IAM user: rps at c={hi} >= 0.9x Cove signed by the admin",
             _ratio(user.rps(hi), cove.rps(hi)) if user and cove else None, 0.9, True),
        # private networking issue: from a host in a VPC, over TLS, PrivateLink costs at
        # most 10% of the public path's throughput and 1.2x its latency
        Goal(f"Through an interface endpoint: rps at c={hi} >= 0.91x the public path over "
             "TLS from the same VPC host",
             _ratio(vpce.rps(hi), vpc_tls.rps(hi)) if vpce and vpc_tls else None, 1 / 1.1,
             True),
        Goal(f"Through an interface endpoint: p50 at c={lo} <= 1.2x the public path over TLS",
             _ratio(vpce.p50_ms(lo), vpc_tls.p50_ms(lo)) if vpce and vpc_tls else None, 1.2,
             False),
        # functions issue: API Gateway -> Lambda -> InvokeEndpoint, warm, against the direct
        # call; and the function's cold start (its first answer after CreateFunction)
        Goal(f"Through API Gateway and Lambda, warm: p50 at c={lo} <= 3x direct InvokeEndpoint",
             ratio_of(front, cove, "p50_ms", lo), 3.0, False),
        # network issue II: with a 1 ms cross-AZ delay, private DNS keeps calls in the
        # caller's AZ; the public path pays the delay on the calls another AZ serves
        Goal(f"Cross-AZ delay 1 ms, 2 AZs: p50 at c={lo} through private DNS <= the public "
             "path's (saving in the Servers table's AZ shares)",
             _ratio(az_private.p50_ms(lo), az_public.p50_ms(lo))
             if az_private and az_public else None, 1.0, False),
        Goal("Function cold start (CreateFunction -> first answer through the API) < 0.5 s",
             statistics.median(front.cold_s) if front and front.cold_s else None, 0.5, False,
             " s"),
    ]


def hop_reference(outcomes: list[Outcome], lo: int) -> list[str]:
    """How much of Cove's c=1 latency above the floor the process hop alone explains."""
    cove = next(iter(_by_role(outcomes, "cove")), None)
    floor = next(iter(_by_role(outcomes, "floor")), None)
    relay = next(iter(_by_role(outcomes, "reference")), None)
    if cove is None or floor is None or relay is None:
        return []
    hop = _ratio(relay.p50_ms(lo), floor.p50_ms(lo))
    rest = _ratio(cove.p50_ms(lo), relay.p50_ms(lo))
    return [
        f"Reference: the relay (the floor behind a second process that only forwards bytes) "
        f"has a p50 at c={lo} of {_fmt(hop)}x the floor's: the process hop alone. Cove's p50 "
        f"at c={lo} is {_fmt(rest)}x the relay's: its gateway (HTTP, SigV4, routing) and its "
        "serving stack on top of the hop.",
        "",
    ]


def cross_az_reference(outcomes: list[Outcome], lo: int) -> list[str]:
    """What AZ-local routing saved, in ms, at the median and at p90 (the public path pays
    the delay on the calls another AZ serves: about half of them with two AZs)."""
    private = next(iter(_by_role(outcomes, "cove-az-private")), None)
    public = next(iter(_by_role(outcomes, "cove-az-public")), None)
    if private is None or public is None or private.p50_ms(lo) is None:
        return []

    def p90(o: Outcome) -> float | None:
        return o.median(lo, lambda r: r.p90_us / 1000)

    def saving(a: float | None, b: float | None) -> str:
        return "-" if a is None or b is None else f"{b - a:.3f} ms"

    return [
        f"Cross-AZ (1 ms delay, host in AZ a, c={lo}): p50 {_fmt(private.p50_ms(lo), 3)} ms "
        f"through private DNS against {_fmt(public.p50_ms(lo), 3)} ms over the public path "
        f"(saving {saving(private.p50_ms(lo), public.p50_ms(lo))}); p90 "
        f"{_fmt(p90(private), 3)} against {_fmt(p90(public), 3)} ms (saving "
        f"{saving(p90(private), p90(public))}). The AZ shares are in the Servers table.",
        "",
    ]


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{suffix}"


def table(outcomes: list[Outcome], concurrency: list[int]) -> str:
    floor = next(iter(_by_role(outcomes, "floor")), None)
    head = ("| server | c | rps | p50 ms | p99 ms | errors | rps x floor | p50 x floor "
            "| p99 x floor | rps x best peer | server CPU us/req | other CPU % |")
    lines = [head, "|---" * 12 + "|"]
    for o in outcomes:
        for c in concurrency:
            if o.rps(c) is None:
                continue
            peer = best_peer(outcomes, c, but=o.family)
            cells = [
                o.name, str(c), _fmt(o.rps(c), 0), _fmt(o.p50_ms(c), 3), _fmt(o.p99_ms(c), 3),
                str(o.errors(c)),
                _fmt(_ratio(o.rps(c), floor.rps(c)) if floor else None, 2, "x"),
                _fmt(_ratio(o.p50_ms(c), floor.p50_ms(c)) if floor else None, 2, "x"),
                _fmt(_ratio(o.p99_ms(c), floor.p99_ms(c)) if floor else None, 2, "x"),
                _fmt(_ratio(o.rps(c), peer.rps(c)) if peer else None, 2,
                     f"x ({peer.name})" if peer else ""),
                _fmt(o.server_cpu_us(c), 0),
                _fmt(o.other_cpu(c), 0),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def peers_table(outcomes: list[Outcome], concurrency: list[int]) -> str:
    """Per peer and concurrency: its better variant, both variants' rps, and Cove's ratio."""
    cove = next(iter(_by_role(outcomes, "cove")), None)
    lines = ["| peer | c | better variant | rps | unbatched rps | batched rps "
             "| Cove rps x it |", "|---|---|---|---|---|---|---|"]
    for c in concurrency:
        for family, best in peers_at_best(outcomes, c).items():
            rps = {o.name != family: o.rps(c) for o in _by_role(outcomes, "peer")
                   if o.family == family}
            cells = [family, str(c), f"{best.name} ({variant(best)})", _fmt(best.rps(c), 0),
                     _fmt(rps.get(False), 0), _fmt(rps.get(True), 0),
                     _fmt(_ratio(cove.rps(c), best.rps(c)) if cove else None, 2, "x")]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def server_table(outcomes: list[Outcome]) -> str:
    lines = ["| server | version | cold start s (create -> ready) | RSS MiB (process tree) "
             "| status |", "|---|---|---|---|---|"]
    for o in outcomes:
        cold = _fmt(statistics.median(o.cold_s), 2) if o.cold_s else "-"
        rss = _fmt(statistics.median(o.rss) / 2**20, 1) if o.rss else "-"
        status = "ok" if o.runs and not o.failures else "; ".join(_one_line(f) for f in o.failures)
        lines.append(f"| {o.name} | {o.label or o.name} | {cold} | {rss} | {status} |")
    return "\n".join(lines)


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split()).replace("|", "/")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def goals_table(items: list[Goal]) -> str:
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {g.text} | {_fmt(g.value, 2, g.unit)} | {g.verdict} |" for g in items]
    return "\n".join(lines)


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 2**20:.1f} GiB",
        "kernel": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "wrk": wrk_version.split("[")[0].strip() or "?",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def markdown(outcomes: list[Outcome], concurrency: list[int], settings: dict[str, str],
             notes: list[str]) -> str:
    info = machine()
    parts = [
        "# Benchmark results",
        "",
        "Written by `make bench` (see README.md for the method). Medians over rounds. "
        "`other CPU %`: CPU that processes other than the server and wrk used during the run "
        "(noise from the machine; 100% = one core).",
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in info.items()],
        "",
        "## Settings",
        "",
        *[f"- {k}: {v}" for k, v in settings.items()],
        "",
        "## Throughput and latency",
        "",
        table(outcomes, concurrency),
        "",
        "## Each peer at its best",
        "",
        "A peer with adaptive batching ran both without it and with it (`<peer>-batch`); "
        "at each concurrency it counts with the better of the two, here and in "
        "`rps x best peer` and the targets.",
        "",
        peers_table(outcomes, concurrency),
        "",
        "## Servers",
        "",
        server_table(outcomes),
        "",
        "## Targets (issue 4)",
        "",
        goals_table(goals(outcomes, min(concurrency), max(concurrency))),
        "",
        *hop_reference(outcomes, min(concurrency)),
        *cross_az_reference(outcomes, min(concurrency)),
    ]
    if notes:
        parts += ["## Notes", "", *[f"- {_one_line(n, 600)}" for n in notes], ""]
    return "\n".join(parts)
