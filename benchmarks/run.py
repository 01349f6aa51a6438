"""`make bench`: Cove against the floor and the Python model servers, same model, same machine.

Run from the repository root: .venv/bin/python benchmarks/run.py [--quick] [options].
See benchmarks/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import signal
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import model, procs, report, venvs, wrk
from harness.cove import Cove, CoveUser, model_env_from
from harness.cove_front_door import CoveFrontDoor
from harness.cove_vpc import CoveAzPrivate, CoveAzPublic, CoveVpcEndpoint, CoveVpcPublic
from harness.report import Outcome
from harness.servers import Floor, Peer, Relay, peer_variants
from harness.targets import Target
from harness.venvs import Unavailable

HERE = Path(__file__).resolve().parent
KEEP_RUNS = 3  # per-run scratch dirs kept in .work (server logs grow to ~100 MB per run)


# Cove serves the benchmark's row-wise model the way one deploys it for throughput:
# with adaptive batching on (see the README's "Adaptive batching").
COVE_DEFAULT_ENV = ("COVE_MAX_BATCH_SIZE=64", "COVE_MAX_BATCH_DELAY_MS=0.5")

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3, help="rounds over all servers (default 3)")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up seconds per server start")
    p.add_argument("--concurrency", default="1,8,64", help="wrk connections (default 1,8,64)")
    p.add_argument("--quick", action="store_true",
                   help="one round of 3 s runs with 1 s warm-up, to try the harness out")
    p.add_argument("--max-other-cpu", type=float, default=20.0, metavar="PCT",
                   help="redo a run when other processes used more than PCT%% of a CPU")
    p.add_argument("--retries", type=int, default=2, help="redos per run at most (default 2)")
    p.add_argument("--only", default="", help="comma-separated servers to run (e.g. floor,cove)")
    p.add_argument("--skip", default="", help="comma-separated servers to leave out")
    p.add_argument("--peer-logs", action="store_true",
                   help="run the peers with their per-request log lines as shipped (KServe, "
                   "LitServe and BentoML write one or two a request); by default they are off")
    p.add_argument("--cove-env", action="append", default=list(COVE_DEFAULT_ENV),
                   metavar="KEY=VALUE",
                   help="Environment of Cove's model, added to (and overriding) the default "
                   f"{' '.join(COVE_DEFAULT_ENV)}; e.g. COVE_MAX_BATCH_SIZE=1 turns "
                   "batching off; repeatable")
    p.add_argument("--results", type=Path, default=HERE / "RESULTS.md",
                   help="where to write the report (default benchmarks/RESULTS.md)")
    p.add_argument("--no-write", action="store_true", help="print the report only")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 3, 1
    args.concurrency = sorted({int(c) for c in args.concurrency.split(",")})
    return args


def select(args: argparse.Namespace) -> list[Target]:
    env = model_env_from(args.cove_env)
    targets: list[Target] = [Floor(), Relay(), Cove(env), CoveUser(env),
                             CoveVpcEndpoint(env), CoveVpcPublic(env), CoveFrontDoor(env),
                             CoveAzPrivate(env), CoveAzPublic(env),
                             *peer_variants(quiet=not args.peer_logs)]
    only = {n for n in args.only.split(",") if n}
    skip = {n for n in args.skip.split(",") if n}
    return [t for t in targets if (not only or t.name in only) and t.name not in skip]


def check_tools() -> None:
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install -y wrk util-linux")
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("the benchmark needs two CPUs: the server on CPU 0, wrk on CPU 1")


def install_peers(targets: list[Target], outcomes: dict[str, Outcome], work: Path) -> None:
    """Create the peers' venvs in parallel (pip is mostly waiting on the network), one per
    peer: its batched variant uses the same one."""
    families: dict[str, list[Peer]] = {}
    for target in targets:
        if isinstance(target, Peer):
            families.setdefault(target.family, []).append(target)
    if families:
        print(f"preparing venvs for {', '.join(families)} (first run installs)")

    def install(variants: list[Peer]) -> None:
        first = variants[0]
        try:
            python = venvs.ensure(first.family, first.packages, work / f"pip-{first.family}.log")
        except Unavailable as exc:
            for peer in variants:
                outcomes[peer.name].failures.append(f"not installable: {exc}")
            return
        for peer in variants:
            peer.python = python

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(install, families.values()))


def timed_run(target: Target, pid: int, conns: int, script: Path,
              args: argparse.Namespace) -> wrk.WrkResult:
    """One wrk run, with the CPU that neither the server nor wrk used (others' noise)."""
    request = target.request()
    machine_cpu, server_cpu = procs.cpu_busy_seconds(), procs.tree_cpu_seconds(pid)
    result = wrk.run(request, conns, args.duration, script)
    served_cpu = procs.tree_cpu_seconds(pid) - server_cpu
    other = (procs.cpu_busy_seconds() - machine_cpu) - result.extra["wrk_cpu_s"] - served_cpu
    result.extra["other_cpu_pct"] = max(0.0, 100 * other / (result.duration_us / 1e6))
    # what one request costs the server's process tree, all its processes together
    result.extra["server_cpu_us"] = 1e6 * served_cpu / max(1, result.requests)
    return result


def least_noisy_run(target: Target, pid: int, conns: int, script: Path,
                    args: argparse.Namespace) -> wrk.WrkResult:
    """Repeat a run that other processes disturbed (up to --retries times); keep the quietest."""
    runs = [timed_run(target, pid, conns, script, args)]
    while runs[-1].extra["other_cpu_pct"] > args.max_other_cpu and len(runs) <= args.retries:
        print(f"    c={conns:<3} other processes used {runs[-1].extra['other_cpu_pct']:.0f}% "
              "of a CPU meanwhile: again", flush=True)
        time.sleep(2)
        runs.append(timed_run(target, pid, conns, script, args))
    return min(runs, key=lambda r: r.extra["other_cpu_pct"])


def measure(target: Target, outcome: Outcome, art: model.Artifact, work: Path,
            args: argparse.Namespace) -> None:
    """One round for one server: start, check its answer, warm up, drive it at each level."""
    work.mkdir(parents=True, exist_ok=True)
    try:
        cold = target.start(art, work)
        # Some servers set their own CPU affinity (Cove's instances do): CPU 0 it is.
        pid = target.proc.pid
        procs.pin_tree(pid)
        outcome.cold_s.append(cold)
        outcome.label = target.describe()
        target.verify(art)
        print(f"  {target.name}: ready in {cold:.2f} s, prediction checked", flush=True)
        script = work / f"{target.name}.lua"
        wrk.run(target.request(), max(args.concurrency), args.warmup, script)
        for conns in args.concurrency:
            result = least_noisy_run(target, pid, conns, script, args)
            outcome.runs.setdefault(conns, []).append(result)
            outcome.rss.append(procs.rss_bytes(pid))
            flag = f"  ERRORS: {result.errors}" if result.errors else ""
            print(f"    c={conns:<3} {result.rps:9.0f} rps  p50 {result.p50_us / 1000:7.3f} ms"
                  f"  p99 {result.p99_us / 1000:7.3f} ms  other CPU "
                  f"{result.extra['other_cpu_pct']:4.0f}%{flag}", flush=True)
        outcome.label = target.describe()  # with what the runs showed (calls by AZ)
    except Exception as exc:  # one broken server must not stop the others
        outcome.failures.append(f"{type(exc).__name__}: {exc}")
        print(f"  {target.name} FAILED: {exc}", flush=True)
        traceback.print_exc(limit=3)
    finally:
        target.stop()


def settings_of(args: argparse.Namespace, argv: list[str], load_before: str) -> dict[str, str]:
    return {
        "command": "make bench" + (f" BENCH_ARGS='{' '.join(argv)}'" if argv else ""),
        "rounds": str(args.rounds),
        "wrk run": f"{args.duration} s per concurrency level, {args.warmup} s warm-up per start",
        "concurrency": ", ".join(map(str, args.concurrency)),
        "pinning": f"server tree on CPU {procs.SERVER_CPU}, wrk (1 thread) on CPU "
                   f"{procs.CLIENT_CPU}",
        "load average before the run (1/5/15 min)": load_before,
        "noise control": f"a run is redone (up to {args.retries} times, quietest kept) when "
                         f"other processes used more than {args.max_other_cpu:.0f}% of a CPU",
        "peer logging": "as shipped (--peer-logs: per-request logs where the server has "
                        "them on)" if args.peer_logs else "per-request logs off",
        "peer batching": "each peer with adaptive batching also runs with it on, as "
                         "<peer>-batch (settings in the Servers table)",
    }


def _terminate(signum: int, _frame: object) -> None:
    # Unwind through the `finally` that stops the server under test, instead of dying.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    check_tools()
    load_before = "/".join(f"{x:.2f}" for x in os.getloadavg())
    work = HERE / ".work" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    work.mkdir(parents=True)
    for old in sorted(p for p in work.parent.iterdir() if p.is_dir())[:-KEEP_RUNS]:
        shutil.rmtree(old, ignore_errors=True)
    art = model.build(work / "model")
    print(f"model: {art.joblib_path} (in-process prediction {art.expected})")

    targets = select(args)
    outcomes = {t.name: Outcome(t.name, t.role, t.family) for t in targets}
    install_peers(targets, outcomes, work)
    runnable = [t for t in targets if not outcomes[t.name].failures]
    for rnd in range(args.rounds if runnable else 0):
        shift = rnd % len(runnable)  # rotate who goes first, so no server always runs first
        order = runnable[shift:] + runnable[:shift]
        print(f"round {rnd + 1}/{args.rounds}: {', '.join(t.name for t in order)}", flush=True)
        for target in order:
            measure(target, outcomes[target.name], art, work / f"round{rnd + 1}", args)

    results = list(outcomes.values())
    notes = [f"{o.name}: {f}" for o in results for f in o.failures]
    text = report.markdown(results, args.concurrency, settings_of(args, argv, load_before), notes)
    print("\n" + text)
    raw = {o.name: dataclasses.asdict(o) for o in results}
    (work / "results.json").write_text(json.dumps(raw, indent=1))
    if not args.no_write:
        args.results.write_text(text)
        print(f"wrote {args.results} (raw numbers: {work / 'results.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
