"""One measurement, in a process of its own: `python -m bench.run --scenario scan ...`.

A fresh process per measurement, so its peak RSS (getrusage's ru_maxrss, the kernel's
high-water mark) belongs to that one run and nothing earlier. The last line printed is
the result as JSON, which `python -m bench` collects. Also the entry point to profile one
scenario: `pyinstrument -m bench.run --scenario scan --depth 20000`.

Client CPU is the process's CPU time (time.process_time, all threads) minus the CPU the
simulated service spent answering (time.thread_time around each request): what is left
is dlqctl, botocore and Python — what a real client would burn, except TLS and HTTP
parsing, which the simulator skips.

With --sim-process the simulator runs in a child process (bench/remote.py): this
process's peak RSS is then dlqctl's alone, and the child's is reported beside it. A
sampler thread reads this process's RSS four times a second during the run, to show
whether memory grows with the messages moved.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import dlqctl
from bench import baselines, content, lanes, scenarios
from bench.remote import RemoteTransport
from bench.sim import Faults, SimTransport, SqsService

IMPLS = ("dlqctl", "naive", "batched")
BATCH = 10  # SQS's batch limit: a receive returns at most 10 messages
RSS_SAMPLE_S = 0.25


def _rss_mib() -> float:
    """The current resident set, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Receives:
    """ReceiveMessage calls seen by a client: messages asked for and messages received
    (botocore's events, so nothing in the transport or in dlqctl changes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = self.asked = self.received = 0

    def watch(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.sqs.ReceiveMessage", self._asked)
        client.meta.events.register("after-call.sqs.ReceiveMessage", self._answered)

    def reset(self) -> None:
        with self._lock:
            self.calls = self.asked = self.received = 0

    def _asked(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.calls += 1
            self.asked += int(params.get("MaxNumberOfMessages", 1))

    def _answered(self, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.received += len(parsed.get("Messages", []))


class RssSampler(threading.Thread):
    """This process's RSS every RSS_SAMPLE_S seconds until stopped."""

    def __init__(self) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.samples: list[tuple[float, float]] = []
        self._stop_event = threading.Event()
        self._t0 = time.perf_counter()

    def run(self) -> None:
        while not self._stop_event.wait(RSS_SAMPLE_S):
            self.samples.append((time.perf_counter() - self._t0, _rss_mib()))

    def finish(self) -> list[float]:
        """RSS at 0, 10, ..., 100 % of the run (the nearest sample before each point)."""
        self._stop_event.set()
        self.join()
        samples = [*self.samples, (time.perf_counter() - self._t0, _rss_mib())]
        end = samples[-1][0]
        timeline = []
        for tenth in range(11):
            at = end * tenth / 10
            timeline.append(max((s for s in samples if s[0] <= at), default=samples[0])[1])
        return [round(value, 1) for value in timeline]


class Simulator:
    """The simulated SQS of one run, in this process or in a child (--sim-process)."""

    def __init__(self, args: argparse.Namespace, faults: Faults, layout: content.Layout) -> None:
        self.layout = layout
        error_type = scenarios.error_type_of(args.scenario)
        mixed = scenarios.SCENARIOS[args.scenario].mixed
        latency_s = args.latency_ms / 1000
        self.remote: RemoteTransport | None = None
        if args.sim_process:
            self.remote = RemoteTransport(latency_s=latency_s, faults=faults)
            self.transport: Any = self.remote
            self.urls, self.store_mib = self.remote.setup(
                layout, args.depth, error_type, mixed=mixed
            )
            self.service: SqsService | None = None
        else:
            before = _rss_mib()
            self.service = SqsService()
            self.transport = SimTransport(self.service, latency_s=latency_s, faults=faults)
            self.urls = content.create_queues(self.service, layout)
            content.seed_dlq(
                self.service, args.depth, error_type=error_type, layout=layout, mixed=mixed
            )
            self.store_mib = _rss_mib() - before

    def cpu_s(self) -> float:
        """The simulator's CPU so far: its own process's, or its share of this one's."""
        if self.remote:
            return float(self.remote.child_stats()["cpu_s"])
        return float(self.transport.service_cpu_s)

    def state(self) -> dict[str, Any]:
        if self.remote:
            return self.remote.queue_state(self.layout)
        assert self.service is not None
        return content.queue_state(self.service, self.layout)

    def faults_injected(self) -> dict[str, int]:
        if self.remote:
            return dict(self.remote.child_stats()["faults_injected"])
        return dict(self.transport.faults_injected)

    def peak_rss_mib(self) -> float | None:
        return float(self.remote.child_stats()["peak_rss_mib"]) if self.remote else None

    def close(self) -> None:
        if self.remote:
            self.remote.close()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    scenario = scenarios.SCENARIOS[args.scenario]
    faults = Faults(
        throttle_rate=args.throttle_rate,
        error_rate=args.error_rate,
        ambiguous_rate=args.ambiguous_rate,
        entry_failure_rate=args.entry_failure_rate,
    )
    sim = Simulator(args, faults, scenario.layout)
    try:
        return _measure(args, scenario, sim, faults)
    finally:
        sim.close()


def _measure(
    args: argparse.Namespace, scenario: scenarios.Scenario, sim: Simulator, faults: Faults
) -> dict[str, Any]:
    transport = sim.transport
    receives = Receives()
    lane = lanes.detect(args.scenario, args.concurrency)
    if args.impl == "dlqctl":
        api = scenarios.dlqctl_api(transport, args.work, lane, scenario.layout, receives.watch)
    else:
        # The baselines' client is plain boto3 with its usual retries, as an operator's.
        client = transport.client()
        receives.watch(client)
        client.get_queue_url(QueueName=scenario.layout.dlq)  # warm up, as for dlqctl
    dlq_url, source_url = sim.urls
    # Journal and export files, removed with the process's other traces when it ends.
    scratch = tempfile.TemporaryDirectory(prefix="dlqctl-bench-")
    tmp = Path(scratch.name)

    gc.collect()
    transport.reset_counters()
    receives.reset()
    load_before = os.getloadavg()[0]
    sim_cpu_before = sim.cpu_s()
    rss_before = _rss_mib()
    sampler = RssSampler()
    sampler.start()
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    extra: scenarios.Extra = {}
    if args.impl == "dlqctl":
        result = scenarios.RUNNERS[args.scenario](api, args.work, lane, tmp, scenario.layout)
        done, extra = result if isinstance(result, tuple) else (result, {})
    else:
        run = baselines.BASELINES[args.scenario]
        done = run(client, dlq_url, source_url, args.work, baselines.BATCH[args.impl], tmp)
    wall = time.perf_counter() - wall_before
    cpu = time.process_time() - cpu_before
    timeline = sampler.finish()
    load_after = os.getloadavg()[0]
    sim_cpu = sim.cpu_s() - sim_cpu_before
    requests = transport.total_requests
    by_operation = dict(transport.requests)

    scratch.cleanup()
    state = sim.state()
    faulty = any(value for key, value in vars(faults).items() if key != "operations")
    if scenario.mixed:
        judge_shares(extra, content.mixed_truth(args.depth))
    checks = _check(state, args, done, receives, faulty=faulty, extra=extra)
    client_cpu = cpu if sim.remote else cpu - sim_cpu
    return {
        "scenario": args.scenario,
        "impl": args.impl,
        "depth": args.depth,
        "work": args.work,
        "done": done,
        "sampled": args.work < args.depth and args.scenario != "cap",
        "lanes": lane.note if args.impl == "dlqctl" else "1 lane",
        "lanes_passed_via": lane.where,
        "req_floor": scenario.floor,
        "dlqctl_module": dlqctl.__file__,
        "latency_ms": args.latency_ms,
        "sim_process": bool(sim.remote),
        "fifo_groups": scenario.layout.groups if scenario.layout.fifo else None,
        "faults": {k: v for k, v in vars(faults).items() if v and k != "operations"},
        "faults_injected": sim.faults_injected(),
        "wall_s": round(wall, 3),
        "requests": requests,
        "requests_by_operation": by_operation,
        "receive_calls": receives.calls,
        "messages_asked": receives.asked,
        "messages_received": receives.received,
        "req_per_msg": requests / done if done else None,
        "msg_per_s": done / wall if wall else None,
        "client_cpu_ms_per_msg": client_cpu * 1000 / done if done else None,
        "process_cpu_s": round(cpu, 3),
        "simulator_cpu_s": round(sim_cpu, 3),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "rss_before_run_mib": round(rss_before, 1),
        "rss_timeline_mib": timeline,
        "simulator_store_mib": round(sim.store_mib, 1),
        "simulator_peak_rss_mib": sim.peak_rss_mib(),
        "load_1m": [round(load_before, 2), round(load_after, 2)],
        "queues_after": state,
        "checks": checks,
        "ok": all(checks.values()),
        **extra,
    }


def _check(
    state: dict[str, Any],
    args: argparse.Namespace,
    done: int,
    receives: Receives,
    *,
    faulty: bool,
    extra: scenarios.Extra,
) -> dict[str, bool]:
    """What must be true of the queues afterwards, whatever client did the work."""
    moves = scenarios.SCENARIOS[args.scenario].redrive
    left = state["dlq_visible"] + state["dlq_in_flight"]
    copies = state["copies"]
    if faulty:
        # Under injected faults a client may give up on some messages (reported, left in
        # the DLQ) and a lost answer may duplicate a copy; no message may be lost.
        if not moves:
            return {"nothing consumed": left == args.depth}
        lossless = {"no message lost (copies may repeat)": left + copies >= args.depth}
        if "order_kept" in state:  # a failed message stops its group: order holds anyway
            lossless["every group's order kept in the target"] = bool(state["order_kept"])
        return lossless
    checks = {"handled every message asked for": done == args.work}
    if moves:
        checks["moved messages left the DLQ"] = left == args.depth - done
        checks["moved messages reached the source queue"] = copies == done
        checks["nothing left held in the DLQ"] = state["dlq_in_flight"] == 0
    else:
        checks["nothing consumed, nothing still held"] = (
            state["dlq_visible"],
            state["dlq_in_flight"],
        ) == (args.depth, 0)
    if "order_kept" in state:
        checks["every group's order kept in the target"] = bool(state["order_kept"])
        checks["no copy repeated"] = state["repeated_copies"] == 0
        groups = scenarios.SCENARIOS[args.scenario].layout.groups
        checks["every group moved"] = state["groups"] == min(groups, args.depth)
    if "truth" in extra:
        checks["an estimate of every error type"] = {
            share["value"] for share in extra["by_error_type"]
        } == set(extra["truth"])
        checks["every true share inside its 95 % interval"] = extra["shares_outside"] == 0
    if args.scenario == "cap":
        rounded = math.ceil(args.work / BATCH)
        checks[f"at most {rounded} receives (N / 10, rounded up)"] = receives.calls <= rounded
        checks[f"at most {rounded * BATCH} messages received"] = (
            receives.received <= rounded * BATCH
        )
    return checks


def judge_shares(extra: scenarios.Extra, truth: dict[str, int]) -> None:
    """Each estimated share gets its true share of the DLQ and whether that lies inside
    its interval; the row, the truth and how many lie outside."""
    depth = sum(truth.values())
    for share in extra["by_error_type"]:
        share["true_share"] = truth.get(share["value"], 0) / depth
        share["inside"] = share["low"] <= share["true_share"] <= share["high"]
    extra["truth"] = truth
    extra["shares_outside"] = sum(not share["inside"] for share in extra["by_error_type"])


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--scenario", choices=sorted(scenarios.SCENARIOS), required=True)
    parser.add_argument("--impl", choices=IMPLS, default="dlqctl")
    parser.add_argument("--depth", type=int, required=True, help="messages in the DLQ")
    parser.add_argument("--work", type=int, help="messages to handle (default: --depth)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, help="lanes, where dlqctl supports them")
    parser.add_argument(
        "--sim-process",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the simulator in a child process (default: as the scenario says)",
    )
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--ambiguous-rate", type=float, default=0.0)
    parser.add_argument("--entry-failure-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    args.work = args.work or args.depth
    if args.sim_process is None:
        args.sim_process = scenarios.SCENARIOS[args.scenario].sim_process
    return args


def main(argv: list[str] | None = None) -> None:
    result = measure(parse(sys.argv[1:] if argv is None else argv))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
