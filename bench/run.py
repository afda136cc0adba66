"""One measurement, in a process of its own: `python -m bench.run --scenario scan ...`.

A fresh process per measurement, so its peak RSS (getrusage's ru_maxrss, the kernel's
high-water mark) belongs to that one run and nothing earlier. The last line printed is
the result as JSON, which `python -m bench` collects. Also the entry point to profile one
scenario: `pyinstrument -m bench.run --scenario scan --depth 20000`.

Client CPU is the process's CPU time (time.process_time, all threads) minus the CPU the
simulated service spent answering (time.thread_time around each request): what is left
is dlqctl, botocore and Python — what a real client would burn, except TLS and HTTP
parsing, which the simulator skips.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dlqctl
from bench import baselines, content, lanes, scenarios
from bench.sim import Faults, SimTransport, SqsService

IMPLS = ("dlqctl", "naive", "batched")


def _rss_mib() -> float:
    """The current resident set, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(args: argparse.Namespace) -> dict[str, Any]:
    rss_start = _rss_mib()
    faults = Faults(
        throttle_rate=args.throttle_rate,
        error_rate=args.error_rate,
        ambiguous_rate=args.ambiguous_rate,
        entry_failure_rate=args.entry_failure_rate,
    )
    service = SqsService()
    transport = SimTransport(service, latency_s=args.latency_ms / 1000, faults=faults)
    dlq_url, source_url = content.create_queues(service)
    content.seed_dlq(
        service,
        args.depth,
        error_type=scenarios.REDRIVE_ERROR_TYPE if args.scenario == "redrive" else None,
    )
    sim_store_mib = _rss_mib() - rss_start
    lane = lanes.detect(args.scenario, args.concurrency)
    if args.impl == "dlqctl":
        api = scenarios.dlqctl_api(transport, args.work, lane)
    else:
        # The baselines' client is plain boto3 with its usual retries, as an operator's.
        client = transport.client()
        client.get_queue_url(QueueName=content.DLQ)  # warm up, as for dlqctl
    # Journal and export files, removed with the process's other traces when it ends.
    scratch = tempfile.TemporaryDirectory(prefix="dlqctl-bench-")
    tmp = Path(scratch.name)

    gc.collect()
    transport.reset_counters()
    sim_cpu_before = transport.service_cpu_s
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    if args.impl == "dlqctl":
        done = scenarios.RUNNERS[args.scenario](api, args.work, lane, tmp)
    else:
        run = baselines.BASELINES[args.scenario]
        done = run(client, dlq_url, source_url, args.work, baselines.BATCH[args.impl], tmp)
    wall = time.perf_counter() - wall_before
    cpu = time.process_time() - cpu_before
    sim_cpu = transport.service_cpu_s - sim_cpu_before
    requests = transport.total_requests

    scratch.cleanup()
    checks = _check(service, args, done, faulty=any(vars(faults).values()))
    return {
        "scenario": args.scenario,
        "impl": args.impl,
        "depth": args.depth,
        "work": args.work,
        "done": done,
        "sampled": args.work < args.depth,
        "lanes": lane.note if args.impl == "dlqctl" else "1 lane",
        "lanes_passed_via": lane.where,
        "req_floor": scenarios.SCENARIOS[args.scenario].floor,
        "dlqctl_module": dlqctl.__file__,
        "latency_ms": args.latency_ms,
        "faults": {k: v for k, v in vars(faults).items() if v and k != "operations"},
        "faults_injected": dict(transport.faults_injected),
        "wall_s": round(wall, 3),
        "requests": requests,
        "requests_by_operation": dict(transport.requests),
        "req_per_msg": requests / done if done else None,
        "msg_per_s": done / wall if wall else None,
        "client_cpu_ms_per_msg": (cpu - sim_cpu) * 1000 / done if done else None,
        "process_cpu_s": round(cpu, 3),
        "simulator_cpu_s": round(sim_cpu, 3),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "simulator_store_mib": round(sim_store_mib, 1),
        "checks": checks,
        "ok": all(checks.values()),
    }


def _check(
    service: SqsService, args: argparse.Namespace, done: int, faulty: bool
) -> dict[str, bool]:
    """What must be true of the queues afterwards, whatever client did the work."""
    with service.lock:
        dlq = service.queues[content.DLQ]
        source = service.queues[content.SOURCE]
        dlq.tick(service.clock())
        visible, in_flight, _ = dlq.counts
        copies = source.counts[0]
    left = visible + in_flight
    if faulty:
        # Under injected faults a client may give up on some messages (reported, left in
        # the DLQ) and a lost answer may duplicate a copy; no message may be lost.
        if args.scenario == "redrive":
            return {"no message lost (copies may repeat)": left + copies >= args.depth}
        return {"nothing consumed": left == args.depth}
    checks = {"handled every message asked for": done == args.work}
    if args.scenario == "redrive":
        checks["moved messages left the DLQ"] = left == args.depth - done
        checks["moved messages reached the source queue"] = copies == done
    else:
        checks["nothing consumed, nothing still held"] = (visible, in_flight) == (args.depth, 0)
    return checks


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--scenario", choices=sorted(scenarios.SCENARIOS), required=True)
    parser.add_argument("--impl", choices=IMPLS, default="dlqctl")
    parser.add_argument("--depth", type=int, required=True, help="messages in the DLQ")
    parser.add_argument("--work", type=int, help="messages to handle (default: --depth)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, help="lanes, where dlqctl supports them")
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--ambiguous-rate", type=float, default=0.0)
    parser.add_argument("--entry-failure-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    args.work = args.work or args.depth
    return args


def main(argv: list[str] | None = None) -> None:
    result = measure(parse(sys.argv[1:] if argv is None else argv))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
