"""How long dlqctl takes to start: `--version`, `--help` and a shell-completion request,
each run repeatedly as a fresh process, as a shell runs them (issue 16: 150 ms).

A completion request is what bash runs at each Tab: the program started with
`_DLQCTL_COMPLETE=complete_bash COMP_WORDS='dlqctl re' COMP_CWORD=1`, printing the
candidates; zsh's (`complete_zsh`, `_TYPER_COMPLETE_ARGS`) also prints each option's
help, which loads Rich. Wall time per run from the parent (process start to exit), median and 90th
percentile; the first run of each is a warm-up for the page cache and is not counted.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_MS = 150.0
RUNS = 20

COMMANDS: tuple[tuple[str, list[str], dict[str, str]], ...] = (
    ("dlqctl --version", ["--version"], {}),
    ("dlqctl --help", ["--help"], {}),
    (
        "completion of `dlqctl re`",
        [],
        {"_DLQCTL_COMPLETE": "complete_bash", "COMP_WORDS": "dlqctl re", "COMP_CWORD": "1"},
    ),
    (
        "zsh completion of `dlqctl inspect --`",
        [],
        {"_DLQCTL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "dlqctl inspect --"},
    ),
)


def _environment(src: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DLQCTL_"))}
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "COLUMNS": "80", "NO_COLOR": "1"})
    if src:
        env["PYTHONPATH"] = str(src)  # ahead of the editable install's src/
    return env


def measure(runs: int = RUNS, src: Path | None = None) -> list[dict[str, Any]]:
    program = str(Path(sys.executable).with_name("dlqctl"))
    base = _environment(src)
    rows = []
    for label, args, extra in COMMANDS:
        env = {**base, **extra}
        times, output, failed = [], "", None
        for number in range(runs + 1):
            started = time.perf_counter()
            done = subprocess.run([program, *args], env=env, capture_output=True, text=True)
            elapsed_ms = (time.perf_counter() - started) * 1000
            if done.returncode != 0:
                failed = f"exit {done.returncode}: {done.stderr.strip()[-200:]}"
                break
            output = done.stdout
            if number:  # the first run warms the page cache
                times.append(elapsed_ms)
        row: dict[str, Any] = {"command": label, "runs": len(times), "target_ms": TARGET_MS}
        if failed or not output.strip():
            row.update(ok=False, reason=failed or "printed nothing")
        else:
            row.update(
                ok=True,
                median_ms=round(statistics.median(times), 1),
                p90_ms=round(statistics.quantiles(times, n=10)[8], 1),
                min_ms=round(min(times), 1),
                output_head=output.strip().splitlines()[0][:80],
            )
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| command | runs | median ms | p90 ms | fastest ms | target | first line printed |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if not row["ok"]:
            lines.append(f"| {row['command']} | {row['runs']} | FAILED: {row['reason']} |||||")
            continue
        verdict = "met" if row["p90_ms"] <= TARGET_MS else "MISSED"
        lines.append(
            f"| {row['command']} | {row['runs']} | {row['median_ms']:,.0f} | "
            f"{row['p90_ms']:,.0f} | {row['min_ms']:,.0f} | ≤ {TARGET_MS:.0f} ms (p90): "
            f"{verdict} | `{row['output_head']}` |"
        )
    return "\n".join(lines)
