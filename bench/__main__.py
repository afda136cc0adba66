"""`python -m bench` (`make bench`): every scenario, dlqctl and both baselines, one table.

Each measurement runs in a fresh subprocess (bench/run.py) so peak RSS is its own; they
run one after another so none competes with another for the machine's two cores.

Besides scan, redrive and export (each against the baselines): a whole FIFO DLQ in 50
groups redriven in one run (fifo), a standard redrive of 100,000 messages with the
simulator in its own process so that peak RSS is dlqctl's (stream; --million adds a run
of 1,000,000, 25 minutes here), and --max-messages 1 and 25 on a deep DLQ (cap). Then the peers (bench/peers.py): dlqctl,
the two loops, the AWS CLI, lumigo-cli and replay-aws-dlq as separate programs on the
simulator served over HTTP, confined to loopback (--no-peers skips them, --peers-only runs
only them); and dlqctl's start-up times (bench/startup.py).

The naive baseline pays a full round trip per message (2–3 per message at 20 ms): over a
100,000-message queue it would run for more than an hour. So the baselines handle a
sample of each queue — the same queue, at the same depth — and their rates (requests per
message, messages per second, CPU per message) are measured on that sample. Rates do not
depend on how many messages are handled, since the simulator's cost per request does not
grow with depth; the table says "sample" wherever that was done.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import peers, report, startup
from bench.scenarios import CAPS, SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

# Sizes: the for a full run; a tenth or so with --quick. The samples are sized so
# a full run stays under ~15 minutes on 2 cores at 20 ms per request. `cap` is the depth
# of the DLQ the --max-messages runs take from.
SIZES = {
    "full": {
        "scan": 100_000,
        "redrive": 10_000,
        "export": 10_000,
        "fifo": 10_000,
        "stream": 100_000,
        "cap": 10_000,
        "sample": 1_000_000,
        "sample_size": 10_000,
        "naive": 200,
        "batched": 1_000,
    },
    "quick": {
        "scan": 5_000,
        "redrive": 1_000,
        "export": 1_000,
        "fifo": 1_000,
        "stream": 20_000,
        "cap": 1_000,
        "sample": 100_000,
        "sample_size": 2_000,
        "naive": 100,
        "batched": 500,
    },
}
MILLION = 1_000_000
# CPU per message also rises with the wait between requests (caches and clocks cool down
# while a lane sleeps), so dlqctl runs once more without waits: its CPU cost when busy,
# and the most one lane can do with the CPU it has. Per message, so a smaller queue will do.
HOT_CPU_DEPTH = 20_000
FAULTS = ("throttle_rate", "error_rate", "ambiguous_rate", "entry_failure_rate")


def plan(args: argparse.Namespace) -> list[dict[str, Any]]:
    sizes = args.sizes
    runs: list[dict[str, Any]] = []
    sim_process = True if args.sim_process else None  # None: as each scenario says
    for scenario in args.scenarios:
        depth = sizes[scenario]
        if scenario == "cap":
            for cap in CAPS:
                runs.append(
                    {
                        "scenario": scenario,
                        "impl": "dlqctl",
                        "depth": depth,
                        "work": cap,
                        "concurrency": args.concurrency,
                        "sim_process": sim_process,
                    }
                )
            continue
        if scenario == "sample":
            runs.append(
                {
                    "scenario": scenario,
                    "impl": "dlqctl",
                    "depth": depth,
                    "work": min(depth, sizes["sample_size"]),
                    "concurrency": args.concurrency,
                    "sim_process": sim_process,
                }
            )
            continue
        depths = [depth] + ([MILLION] if scenario == "stream" and args.million else [])
        for each in depths:
            for concurrency in args.sweep or [args.concurrency]:
                runs.append(
                    {
                        "scenario": scenario,
                        "impl": "dlqctl",
                        "depth": each,
                        "concurrency": concurrency,
                        "sim_process": sim_process,
                    }
                )
        if not SCENARIOS[scenario].baselines:
            continue
        for impl in ("naive", "batched"):
            work = min(depth, sizes[impl])
            runs.append(
                {
                    "scenario": scenario,
                    "impl": impl,
                    "depth": depth,
                    "work": work,
                    "sim_process": sim_process,
                }
            )
        if SCENARIOS[scenario].hot_cpu and not args.no_hot_cpu:
            hot_depth = min(depth, HOT_CPU_DEPTH)
            runs.append(
                {
                    "scenario": scenario,
                    "impl": "dlqctl",
                    "depth": hot_depth,
                    "concurrency": args.concurrency,
                    "latency_ms": 0.0,
                    "sim_process": sim_process,
                }
            )
    return runs


def run_one(spec: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.run"]
    spec = {"latency_ms": args.latency_ms, **spec}
    for key, value in spec.items():
        flag = f"--{key.replace('_', '-')}"
        if isinstance(value, bool):
            argv.append(flag if value else f"--no-{key.replace('_', '-')}")
        elif value is not None:
            argv += [flag, str(value)]
    for fault in FAULTS:
        argv += [f"--{fault.replace('_', '-')}", str(getattr(args, fault))]
    # No profile, endpoint or DLQCTL_* setting of this machine may reach the run.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DLQCTL_"))}
    if args.src:
        env["PYTHONPATH"] = str(args.src)  # ahead of the editable install's src/
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"bench: {' '.join(argv[1:])} failed ({done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def checkout(revision: str) -> tuple[Path, str]:
    """dlqctl's src/ as of a git revision, extracted to a temporary directory: measures a
    commit without touching the working tree (where someone may be mid-change)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    target = Path(tempfile.mkdtemp(prefix=f"dlqctl-{commit}-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "src", commit


def _sizes(text: str) -> dict[str, int]:
    pairs = (item.split("=", 1) for item in text.split(",") if item)
    sizes = {key.strip(): int(value) for key, value in pairs}
    unknown = set(sizes) - set(SIZES["full"])
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown size keys: {', '.join(sorted(unknown))}")
    return sizes


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small queues: about 1½ minutes")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per request (20)")
    parser.add_argument(
        "--scenarios",
        type=lambda text: text.split(","),
        default=list(SCENARIOS),
        help="comma-separated, of: " + ",".join(SCENARIOS),
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help="dlqctl's lanes, passed wherever dlqctl takes them (bench/lanes.py); each row "
        "says whether it was applied",
    )
    parser.add_argument(
        "--sweep",
        type=lambda text: [int(n) for n in text.split(",")],
        help="run dlqctl at each of these lane counts, e.g. 1,2,4,8",
    )
    parser.add_argument(
        "--million",
        action="store_true",
        help="also redrive 1,000,000 messages in the stream scenario (25 minutes here)",
    )
    parser.add_argument(
        "--sim-process",
        action="store_true",
        help="run the simulator in a process of its own for every scenario (stream always does)",
    )
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="fault injection")
    parser.add_argument("--error-rate", type=float, default=0.0, help="5xx, fault injection")
    parser.add_argument(
        "--ambiguous-rate", type=float, default=0.0, help="act, then answer 5xx (duplicates)"
    )
    parser.add_argument("--entry-failure-rate", type=float, default=0.0, help="batch entries")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default={},
        metavar="KEY=N,…",
        help="override queue depths and samples, e.g. scan=20000,naive=100 "
        f"(keys: {', '.join(SIZES['full'])})",
    )
    parser.add_argument(
        "--no-hot-cpu", action="store_true", help="skip the extra dlqctl runs without waits"
    )
    parser.add_argument(
        "--dlqctl-rev",
        metavar="REV",
        help="measure dlqctl as of this git revision (e.g. HEAD) instead of the working tree",
    )
    parser.add_argument(
        "--no-peers",
        action="store_true",
        help="skip the peers (the AWS CLI, lumigo-cli, replay-aws-dlq, over HTTP)",
    )
    parser.add_argument(
        "--peers-only",
        action="store_true",
        help="only the peers and the start-up times, none of the scenarios",
    )
    parser.add_argument(
        "--peer-cache",
        type=Path,
        default=peers.DEFAULT_CACHE,
        help=f"where the bench installs the peers (default {peers.DEFAULT_CACHE})",
    )
    parser.add_argument(
        "--startup-runs",
        type=int,
        default=startup.RUNS,
        help=f"runs of each start-up command ({startup.RUNS}; 0 skips them)",
    )
    parser.add_argument("--out", type=Path, help="JSON results (default bench/results/…)")
    args = parser.parse_args(argv)
    args.sizes = {**SIZES["quick" if args.quick else "full"], **args.sizes}
    args.src, args.measured = None, "working tree"
    if args.dlqctl_rev:
        args.src, commit = checkout(args.dlqctl_rev)
        args.measured = f"git {commit} ({args.dlqctl_rev})"
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.peers_only and args.no_peers:
        parser.error("--peers-only and --no-peers exclude each other")
    if args.peers_only:
        args.scenarios = []
    if args.peers_only:
        default = "quick-peers.json" if args.quick else "peers.json"
    else:
        default = "quick.json" if args.quick else "latest.json"
    args.out = args.out or RESULTS / default
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        measure_all(args)
    finally:
        if args.src:
            shutil.rmtree(args.src.parent, ignore_errors=True)  # the checkout of --dlqctl-rev


def measure_all(args: argparse.Namespace) -> None:
    runs = plan(args)
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    hot: list[dict[str, Any]] = []
    for number, spec in enumerate(runs, start=1):
        work = spec.get("work") or spec["depth"]
        latency = spec.get("latency_ms", args.latency_ms)
        print(
            f"[{number}/{len(runs)}] {spec['scenario']} · {spec['impl']} · "
            f"{work:,} of {spec['depth']:,} messages · {latency:g} ms … ",
            end="",
            flush=True,
        )
        row = run_one(spec, args)
        (hot if "latency_ms" in spec else rows).append(row)
        status = "ok" if row["ok"] else f"CHECK FAILED {row['checks']}"
        print(
            f"{row['wall_s']:.1f} s, {row['msg_per_s']:,.0f} msg/s, "
            f"load {row['load_1m'][0]:.1f}–{row['load_1m'][1]:.1f}, {status}",
            flush=True,
        )
    report.add_ratios(rows)
    peer_result = None
    if not args.no_peers:
        print("[peers] installing (once per version) and measuring each client over HTTP …")
        peer_result = peers.measure_all(
            quick=args.quick, latency_ms=args.latency_ms, cache=args.peer_cache, src=args.src
        )
    startup_rows = []
    if args.startup_runs:
        print(f"[start-up] {args.startup_runs} runs of each command …", flush=True)
        startup_rows = startup.measure(args.startup_runs, args.src)
    elapsed = time.monotonic() - started

    print(f"\nSimulated SQS at {args.latency_ms:g} ms per request", end="")
    faults = {k: getattr(args, k) for k in FAULTS}
    print(f", faults {faults}" if any(faults.values()) else ", no faults", end="")
    print(f"; {os.cpu_count()} CPUs; dlqctl from the {args.measured}", end="")
    print(f"; {elapsed:.0f} s in all.")
    print(report.load_text(rows + hot) + "\n")
    main_rows = [r for r in rows if r["scenario"] in report.MAIN_SCENARIOS]
    if main_rows:
        print(report.table(main_rows))
        print(
            "\nreq/msg counts every SQS request (retries too) over messages handled; CPU is "
            "the process's\nCPU minus the simulator's own; peak RSS is ru_maxrss of a fresh "
            "process per row and\nincludes the simulator's queue store "
            f"({max(r['simulator_store_mib'] for r in main_rows):.0f} MiB at most). "
            "Baselines marked 'sample' handled that many\nmessages of the same queue; their "
            "rates are per message. ×naive and ×batched are dlqctl's\nmsg/s over theirs. "
            "Request floors: "
            + ", ".join(
                f"{s.name} {s.floor}"
                for s in SCENARIOS.values()
                if s.name in args.scenarios and s.name in report.MAIN_SCENARIOS
            )
            + " per message.\n"
        )
    if hot:
        print("Without waits (0 ms per request): dlqctl's CPU when busy, and one lane's ceiling.\n")
        print(report.hot_table(hot), "\n")
    for title, render in report.EXTRA_TABLES:
        text = render(rows)
        if text:
            print(f"{title}\n\n{text}\n")
    if peer_result:
        print(
            "Peers: the same redrive by each client as a separate program, on the simulator "
            f"over HTTP at {args.latency_ms:g} ms per request;\nconfined to loopback by "
            f"{peer_result['confinement']}.\n"
        )
        print(report.peers_table(peer_result) + "\n")
        print(
            "msg/s (command) is over the whole command, start-up included; msg/s (active) "
            "from its first request\nto its last accepted send or delete. CPU and peak RSS "
            "are the client's own process tree (the\nsimulator runs apart). Attributes kept: "
            "the share of copies that kept that type's attribute\nunchanged. dlqctl's "
            "msg/s × is dlqctl's rate over the client's; req/msg ÷ is the client's over "
            "dlqctl's.\n"
        )
    if startup_rows:
        print(f"Start-up: a fresh process per run, {args.startup_runs} runs each.\n")
        print(startup.table(startup_rows) + "\n")
    results = report.target_results(rows)
    print("Targets:")
    print(report.targets_text(results))
    peer_verdicts = report.peer_targets(peer_result) if peer_result else []
    if peer_verdicts:
        print("  ahead of every peer on msg/s at equal or lower req/msg (issue 13):")
        print(report.peer_targets_text(peer_verdicts))
    parameters = {
        "latency_ms": args.latency_ms,
        "sizes": args.sizes,
        "million": args.million,
        "concurrency": args.concurrency,
        "sweep": args.sweep,
        "sim_process": args.sim_process,
        "dlqctl_measured": args.measured,
        "peers": not args.no_peers,
        "startup_runs": args.startup_runs,
        **faults,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    document = report.document(rows, parameters)
    document["without_waits"] = hot
    document["peers"] = peer_result
    document["peer_targets"] = peer_verdicts
    document["startup"] = startup_rows
    document["elapsed_s"] = round(elapsed, 1)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    dlqctl_peer_rows = [
        r for r in (peer_result or {}).get("rows", []) if r["peer"] == "dlqctl" and r["measured"]
    ]
    if not all(row["ok"] for row in rows + hot + dlqctl_peer_rows):
        raise SystemExit("bench: a run did not do the work it claimed (see CHECK FAILED)")


if __name__ == "__main__":
    main()
