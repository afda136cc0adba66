"""The closing table, the targets of issue 6, and the JSON written beside them."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.scenarios import SCENARIOS

Row = dict[str, Any]

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
    min_depth: int = 0  # the RSS target is about a 100,000-message scan

    def check(self, row: Row) -> tuple[str, float | None]:
        value = row.get(self.field)
        if row["depth"] < self.min_depth:
            return f"not measured (n < {self.min_depth:,}: run without --quick)", value
        if value is None:
            return "no value", None
        met = value <= self.limit if self.at_most else value >= self.limit
        return ("met" if met else "MISSED"), value


TARGETS = [
    Target("scan", "scan ≥ 2,000 msg/s", "msg_per_s", 2000, at_most=False),
    Target("scan", "scan ≤ 0.22 req/msg", "req_per_msg", 0.22, at_most=True),
    Target("redrive", "redrive ≥ 1,000 msg/s", "msg_per_s", 1000, at_most=False),
    Target("redrive", "redrive ≤ 0.32 req/msg", "req_per_msg", 0.32, at_most=True),
    Target("scan", "peak RSS < 200 MiB (100k scan)", "peak_rss_mib", 200, True, min_depth=100_000),
    *(
        Target(name, f"{name} CPU ≤ 0.3 ms/msg", "client_cpu_ms_per_msg", 0.3, at_most=True)
        for name in SCENARIOS
    ),
]


def add_ratios(rows: list[Row]) -> None:
    """dlqctl's throughput over each baseline's, measured in the same run."""
    for row in rows:
        if row["impl"] != "dlqctl":
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
        for row in rows:
            if row["scenario"] != target.scenario or row["impl"] != "dlqctl":
                continue
            verdict, value = target.check(row)
            results.append(
                {"target": target.what, "lanes": row["lanes"], "value": value, "verdict": verdict}
            )
    return results


def targets_text(results: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {r['target']:<32} {_num(r['value'], 3):>9}  {r['verdict']}  [{r['lanes']}]"
        for r in results
    )


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
