"""The worker handler: partial batch responses, idempotency and every failure mode."""

import io
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from dlqctl.pipeline import spec, worker
from dlqctl.pipeline.failure_modes import WorkerTimedOut, parse_failure_mode
from dlqctl.pipeline.ledger import iso

from .conftest import Stack, batch, invoke, key


def test_success_marks_completed_and_reports_no_failures(stack: Stack) -> None:
    payloads = [{"order_id": str(i)} for i in range(3)]
    assert invoke(batch(stack, *payloads)) == []
    for payload in payloads:
        item = stack.item(key(payload))
        assert (item["status"], item["attempts"]) == ("COMPLETED", "1")
        assert (
            item["completedAt"].endswith("Z") and int(item["expiresAt"]) > time.time() + 6 * 86400
        )


def test_a_completed_payload_is_skipped_the_second_time(
    stack: Stack, logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = {"order_id": "dup"}
    assert invoke(batch(stack, payload)) == []
    assert invoke(batch(stack, payload)) == []
    assert "already processed: skipped" in logs.getvalue()
    assert spec.METRIC_IDEMPOTENCY_HIT in capsys.readouterr().out
    assert stack.item(key(payload))["attempts"] == "1"


def test_poison_fails_only_the_poison_records(stack: Stack) -> None:
    stack.mode("poison")
    records = batch(stack, {"order_id": "good"}, {"order_id": "bad", "poison": True})
    bad = next(r for r in records if "bad" in r["body"])
    assert invoke(records) == [bad["messageId"]]
    item = stack.item(key({"order_id": "bad", "poison": True}))
    assert (item["status"], item["errorType"], item["errorMessage"]) == (
        "FAILED",
        "PoisonPayloadError",
        "payload is marked poison",
    )
    assert stack.item(key({"order_id": "good"}))["status"] == "COMPLETED"


def test_a_failed_payload_may_run_again_and_counts_attempts(stack: Stack) -> None:
    payload = {"order_id": "again", "poison": True}
    stack.mode("poison")
    assert len(invoke(batch(stack, payload))) == 1
    stack.mode("none")
    assert invoke(batch(stack, payload)) == []
    item = stack.item(key(payload))
    assert (item["status"], item["attempts"]) == ("COMPLETED", "2")


@pytest.mark.parametrize(("rate", "failed"), [("1", 3), ("0", 0)])
def test_error_rate(stack: Stack, rate: str, failed: int) -> None:
    stack.mode(f"error-rate:{rate}")
    assert len(invoke(batch(stack, *({"order_id": str(i)} for i in range(3))))) == failed
    if failed:
        assert stack.item(key({"order_id": "0"}))["errorType"] == "DownstreamError"


def test_timeout_leaves_the_whole_batch_inflight(stack: Stack) -> None:
    stack.mode("timeout")
    payloads = [{"order_id": str(i)} for i in range(3)]
    with pytest.raises(WorkerTimedOut):
        invoke(batch(stack, *payloads), timeout_s=0.1)
    assert {stack.item(key(p))["status"] for p in payloads} == {"INFLIGHT"}


def test_a_stale_claim_is_taken_over_and_a_fresh_one_is_busy(stack: Stack) -> None:
    stale, fresh = {"order_id": "stale"}, {"order_id": "fresh"}
    for payload, started in ((stale, time.time() - 60), (fresh, time.time())):
        stack.dynamodb.put_item(
            TableName=spec.LEDGER_TABLE_NAME,
            Item={
                spec.LEDGER_KEY: {"S": key(payload)},
                spec.LEDGER_STATUS: {"S": "INFLIGHT"},
                spec.LEDGER_STARTED_AT: {"S": iso(started)},
                spec.LEDGER_EXPIRES_AT: {"N": str(int(time.time()) + 3600)},
            },
        )
    records = batch(stack, stale, fresh)
    busy = next(r for r in records if "fresh" in r["body"])
    assert invoke(records) == [busy["messageId"]]
    assert stack.item(key(stale))["status"] == "COMPLETED"
    assert stack.item(key(fresh))["status"] == "INFLIGHT"


def test_an_expired_completed_item_runs_again(stack: Stack) -> None:
    payload = {"order_id": "old"}
    stack.dynamodb.put_item(
        TableName=spec.LEDGER_TABLE_NAME,
        Item={
            spec.LEDGER_KEY: {"S": key(payload)},
            spec.LEDGER_STATUS: {"S": "COMPLETED"},
            spec.LEDGER_EXPIRES_AT: {"N": str(int(time.time()) - 1)},
        },
    )
    assert invoke(batch(stack, payload)) == []
    assert int(stack.item(key(payload))["expiresAt"]) > time.time()


def test_an_invalid_failure_mode_reads_as_none(stack: Stack) -> None:
    stack.mode("chaos-monkey")
    assert invoke(batch(stack, {"order_id": "x", "poison": True})) == []


def test_logs_are_json_with_correlation_and_key(
    stack: Stack, logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.mode("poison")
    invoke(batch(stack, {"order_id": "log", "poison": True}))
    lines = [
        json.loads(line)
        for line in logs.getvalue().splitlines() + capsys.readouterr().out.splitlines()
        if line.startswith("{")
    ]
    failure = next(line for line in lines if line.get("message") == "processing failed")
    assert failure["level"] == "ERROR" and failure["errorType"] == "PoisonPayloadError"
    assert failure["correlation_id"] == "corr-9" and failure["idempotency_key"] == key(
        {"order_id": "log", "poison": True}
    )
    assert {"timestamp", "service", "function_request_id"} <= set(failure)
    metrics = next(line for line in lines if "_aws" in line)
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == spec.METRICS_NAMESPACE


def test_error_messages_are_truncated_to_a_kibibyte(stack: Stack) -> None:
    worker.ledger().fail("k", "X", "é" * 2000)
    assert len(stack.item("k")["errorMessage"].encode()) <= spec.LEDGER_ERROR_MESSAGE_MAX_BYTES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("none", "none"),
        ("POISON", "poison"),
        ("timeout", "timeout"),
        ("error-rate:0.25", "error-rate:0.25"),
    ],
)
def test_failure_modes_parse(text: str, expected: str) -> None:
    assert str(parse_failure_mode(text)) == expected


@pytest.mark.parametrize("text", ["", "error-rate", "error-rate:2", "error-rate:x", "slow"])
def test_bad_failure_modes_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="unknown failure mode"):
        parse_failure_mode(text)


def test_dlqctl_reads_what_the_worker_wrote(stack: Stack) -> None:
    """One key function and one ledger schema: dlqctl classifies from the worker's items."""
    from dlqctl import Dlqctl, Settings

    dlq = stack.sqs.create_queue(QueueName="dlq")["QueueUrl"]
    stack.mode("poison")
    payload = {"order_id": "p", "poison": True}
    invoke(batch(stack, payload))
    stack.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(payload))
    [message] = (
        Dlqctl(Settings(ledger_table=spec.LEDGER_TABLE_NAME, receive_wait_s=0, concurrency=1))
        .peek(dlq)
        .messages
    )
    assert (message.error_type, message.error_source, message.ledger_status) == (
        "PoisonPayloadError",
        "ledger",
        "FAILED",
    )
    assert datetime.now(UTC) - message.sent_at < timedelta(minutes=1)
