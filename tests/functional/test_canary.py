"""The canary and the circuit breaker: stop when redriven messages fail again."""

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dlqctl import Dlqctl, Settings
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.core.idempotency import body_sha256, idempotency_key
from dlqctl.core.outcome import exit_code
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
    fails again, each time dlqctl waits. Its consumer receives every message
    maxReceiveCount times without deleting it, so SQS's redrive policy moves it back to
    the DLQ under the same message id, as SQS does."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        for _ in range(4):  # maxReceiveCount 3: the fourth receive moves it to the DLQ
            self.pipeline.sqs.receive_message(
                QueueUrl=self.pipeline.source_url, MaxNumberOfMessages=10, VisibilityTimeout=0
            )


def test_canary_passes_when_nothing_comes_back(pipeline: Pipeline) -> None:
    seed(pipeline, 12)
    waits: list[float] = []
    report = Dlqctl(sleep=waits.append).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, canary=2, canary_wait_s=12, force=True)
    )
    assert report.canary is not None and report.canary.passed
    assert (report.canary.size, report.canary.came_back, report.canary.waited_s) == (2, 0, 12)
    assert waits == [5, 5, 2]
    assert report.deleted == 12 and exit_code(report) is ExitCode.OK


def test_canary_that_comes_back_stops_the_run(pipeline: Pipeline) -> None:
    seed(pipeline, 12)
    report = Dlqctl(sleep=FailingPipeline(pipeline)).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, canary=3, canary_wait_s=5, force=True)
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
    report = Dlqctl(Settings(ledger_table="ledger", concurrency=1), sleep=lambda s: None).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, canary=2, canary_wait_s=10, force=True)
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

    report = Dlqctl(Settings(ledger_table="ledger", concurrency=1), sleep=worker).redrive(
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

    report = Dlqctl(Settings(ledger_table="ledger", concurrency=1), sleep=worker).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, canary=2, canary_wait_s=600)
    )
    assert report.canary is not None and not report.canary.passed
    assert "2 of 2 canaries failed again" in (report.stopped_because or "")
    assert report.deleted == 2 and pipeline.counts() == (4, 0)


def test_dry_run_predicts_outcomes_from_the_ledger(pipeline: Pipeline, ledger: Any) -> None:
    bodies = seed(pipeline, 3)
    mark(ledger, bodies[0], "COMPLETED")
    mark(ledger, bodies[1], "INFLIGHT")
    plan = Dlqctl(Settings(ledger_table="ledger", concurrency=1)).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, dry_run=True)
    )
    by_sha = {p.body_sha256: p.predicted_outcome for p in plan.planned}
    assert [by_sha[body_sha256(b)] for b in bodies] == [
        "no-op (already COMPLETED)",
        "may collide (INFLIGHT)",
        "will run",
    ]
    pipeline.assert_untouched(3)


def test_circuit_breaker_stops_when_redriven_messages_fail_in_the_ledger(
    pipeline: Pipeline, ledger: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlqctl.aws.sqs import SqsGateway

    bodies = seed(pipeline, 40)
    real_send = SqsGateway.send_batch

    def send_and_fail_again(self: SqsGateway, url: str, entries: Any) -> Any:
        result = real_send(self, url, entries)
        for entry in entries:  # the worker fails each copy at once and says so
            mark(ledger, entry["MessageBody"], "FAILED")
        return result

    monkeypatch.setattr(SqsGateway, "send_batch", send_and_fail_again)
    one_lane = Settings(ledger_table="ledger", concurrency=1)
    report = Dlqctl(one_lane, sleep=lambda s: None).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, batch_size=2, stop_after_failures=5)
    )
    match = re.fullmatch(
        r"circuit breaker: (\d+) redriven messages failed again", report.stopped_because or ""
    )
    assert match is not None
    # The ledger is asked every 10 batches (of 2 here): it stopped
    # long before the end, and every message it moved had failed again.
    assert report.deleted == int(match.group(1)) == 20
    assert exit_code(report) is ExitCode.REFUSED
    assert pipeline.counts() == (20, 0) and len(bodies) == 40


def copies_fail_at_once(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each copy dlqctl sends is back in the DLQ under the copy's id before dlqctl
    receives again."""
    from dlqctl.aws.sqs import SqsGateway

    real_send = SqsGateway.send_batch
    failing = FailingPipeline(pipeline)

    def send_and_fail_again(self: SqsGateway, url: str, entries: Any) -> Any:
        result = real_send(self, url, entries)
        failing(0)
        return result

    monkeypatch.setattr(SqsGateway, "send_batch", send_and_fail_again)


# 12 seeded: round 1 moved 10, which failed at once; round 2 received the last 2
# originals and 8 of those copies (recognised by id: never sent round again), then the
# breaker tripped. 10 seeded: round 2 received only copies, so it had nothing to move:
# the breaker is asked after such a round too, not only after a move.
@pytest.mark.parametrize(
    ("seeded", "came_back"), [(12, 8), (10, 10)], ids=["mixed-round", "copies-only-round"]
)
def test_copies_that_come_back_trip_the_breaker_by_message_id(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, seeded: int, came_back: int
) -> None:
    seed(pipeline, seeded)
    copies_fail_at_once(pipeline, monkeypatch)
    report = Dlqctl(sleep=lambda s: None).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, stop_after_failures=3)
    )
    expected = f"circuit breaker: {came_back} redriven messages failed again"
    assert report.stopped_because == expected
    assert (report.deleted, report.came_back) == (seeded, came_back)
    assert exit_code(report) is ExitCode.REFUSED
    # The copies that came back were left in the DLQ, not sent round again.
    assert pipeline.counts() == (seeded, 0) and pipeline.counts(pipeline.source_url) == (0, 0)


def test_a_duplicate_payload_already_in_the_dlq_does_not_trip_the_breaker(
    pipeline: Pipeline,
) -> None:
    for _ in range(2):  # a client retried: the same payload failed twice
        seed(pipeline, 6)
    report = Dlqctl(sleep=lambda s: None).redrive(
        "orders-dlq",
        None,
        RedriveOptions(select_all=True, batch_size=2, stop_after_failures=1, canary=2),
    )
    assert report.canary is not None and report.canary.passed, report.canary
    assert report.stopped_because == "end of queue" and report.came_back == 0
    assert report.deleted == 12 and exit_code(report) is ExitCode.OK


def test_a_canary_wait_shorter_than_a_return_is_refused(pipeline: Pipeline) -> None:
    from dlqctl.errors import RefusedError

    seed(pipeline, 4)
    with pytest.raises(RefusedError, match=r"shorter than a failed copy needs.*\(90s") as refused:
        Dlqctl(sleep=lambda s: None).redrive(
            "orders-dlq", None, RedriveOptions(select_all=True, canary=1, canary_wait_s=60)
        )
    assert refused.value.report is None  # refused before the first receive: no run at all
    pipeline.assert_untouched(4)


def test_the_canary_waits_as_long_as_a_return_takes_by_default(pipeline: Pipeline) -> None:
    seed(pipeline, 3)
    waits: list[float] = []
    report = Dlqctl(sleep=waits.append).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True, canary=1)
    )
    # maxReceiveCount 3 × moto's default VisibilityTimeout of 30 s
    assert report.canary is not None and report.canary.waited_s == 90
    assert sum(waits) == 90 and report.deleted == 3
