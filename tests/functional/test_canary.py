"""The canary and the circuit breaker: stop when redriven messages fail again."""

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dlqctl import Dlqctl, Settings
from dlqctl.core.idempotency import body_sha256, idempotency_key
from dlqctl.core.redrive import RedriveOptions, exit_code
from dlqctl.errors import ExitCode
from dlqctl.pipeline import spec

from ..conftest import Pipeline, make_ledger


def seed(pipeline: Pipeline, n: int) -> list[str]:
    bodies = [json.dumps({"n": i}) for i in range(n)]
    for body in bodies:
        pipeline.put(body, "Timeout")
    return bodies


class FailingPipeline:
    """Plays a pipeline whose root cause is not fixed: whatever reaches the source queue
    fails again and comes back to the DLQ, each time dlqctl waits."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        sqs = self.pipeline.sqs
        for m in sqs.receive_message(QueueUrl=self.pipeline.source_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            sqs.send_message(QueueUrl=self.pipeline.dlq_url, MessageBody=m["Body"])
            sqs.delete_message(QueueUrl=self.pipeline.source_url, ReceiptHandle=m["ReceiptHandle"])


def test_canary_passes_when_nothing_comes_back(pipeline: Pipeline) -> None:
    seed(pipeline, 12)
    waits: list[float] = []
    report = Dlqctl(sleep=waits.append).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, canary=2, canary_wait_s=12)
    )
    assert report.canary is not None and report.canary.passed
    assert (report.canary.size, report.canary.came_back, report.canary.waited_s) == (2, 0, 12)
    assert waits == [5, 5, 2]
    assert report.deleted == 12 and exit_code(report) is ExitCode.OK


def test_canary_that_comes_back_stops_the_run(pipeline: Pipeline) -> None:
    seed(pipeline, 12)
    report = Dlqctl(sleep=FailingPipeline(pipeline)).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, canary=3, canary_wait_s=5)
    )
    assert report.canary is not None and not report.canary.passed
    assert report.canary.came_back == 3
    assert report.stopped_because == "canary failed: 3 of 3 canaries failed again"
    assert (report.deleted, exit_code(report)) == (3, ExitCode.REFUSED)
    assert pipeline.counts() == (12, 0)  # 9 never left, 3 came back; nothing held
    assert pipeline.counts(pipeline.source_url) == (0, 0)


@pytest.fixture
def ledger(pipeline: Pipeline) -> Any:
    return make_ledger("ledger")


def mark(dynamodb: Any, body: str, status: str, at: datetime | None = None) -> None:
    stamp = {"S": (at or datetime.now(UTC)).isoformat()}
    dynamodb.put_item(
        TableName="ledger",
        Item={
            spec.LEDGER_KEY: {"S": idempotency_key(body)},
            spec.LEDGER_STATUS: {"S": status},
            spec.LEDGER_LAST_FAILED_AT: stamp,
            spec.LEDGER_COMPLETED_AT: stamp,
        },
    )


def test_canaries_completed_before_the_run_prove_nothing(pipeline: Pipeline, ledger: Any) -> None:
    bodies = seed(pipeline, 4)
    for body in bodies:
        mark(ledger, body, "COMPLETED", at=datetime.now(UTC) - timedelta(hours=1))
    report = Dlqctl(Settings(ledger_table="ledger"), sleep=lambda s: None).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, canary=2, canary_wait_s=10)
    )
    assert report.canary is not None and not report.canary.passed
    assert report.canary.detail == "only 0 of 2 canaries reached COMPLETED in the ledger"
    assert report.deleted == 2 and pipeline.counts() == (2, 0)


def test_canary_completed_in_the_ledger_ends_the_wait_early(
    pipeline: Pipeline, ledger: Any
) -> None:
    bodies = seed(pipeline, 6)
    waits: list[float] = []

    def worker(seconds: float) -> None:
        waits.append(seconds)
        for body in bodies:
            mark(ledger, body, "COMPLETED")

    report = Dlqctl(Settings(ledger_table="ledger"), sleep=worker).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, canary=2, canary_wait_s=600)
    )
    assert (
        report.canary is not None and report.canary.passed and report.canary.ledger_completed == 2
    )
    assert waits == [5]
    assert report.deleted == 6


def test_canary_failed_in_the_ledger_stops_the_run(pipeline: Pipeline, ledger: Any) -> None:
    bodies = seed(pipeline, 6)

    def worker(seconds: float) -> None:
        for body in bodies:
            mark(ledger, body, "FAILED")

    report = Dlqctl(Settings(ledger_table="ledger"), sleep=worker).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, canary=2, canary_wait_s=600)
    )
    assert report.canary is not None and not report.canary.passed
    assert "2 of 2 canaries failed again" in (report.stopped_because or "")
    assert report.deleted == 2 and pipeline.counts() == (4, 0)


def test_dry_run_predicts_outcomes_from_the_ledger(pipeline: Pipeline, ledger: Any) -> None:
    bodies = seed(pipeline, 3)
    mark(ledger, bodies[0], "COMPLETED")
    mark(ledger, bodies[1], "INFLIGHT")
    plan = Dlqctl(Settings(ledger_table="ledger")).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, dry_run=True)
    )
    by_sha = {p.body_sha256: p.predicted_outcome for p in plan.planned}
    assert [by_sha[body_sha256(b)] for b in bodies] == [
        "no-op (already COMPLETED)",
        "may collide (INFLIGHT)",
        "will run",
    ]
    pipeline.assert_untouched(3)


def test_circuit_breaker_stops_when_redriven_messages_fail_again(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlqctl.aws.sqs import SqsGateway

    seed(pipeline, 40)
    real_send = SqsGateway.send_batch

    def send_and_fail_again(self: SqsGateway, url: str, entries: Any) -> Any:
        result = real_send(self, url, entries)
        FailingPipeline(pipeline)(0)  # every send fails again at once and lands in the DLQ
        return result

    monkeypatch.setattr(SqsGateway, "send_batch", send_and_fail_again)
    report = Dlqctl(sleep=lambda s: None).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, batch_size=2, stop_after_failures=5)
    )
    match = re.fullmatch(
        r"circuit breaker: (\d+) redriven messages failed again", report.stopped_because or ""
    )
    assert match is not None
    # Checked every 10 batches (rounded up to whole rounds of parallel batches): it stopped
    # long before the end, and every message it moved came straight back.
    assert 20 <= report.deleted == int(match.group(1)) < 40
    assert exit_code(report) is ExitCode.REFUSED
    assert pipeline.counts()[1] == 0
