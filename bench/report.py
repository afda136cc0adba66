"""The closing tables, the targets (issue 6's and the streaming engine's), and the JSON
written beside them."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

Row = dict[str, Any]

# The scenarios of the main table, each against the baselines; the others have their own.
MAIN_SCENARIOS = ("scan", "redrive", "export")
BATCH = 10

HEADER = (
    "scenario",
    "client",
    "n",
    "req/msg",
    "msg/s",
    "CPU ms/msg",
    "peak RSS MiB",
    "×naive",
    "×batched",
)


@dataclass(frozen=True)
class Target:
    scenario: str
    what: str
    field: str
    limit: float
    at_most: bool
    min_depth: int = 0  # the RSS targets are about a 100,000-message scan, a 1M redrive
    hint: str = "run without --quick"
    exact_depth: bool = False  # only rows of min_depth itself (not the 100k beside a 1M)
    limit_of: Callable[[Row], float] | None = None  # a limit that depends on the row

    def check(self, row: Row) -> tuple[str, float | None]:
        value = row.get(self.field)
        if row["depth"] < self.min_depth:
            return f"not measured (n < {self.min_depth:,}: {self.hint})", value
        if value is None:
            return "no value", None
        limit = self.limit_of(row) if self.limit_of else self.limit
        met = value <= limit if self.at_most else value >= limit
        return ("met" if met else "MISSED"), value


def _rounded_to_batch(row: Row) -> float:
    """--max-messages rounded up to whole batches: what a run of one round may receive."""
    return float(math.ceil(row["work"] / BATCH) * BATCH)


TARGETS = [
    Target("scan", "scan ≥ 2,000 msg/s", "msg_per_s", 2000, at_most=False),
    Target("scan", "scan ≤ 0.22 req/msg", "req_per_msg", 0.22, at_most=True),
    Target("redrive", "redrive ≥ 1,000 msg/s", "msg_per_s", 1000, at_most=False),
    Target("redrive", "redrive ≤ 0.32 req/msg", "req_per_msg", 0.32, at_most=True),
    # Issue 13's, on the same rows.
    Target("scan", "scan ≥ 4,000 msg/s (issue 13)", "msg_per_s", 4000, at_most=False),
    Target("redrive", "redrive ≥ 2,500 msg/s (issue 13)", "msg_per_s", 2500, at_most=False),
    Target(
        "redrive",
        "redrive CPU ≤ 0.35 ms/msg (issue 13)",
        "client_cpu_ms_per_msg",
        0.35,
        at_most=True,
    ),
    Target("scan", "peak RSS < 200 MiB (100k scan)", "peak_rss_mib", 200, True, min_depth=100_000),
    *(
        Target(name, f"{name} CPU ≤ 0.3 ms/msg", "client_cpu_ms_per_msg", 0.3, at_most=True)
        for name in MAIN_SCENARIOS
    ),
    Target("fifo", "fifo ≥ 300 msg/s (50 groups)", "msg_per_s", 300, at_most=False),
    Target("stream", "stream ≤ 0.31 req/msg", "req_per_msg", 0.31, at_most=True),
    Target(
        "stream",
        "stream peak RSS < 200 MiB (1M)",
        "peak_rss_mib",
        200,
        True,
        min_depth=1_000_000,
        hint="run with --million",
        exact_depth=True,
    ),
    Target(
        "sample",
        "sample of a 1M DLQ < 30 s (issue 13)",
        "wall_s",
        30,
        True,
        min_depth=1_000_000,
    ),
    Target(
        "sample",
        "sample: true shares outside intervals",
        "shares_outside",
        0,
        True,
        min_depth=1_000_000,
    ),
    Target(
        "cap",
        "cap: received ≤ N rounded to 10",
        "messages_received",
        0,
        True,
        limit_of=_rounded_to_batch,
    ),
]


def add_ratios(rows: list[Row]) -> None:
    """dlqctl's throughput over each baseline's, measured in the same run."""
    for row in rows:
        if row["impl"] != "dlqctl" or row["scenario"] not in MAIN_SCENARIOS:
            continue
        for baseline in ("naive", "batched"):
            other = next(
                (r for r in rows if r["scenario"] == row["scenario"] and r["impl"] == baseline),
                None,
            )
            ratio = None
            if other and other["msg_per_s"] and row["msg_per_s"]:
                ratio = row["msg_per_s"] / other["msg_per_s"]
            row[f"x_{baseline}"] = ratio


def _label(row: Row) -> str:
    if row["impl"] == "dlqctl":
        return f"dlqctl, {row['lanes']}"
    return f"{row['impl']} boto3 loop"


def _n(row: Row) -> str:
    if row["sampled"]:
        return f"{row['work']:,} of {row['depth']:,} (sample)"
    return f"{row['work']:,}"


def _num(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        cells = [
            row["scenario"],
            _label(row) + ("" if row["ok"] else " **CHECK FAILED**"),
            _n(row),
            _num(row["req_per_msg"], 3),
            _num(row["msg_per_s"], 0),
            _num(row["client_cpu_ms_per_msg"], 3),
            _num(row["peak_rss_mib"], 0),
            "" if row["impl"] != "dlqctl" else _num(row.get("x_naive"), 1) + "×",
            "" if row["impl"] != "dlqctl" else _num(row.get("x_batched"), 2) + "×",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def hot_table(rows: list[Row]) -> str:
    lines = ["| scenario | client | n | CPU ms/msg | msg/s (CPU-bound) |", "|---|---|---|---|---|"]
    for row in rows:
        cells = [
            row["scenario"],
            _label(row),
            _n(row),
            _num(row["client_cpu_ms_per_msg"], 3),
            _num(row["msg_per_s"], 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def target_results(rows: list[Row]) -> list[dict[str, Any]]:
    results = []
    for target in TARGETS:
        candidates = [r for r in rows if r["scenario"] == target.scenario]
        candidates = [r for r in candidates if r["impl"] == "dlqctl"]
        if target.exact_depth and any(r["depth"] >= target.min_depth for r in candidates):
            candidates = [r for r in candidates if r["depth"] >= target.min_depth]
        for row in candidates:
            verdict, value = target.check(row)
            results.append(
                {
                    "target": target.what,
                    "n": row["work"],
                    "lanes": row["lanes"],
                    "value": value,
                    "verdict": verdict,
                }
            )
    return results


def targets_text(results: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {r['target']:<34} {_num(r['value'], 3):>9}  {r['verdict']}  "
        f"[n {r['n']:,}, {r['lanes']}]"
        for r in results
    )


def load_text(rows: list[Row]) -> str:
    """The machine's 1-minute load average around the runs: other work on the same two
    cores slows every figure here, so it is printed with them."""
    loads = [value for row in rows for value in row.get("load_1m", [])]
    if not loads:
        return ""
    return (
        f"1-minute load average around the runs: {min(loads):.1f} to {max(loads):.1f} "
        f"(one bench run keeps about 1 of the {os.cpu_count()} CPUs busy)."
    )


def _ops(row: Row, *names: str) -> str:
    by_operation = row["requests_by_operation"]
    return " / ".join(f"{by_operation.get(name, 0):,}" for name in names)


def fifo_table(rows: list[Row]) -> str:
    chosen = [r for r in rows if r["scenario"] == "fifo"]
    if not chosen:
        return ""
    lines = [
        "| n | groups | client | receive / send / delete requests | req/msg | msg/s "
        "| CPU ms/msg | peak RSS MiB | order kept |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in chosen:
        checks = row["checks"]
        order = checks.get("every group's order kept in the target")
        cells = [
            f"{row['work']:,}",
            str(row["fifo_groups"]),
            _label(row) + ("" if row["ok"] else " **CHECK FAILED**"),
            _ops(row, "ReceiveMessage", "SendMessageBatch", "DeleteMessageBatch"),
            _num(row["req_per_msg"], 3),
            _num(row["msg_per_s"], 0),
            _num(row["client_cpu_ms_per_msg"], 3),
            _num(row["peak_rss_mib"], 0),
            "yes" if order else "NO",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def stream_table(rows: list[Row]) -> str:
    chosen = [r for r in rows if r["scenario"] == "stream"]
    if not chosen:
        return ""
    lines = [
        "| n | client | req/msg | msg/s | wall s | CPU ms/msg | dlqctl process: peak RSS MiB "
        "| before the run | RSS at 0/50/100 % | simulator process: peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in chosen:
        timeline = row.get("rss_timeline_mib") or []
        points = [timeline[i] for i in (0, 5, 10)] if len(timeline) == 11 else []
        sim_peak = row.get("simulator_peak_rss_mib")
        cells = [
            f"{row['work']:,}",
            _label(row) + ("" if row["ok"] else " **CHECK FAILED**"),
            _num(row["req_per_msg"], 3),
            _num(row["msg_per_s"], 0),
            _num(row["wall_s"], 0),
            _num(row["client_cpu_ms_per_msg"], 3),
            _num(row["peak_rss_mib"], 0),
            _num(row["rss_before_run_mib"], 0),
            " / ".join(f"{p:.0f}" for p in points),
            _num(sim_peak, 0) + ("" if row["sim_process"] else " (in-process)"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cap_table(rows: list[Row]) -> str:
    chosen = [r for r in rows if r["scenario"] == "cap"]
    if not chosen:
        return ""
    lines = [
        "| --max-messages | DLQ depth | ReceiveMessage requests | messages asked for "
        "| messages received | moved | all requests | wall s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in chosen:
        cells = [
            f"{row['work']:,}" + ("" if row["ok"] else " **CHECK FAILED**"),
            f"{row['depth']:,}",
            f"{row['receive_calls']:,}",
            f"{row['messages_asked']:,}",
            f"{row['messages_received']:,}",
            f"{row['done']:,}",
            f"{row['requests']:,} ({_request_list(row)})",
            _num(row["wall_s"], 2),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _request_list(row: Row) -> str:
    return ", ".join(f"{name} {count}" for name, count in row["requests_by_operation"].items())


def sample_table(rows: list[Row]) -> str:
    """inspect --sample: each error type's estimated share, its 95 % interval and the
    truth (the seeded mix, counted over the whole DLQ)."""
    chosen = [r for r in rows if r["scenario"] == "sample" and "truth" in r]
    if not chosen:
        return ""
    lines = [
        "| DLQ depth | sample | wall s | requests | error type | estimated share "
        "| 95 % interval | true share | inside |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in chosen:
        for i, share in enumerate(row["by_error_type"]):
            first = [
                f"{row['depth']:,}" + ("" if row["ok"] else " **CHECK FAILED**"),
                f"{row['sample_size']:,}",
                _num(row["wall_s"], 1),
                f"{row['requests']:,}",
            ]
            cells = (first if i == 0 else [""] * len(first)) + [
                share["value"],
                f"{share['share']:.2%}",
                f"{share['low']:.2%} – {share['high']:.2%}",
                f"{share['true_share']:.2%}",
                "yes" if share["inside"] else "NO",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


EXTRA_TABLES: list[tuple[str, Callable[[list[Row]], str]]] = [
    ("FIFO redrive: the whole DLQ in one run, group by group.", fifo_table),
    (
        "Standard redrive at depth, the simulator in a process of its own (RSS is dlqctl's).",
        stream_table,
    ),
    ("--max-messages N: what a capped run receives.", cap_table),
    ("inspect --sample N: the estimate against the truth.", sample_table),
]


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "boto3": metadata.version("boto3"),
        "botocore": metadata.version("botocore"),
        "dlqctl": metadata.version("dlqctl"),
        "repo_head": _git_revision(),
    }


def _git_revision() -> str | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+uncommitted src changes" if dirty else "")


def document(rows: list[Row], parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": parameters,
        "rows": rows,
        "targets": target_results(rows),
    }


# -- peers over HTTP and start-up ------------------------------------------------------

RICH_TYPES = ("String", "Number", "Binary", "Number.int", "String.custom")


def _kept(row: Row) -> str:
    intact = row["intact"]
    copies = intact["copies"] or 1
    return " / ".join(
        "all"
        if intact["kept_by_type"].get(kind, 0) == intact["copies"] and intact["copies"]
        else f"{intact['kept_by_type'].get(kind, 0) * 100 / copies:.0f} %"
        for kind in RICH_TYPES
    )


def peers_table(result: dict[str, Any]) -> str:
    """Every client's row beside dlqctl's, each as a ratio to dlqctl's of the same run."""
    lines = [
        "| client | n | req/msg | msg/s (command) | msg/s (active) | CPU ms/msg "
        "| peak RSS MiB | bodies intact | attributes kept: "
        + " / ".join(RICH_TYPES)
        + " | dlqctl's msg/s × (command / active) | req/msg ÷ dlqctl's |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        if not row.get("measured"):
            lines.append(
                f"| {row['label']} | {row['n']:,} | not measured: {row['reason']} | | | | | | | | |"
            )
            continue
        failed = "" if row["ok"] else f" **FAILED: {row['reason']}**"
        intact = row["intact"]
        ours = row["peer"] == "dlqctl"
        speedup = (
            ""
            if ours
            else f"{_num(row.get('dlqctl_speedup'), 2)}× / {_num(row.get('dlqctl_speedup_active'), 2)}×"
        )
        cells = [
            row["label"] + failed,
            f"{row['n']:,}",
            _num(row["req_per_msg"], 3),
            _num(row["msg_per_s"], 0),
            _num(row["msg_per_s_active"], 0),
            _num(row["cpu_ms_per_msg"], 2),
            _num(row["peak_rss_mib"], 0),
            f"{intact['bodies_intact']:,} of {intact['copies']:,}",
            _kept(row),
            speedup,
            "" if ours else _num(row.get("req_ratio"), 2) + "×",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def peer_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 13: ahead of every peer on msg/s at equal or lower requests per message,
    judged on the active window (start-up apart) and on the whole command."""
    rows = result["rows"]
    ours = next((r for r in rows if r["peer"] == "dlqctl" and r.get("measured")), None)
    verdicts: list[dict[str, Any]] = []
    for row in rows:
        if not row.get("outside"):  # dlqctl itself, and the bench's own boto3 loops
            continue
        what = f"ahead of {row['label']}"
        if ours is None or not ours["ok"]:
            verdicts.append({"target": what, "verdict": "not measured (dlqctl's row failed)"})
            continue
        if not row.get("measured") or not row["ok"] or not row["msg_per_s"]:
            verdicts.append({"target": what, "verdict": f"not measured: {row.get('reason')}"})
            continue
        fewer = ours["req_per_msg"] <= row["req_per_msg"] + 1e-9
        for window, field in (("active", "msg_per_s_active"), ("command", "msg_per_s")):
            faster = (ours[field] or 0) > (row[field] or 0)
            verdicts.append(
                {
                    "target": f"{what} ({window})",
                    "dlqctl": [ours[field], ours["req_per_msg"]],
                    "peer": [row[field], row["req_per_msg"]],
                    "verdict": "met" if faster and fewer else "MISSED",
                }
            )
    return verdicts


def peer_targets_text(verdicts: list[dict[str, Any]]) -> str:
    lines = []
    for v in verdicts:
        if "dlqctl" not in v:
            lines.append(f"  {v['target']:<48} {v['verdict']}")
            continue
        (ours, our_req), (theirs, their_req) = v["dlqctl"], v["peer"]
        lines.append(
            f"  {v['target']:<48} {_num(ours, 0):>6} vs {_num(theirs, 0):>6} msg/s, "
            f"{our_req:.3f} vs {their_req:.3f} req/msg  {v['verdict']}"
        )
    return "\n".join(lines)
