"""The three scenarios as dlqctl runs them, through its public Python API.

Each returns how many messages it handled; the caller checks the queues afterwards, so a
fast run that skipped work cannot pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import boto3

from bench.content import DLQ
from bench.lanes import Lanes
from bench.sim import SimTransport
from dlqctl import Dlqctl, Settings, build_filter
from dlqctl.aws.session import AwsSession
from dlqctl.config import DEFAULT_MAX_SCAN
from dlqctl.core.redrive import RedriveOptions

REDRIVE_ERROR_TYPE = "Timeout"


@dataclass(frozen=True)
class Scenario:
    name: str
    floor: float  # SQS requests per message that no client can beat (issue 6)
    what: str


SCENARIOS = {
    "scan": Scenario("scan", 0.2, "inspect: receive 10 + release 10 per 10 messages"),
    "redrive": Scenario(
        "redrive",
        0.3,
        f"redrive --error-type {REDRIVE_ERROR_TYPE}: receive, send batch, delete batch",
    ),
    "export": Scenario("export", 0.2, "export to JSONL: receive, write, release"),
}


def dlqctl_api(transport: SimTransport, work: int, lanes: Lanes) -> Dlqctl:
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
        region_name=transport.service.region,
    )
    client = AwsSession(settings, session=boto).client("sqs")
    transport.attach(client)
    # Warm up: botocore loads the SQS model on the first call; a one-off, not per message.
    client.get_queue_url(QueueName=DLQ)
    return Dlqctl(settings, clients={"sqs": client})


def run_scan(api: Dlqctl, work: int, lanes: Lanes, tmp: Path) -> int:
    report = api.inspect(DLQ, max_scan=work, **lanes.call)
    if report.matched != report.coverage.scanned:
        raise RuntimeError(f"inspect matched {report.matched} of {report.coverage.scanned}")
    return report.coverage.scanned


def run_redrive(api: Dlqctl, work: int, lanes: Lanes, tmp: Path) -> int:
    options = RedriveOptions(max_messages=work, force=True, **lanes.options)
    report = api.redrive(
        DLQ,
        build_filter(error_types=[REDRIVE_ERROR_TYPE]),
        options,
        journal=tmp / "journal.jsonl",
        **lanes.call,
    )
    # Failures (only under injected faults) are not raised: the queue checks judge them.
    return report.deleted


def run_export(api: Dlqctl, work: int, lanes: Lanes, tmp: Path) -> int:
    out = tmp / "export.jsonl"
    report = api.export(DLQ, out, max_scan=work, **lanes.call)
    with out.open() as lines:
        written = sum(1 for _ in lines)
    if written != report.exported:
        raise RuntimeError(f"export wrote {written} lines for {report.exported} messages")
    return report.exported


RUNNERS = {"scan": run_scan, "redrive": run_redrive, "export": run_export}
