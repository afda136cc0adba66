"""The scenarios as dlqctl runs them, through its public Python API.

Each returns how many messages it handled; the caller checks the queues afterwards, so a
fast run that skipped work cannot pass.

- scan, redrive, export: the three of issue 6, each beside two plain boto3 baselines.
- fifo: a whole FIFO DLQ (50 message groups) redriven to its FIFO source in one run; the
  checks read the source queue back and require every group's order to be kept.
- stream: a standard redrive of 100,000 (and with --million, 1,000,000) messages, with
  the simulator in a process of its own so that peak RSS is dlqctl's process alone.
- cap: `--max-messages N` on a deep DLQ, counting what the run received.
- sample: `inspect --sample N` of a 1,000,000-message DLQ with an uneven mix of error
  types; the checks compare each estimated share's 95 % interval with the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from bench.content import STANDARD, Layout
from bench.lanes import Lanes
from dlqctl import Dlqctl, Settings, build_filter
from dlqctl.aws.session import AwsSession
from dlqctl.config import DEFAULT_MAX_SCAN

try:  # where RedriveOptions lives since the streaming engine; before it, core/redrive.py
    from dlqctl.core.guardrails import RedriveOptions
except ImportError:  # pragma: no cover - only for --dlqctl-rev of older commits
    from dlqctl.core.redrive import RedriveOptions  # type: ignore[no-redef,attr-defined]

REDRIVE_ERROR_TYPE = "Timeout"
FIFO_GROUPS = 50
CAPS = (1, 25)  # the cap scenario's --max-messages values


@dataclass(frozen=True)
class Scenario:
    name: str
    floor: float  # SQS requests per message that no client can beat (issue 6)
    what: str
    layout: Layout = STANDARD
    redrive: bool = False  # moves messages (seeded with one error type, all matching)
    baselines: bool = False  # run the naive and batched boto3 loops beside it
    hot_cpu: bool = False  # run dlqctl once more without waits
    sim_process: bool = False  # the simulator in a process of its own (RSS is dlqctl's)
    mixed: bool = False  # seeded with content.MIX (uneven, random), not in turns


SCENARIOS = {
    "scan": Scenario(
        "scan",
        0.2,
        "inspect: receive 10 + release 10 per 10 messages",
        baselines=True,
        hot_cpu=True,
    ),
    "redrive": Scenario(
        "redrive",
        0.3,
        f"redrive --error-type {REDRIVE_ERROR_TYPE}: receive, send batch, delete batch",
        redrive=True,
        baselines=True,
        hot_cpu=True,
    ),
    "export": Scenario(
        "export",
        0.2,
        "export to JSONL: receive, write, release",
        baselines=True,
        hot_cpu=True,
    ),
    "fifo": Scenario(
        "fifo",
        0.3,
        f"FIFO redrive, {FIFO_GROUPS} groups, the whole DLQ in one run, order kept",
        layout=Layout(fifo=True, groups=FIFO_GROUPS),
        redrive=True,
    ),
    "stream": Scenario(
        "stream",
        0.3,
        "standard redrive at depth, simulator in its own process: bounded memory",
        redrive=True,
        sim_process=True,
    ),
    "cap": Scenario(
        "cap",
        0.3,
        "redrive --max-messages N of a deep DLQ: receives sized to the cap",
        redrive=True,
    ),
    "sample": Scenario(
        "sample",
        0.2,
        "inspect --sample N of a deep DLQ: shares with 95 % intervals, against the truth",
        mixed=True,
    ),
}
# What a runner may add to its row besides the count (the sample's estimate).
Extra = dict[str, Any]


def error_type_of(scenario: str) -> str | None:
    """The redrive scenarios seed every message with the type they select."""
    return REDRIVE_ERROR_TYPE if SCENARIOS[scenario].redrive else None


def region_of(transport: Any) -> str:
    """The simulated region: SimTransport's service's, or the remote simulator's."""
    region = getattr(transport, "region", None)
    return str(region or transport.service.region)


def dlqctl_api(
    transport: Any,
    work: int,
    lanes: Lanes,
    layout: Layout = STANDARD,
    on_client: Callable[[Any], None] | None = None,
) -> Dlqctl:
    """dlqctl as a user gets it, its SQS client wired to the simulator.

    The client is built by dlqctl's own AwsSession from the settings, so its retries, pool
    and validation are dlqctl's, then attached to the transport. Explicit settings: no
    config file or DLQCTL_* variable of the machine can change a run; everything else is
    dlqctl's default (receive wait 1 s, hold sized to the scan, lanes unless asked).
    """
    settings = Settings(max_scan=max(work, DEFAULT_MAX_SCAN), **lanes.settings)
    boto = boto3.session.Session(
        aws_access_key_id="simulated",
        aws_secret_access_key="simulated",
        region_name=region_of(transport),
    )
    client = AwsSession(settings, session=boto).client("sqs")
    transport.attach(client)
    if on_client:
        on_client(client)
    # Warm up: botocore loads the SQS model on the first call; a one-off, not per message.
    client.get_queue_url(QueueName=layout.dlq)
    return Dlqctl(settings, clients={"sqs": client})


def run_scan(api: Dlqctl, work: int, lanes: Lanes, tmp: Path, layout: Layout) -> int:
    report = api.inspect(layout.dlq, max_scan=work, **lanes.call)
    if report.matched != report.coverage.scanned:
        raise RuntimeError(f"inspect matched {report.matched} of {report.coverage.scanned}")
    return report.coverage.scanned


def run_redrive(api: Dlqctl, work: int, lanes: Lanes, tmp: Path, layout: Layout) -> int:
    options = RedriveOptions(max_messages=work, force=True, **lanes.options)
    report = api.redrive(
        layout.dlq,
        build_filter(error_types=[REDRIVE_ERROR_TYPE]),
        options,
        journal=tmp / "journal.jsonl",
        **lanes.call,
    )
    # Failures (only under injected faults) are not raised: the queue checks judge them.
    return report.deleted


def run_export(api: Dlqctl, work: int, lanes: Lanes, tmp: Path, layout: Layout) -> int:
    out = tmp / "export.jsonl"
    report = api.export(layout.dlq, out, max_scan=work, **lanes.call)
    with out.open() as lines:
        written = sum(1 for _ in lines)
    if written != report.exported:
        raise RuntimeError(f"export wrote {written} lines for {report.exported} messages")
    return report.exported


def run_sample(
    api: Dlqctl, work: int, lanes: Lanes, tmp: Path, layout: Layout
) -> tuple[int, Extra]:
    report = api.inspect(layout.dlq, sample=work, **lanes.call)
    if report.estimate is None:
        raise RuntimeError("inspect --sample gave no estimate")
    estimate = report.estimate
    shares = [share.model_dump(mode="json") for share in estimate.by_error_type]
    extra = {"sample_size": estimate.sample_size, "population": estimate.population}
    return report.coverage.scanned, {**extra, "by_error_type": shares}


RUNNERS: dict[str, Callable[[Dlqctl, int, Lanes, Path, Layout], int | tuple[int, Extra]]] = {
    "scan": run_scan,
    "redrive": run_redrive,
    "export": run_export,
    "fifo": run_redrive,
    "stream": run_redrive,
    "cap": run_redrive,
    "sample": run_sample,
}
