"""A DLQ with a redrive policy of its own: each look adds a receive, so dlqctl counts
the looks left and refuses the one that would move messages on."""

import json
from typing import Any

import pytest

from dlqctl import Dlqctl
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.errors import RefusedError

from ..conftest import Pipeline, make_pipeline


@pytest.fixture
def chained(sqs: Any) -> tuple[Pipeline, str]:
    """orders → orders-dlq → orders-dlq-dlq, the DLQ's own policy at 2 receives."""
    pipeline = make_pipeline(sqs)
    onward = sqs.create_queue(QueueName="orders-dlq-dlq")["QueueUrl"]
    onward_arn = sqs.get_queue_attributes(QueueUrl=onward, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sqs.set_queue_attributes(
        QueueUrl=pipeline.dlq_url,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": onward_arn, "maxReceiveCount": 2})
        },
    )
    for i in range(3):
        pipeline.put(json.dumps({"n": i}), "Timeout")
    return pipeline, onward


def test_looks_are_counted_and_the_one_that_would_move_messages_is_refused(
    chained: tuple[Pipeline, str],
) -> None:
    pipeline, onward = chained
    dlqctl = Dlqctl()
    first = dlqctl.inspect("orders-dlq")
    assert any("has not looked here yet" in w for w in first.warnings)
    assert first.coverage.highest_receive_count == 1
    second = dlqctl.inspect("orders-dlq")
    assert any("about 1 looks left" in w for w in second.warnings), second.warnings
    with pytest.raises(RefusedError, match=r"received 2 times \(maxReceiveCount 2\).*--force"):
        dlqctl.peek("orders-dlq")
    with pytest.raises(RefusedError, match="would move them on"):
        dlqctl.redrive("orders-dlq", None, RedriveOptions(select_all=True, dry_run=True))
    assert pipeline.counts() == (3, 0)  # the refusals received nothing
    assert pipeline.counts(onward) == (0, 0)


def test_force_looks_anyway_and_sqs_moves_the_messages_on(chained: tuple[Pipeline, str]) -> None:
    pipeline, onward = chained
    dlqctl = Dlqctl()
    for _ in range(2):
        dlqctl.inspect("orders-dlq")
    report = dlqctl.inspect("orders-dlq", force=True)
    assert report.coverage.scanned == 0  # SQS moved them on the receive past the limit
    assert pipeline.counts() == (0, 0)
    assert pipeline.counts(onward) == (3, 0)


def test_a_redrive_says_how_many_looks_are_left(chained: tuple[Pipeline, str]) -> None:
    pipeline, _ = chained
    dlqctl = Dlqctl()
    dlqctl.inspect("orders-dlq")
    plan = dlqctl.redrive("orders-dlq", None, RedriveOptions(select_all=True, dry_run=True))
    assert any("about 1 looks left" in w for w in plan.warnings), plan.warnings
    # That plan was the last look: the run would move the messages on, so it is refused.
    with pytest.raises(RefusedError, match="would move them on"):
        dlqctl.redrive("orders-dlq", None, RedriveOptions(select_all=True))
    assert pipeline.counts() == (3, 0)
