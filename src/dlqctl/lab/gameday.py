"""`lab demo`: one unattended DLQ GameDay, start to finish, in this process.

Poison payloads and a timeout burst fill the DLQ; dlqctl inspects it, plans a redrive,
and — once the failure mode is back to `none` — redrives the transient failures behind a
canary. They reach COMPLETED in the ledger; the poison stays in the DLQ for a person to
look at. The server and the poller are threads of this process, so nothing outlives it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dlqctl.api import Dlqctl
from dlqctl.config import Settings
from dlqctl.core.classify import TIMEOUT
from dlqctl.core.filters import build_filter
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.core.journal import read_journal
from dlqctl.errors import AwsError
from dlqctl.lab.environment import (
    REGION,
    LabResources,
    client,
    create_resources,
    environment,
    set_failure_mode,
)
from dlqctl.lab.logs import pipeline_logs_to
from dlqctl.lab.poller import Poller
from dlqctl.lab.server import ThreadedServer
from dlqctl.lab.traffic import send_orders
from dlqctl.pipeline import ingest, spec, worker

Show = Callable[[object], None]


@dataclass(frozen=True)
class GameDaySummary:
    sent: int
    poison: int
    reached_dlq: int
    redriven: int
    recovered: int
    left_in_dlq: int
    seconds: float


@contextmanager
def running_lab(show: Show, log: Path) -> Iterator[LabResources]:
    """Server, resources and poller for the length of the block; all stopped after it."""
    saved = dict(os.environ)
    stop = threading.Event()
    with pipeline_logs_to(log):
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # EMF lines would fill the terminal
        server = ThreadedServer()
        endpoint = server.start()
        thread: threading.Thread | None = None
        try:
            resources = create_resources(endpoint)
            os.environ.update(environment(endpoint, resources))
            worker.reset()
            ingest.reset()
            sqs = client("sqs", endpoint)
            poller = Poller(sqs, resources.queue_url, resources.queue_arn, worker.handler)
            thread = threading.Thread(
                target=poller.run, args=(stop,), name="lab-poller", daemon=True
            )
            thread.start()
            # One clause a line: the demo reads whole at 80 columns (the log path is long).
            show(
                f"lab up at {endpoint}\n"
                f"   {spec.MAIN_QUEUE_NAME} → worker → {spec.DLQ_NAME} after "
                f"{spec.MAX_RECEIVE_COUNT} receives\n"
                f"   worker log: {log}"
            )
            yield resources
        finally:
            stop.set()
            if thread is not None:
                thread.join(spec.LAB_WORKER_TIMEOUT_S + 5)
            server.stop()
            os.environ.clear()
            os.environ.update(saved)
            worker.reset()
            ingest.reset()
            show("lab down: nothing left running")


def wait_for(what: str, check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AwsError(f"GameDay stalled: {what} did not happen within {timeout_s:.0f}s")
        time.sleep(0.5)


def run_gameday(
    show: Show,
    *,
    orders: int = 24,
    poison_ratio: float = 0.25,
    burst: int = 8,
    workdir: Path,
) -> GameDaySummary:
    """The whole GameDay; the worker's log and the redrive's journal go to `workdir`."""
    started = time.monotonic()
    journal = workdir / "demo-journal.jsonl"
    with running_lab(show, workdir / "demo-worker.log") as lab:
        sqs = client("sqs", lab.endpoint)

        def dlq_depth() -> int:
            attributes = sqs.get_queue_attributes(QueueUrl=lab.dlq_url, AttributeNames=["All"])[
                "Attributes"
            ]
            return int(attributes["ApproximateNumberOfMessages"])

        cycle = spec.MAX_RECEIVE_COUNT * spec.LAB_VISIBILITY_S + 20  # the slowest path into the DLQ

        show(
            f"1. failure mode `poison`; {orders} orders, {round(orders * poison_ratio)} of them poison"
        )
        set_failure_mode(lab.endpoint, "poison")
        first = send_orders(orders, poison_ratio, seed=1)
        wait_for("the poison reaching the DLQ", lambda: dlq_depth() >= first.poison, cycle)
        show(
            f"   the DLQ holds {dlq_depth()}: each poison message failed {spec.MAX_RECEIVE_COUNT} times"
        )

        show(f"2. failure mode `timeout`; {burst} more orders: the worker runs past its deadline")
        set_failure_mode(lab.endpoint, "timeout")
        time.sleep(spec.LAB_FAILURE_MODE_CACHE_S + 0.5)
        second = send_orders(burst, 0.0, seed=2)
        expected = first.poison + second.accepted
        wait_for("the timeouts reaching the DLQ", lambda: dlq_depth() >= expected, cycle)

        dlqctl = Dlqctl(
            Settings(
                endpoint_url=lab.endpoint,
                region=REGION,
                ledger_table=lab.table,
                worker_timeout_s=spec.LAB_WORKER_TIMEOUT_S,
                receive_wait_s=1,
                concurrency=1,  # moto is not thread-safe: one request at a time
            )
        )
        show("3. dlqctl inspect: what failed, and why")
        show(dlqctl.inspect(lab.dlq_url))
        transient = build_filter(error_types=[TIMEOUT])
        show("4. dlqctl redrive --error-type Timeout --dry-run")
        show(dlqctl.redrive(lab.dlq_url, transient, RedriveOptions(dry_run=True)))

        show("5. root cause fixed: failure mode back to `none`")
        set_failure_mode(lab.endpoint, "none")
        time.sleep(spec.LAB_FAILURE_MODE_CACHE_S + 0.5)
        show(
            "6. dlqctl redrive --error-type Timeout --canary 2 --canary-wait 20s \\\n"
            "      --rate 20 --jitter 2s"
        )
        options = RedriveOptions(canary=2, canary_wait_s=20, rate=20, jitter_s=2)
        report = dlqctl.redrive(lab.dlq_url, transient, options, journal=journal)
        show(report)

        ledger = dlqctl.aws.ledger(lab.table)
        keys = {
            sent["idempotency_key"]
            for record in read_journal(journal)
            if record.get("run_id") == report.run_id and record["kind"] == "batch"
            for sent in record["sent"]
        }
        completed = [0]

        def all_completed() -> bool:
            items = ledger.get_many(keys)
            completed[0] = sum(
                1
                for item in items.values()
                if item.get(spec.LEDGER_STATUS) == spec.STATUS_COMPLETED
            )
            return completed[0] >= len(keys)

        wait_for("the redriven messages completing", all_completed, 30)
        left = dlq_depth()
        show(
            f"7. {completed[0]} redriven messages reached COMPLETED; {left} poison messages stay in the DLQ"
        )
        return GameDaySummary(
            sent=first.accepted + second.accepted,
            poison=first.poison,
            reached_dlq=expected,
            redriven=report.deleted,
            recovered=completed[0],
            left_in_dlq=left,
            seconds=round(time.monotonic() - started, 1),
        )
