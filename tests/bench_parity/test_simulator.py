"""What the simulator promises beyond moto: constant cost per request at any depth, SQS's
documented handle semantics, long polls, overlapping latency, and fault injection."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from bench import content
from bench.sim import Faults, SimTransport, SqsService
from botocore.exceptions import ClientError

from dlqctl import Dlqctl, Settings, build_filter
from dlqctl.core.guardrails import RedriveOptions

from .test_operations import ALL, _counts

ONE_ATTEMPT = {"mode": "standard", "total_max_attempts": 1}


def _cpu_per_cycle(depth: int) -> float:
    """The simulator's CPU for one receive-10-and-release cycle, at a given depth."""
    transport = SimTransport(latency_s=0)
    dlq_url, _ = content.create_queues(transport.service)
    content.seed_dlq(transport.service, depth)
    sqs = transport.client()
    sqs.get_queue_url(QueueName=content.DLQ)  # warm up botocore
    best = float("inf")
    for _ in range(3):  # the least noisy of three
        before = transport.service_cpu_s
        for _ in range(20):
            batch = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, **ALL)
            sqs.change_message_visibility_batch(
                QueueUrl=dlq_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(batch["Messages"])
                ],
            )
        best = min(best, (transport.service_cpu_s - before) / 20)
    return best


def test_cost_per_request_does_not_grow_with_depth() -> None:
    shallow, deep = _cpu_per_cycle(100), _cpu_per_cycle(100_000)
    assert deep < 3 * shallow + 0.0005, (shallow, deep)  # moto: ~1 s a receive at 1,000


def test_holds_lapse_and_older_handles_follow_the_sqs_documentation() -> None:
    clock = [1_000.0]
    transport = SimTransport(SqsService(clock=lambda: clock[0]), latency_s=0)
    sqs = transport.client()
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    clock[0] += 29
    assert sqs.receive_message(QueueUrl=url).get("Messages") is None
    clock[0] += 2
    assert _counts(sqs, url) == ("1", "0", "0")
    # The hold lapsed: releasing it again is refused, as SQS refuses it.
    with pytest.raises(ClientError, match="MessageNotInflight"):
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
        )
    second = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    assert second["MessageId"] == first["MessageId"]
    # An older handle no longer changes the hold, and deleting with it deletes nothing.
    with pytest.raises(ClientError, match="ReceiptHandleIsInvalid"):
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
        )
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert _counts(sqs, url) == ("0", "1", "0")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
    assert _counts(sqs, url) == ("0", "0", "0")


def test_delete_and_release_batches_are_checked_as_sqs_checks_them() -> None:
    sqs = SimTransport(latency_s=0).client()
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for entries, code in [
        ([{"Id": str(i), "ReceiptHandle": f"h{i}"} for i in range(11)], "TooManyEntries"),
        ([{"Id": "a", "ReceiptHandle": "h1"}, {"Id": "a", "ReceiptHandle": "h2"}], "NotDistinct"),
        ([{"Id": "not valid", "ReceiptHandle": "h"}], "InvalidBatchEntryId"),
    ]:
        with pytest.raises(ClientError, match=code):
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        with pytest.raises(ClientError, match=code):
            sqs.change_message_visibility_batch(
                QueueUrl=url, Entries=[{**e, "VisibilityTimeout": 0} for e in entries]
            )


def test_a_long_poll_returns_as_soon_as_a_message_arrives() -> None:
    transport = SimTransport(latency_s=0)
    sqs = transport.client()
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    empty_started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert time.monotonic() - empty_started >= 0.95  # an empty long poll waits it out
    sender = threading.Timer(0.2, lambda: sqs.send_message(QueueUrl=url, MessageBody="late"))
    started = time.monotonic()
    sender.start()
    answer = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
    sender.join()
    assert answer["Messages"][0]["Body"] == "late"
    assert time.monotonic() - started < 2


def test_latency_overlaps_across_lanes() -> None:
    transport = SimTransport(latency_s=0.05)
    sqs = transport.client()
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    transport.reset_counters()

    def lane() -> None:
        for _ in range(4):
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])

    started = time.monotonic()
    threads = [threading.Thread(target=lane) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert transport.total_requests == 32
    assert 0.2 <= elapsed < 0.2 * 4  # 4 sequential round trips per lane, lanes overlapping


def _one_attempt(faults: Faults) -> tuple[SimTransport, Any, str]:
    transport = SimTransport(latency_s=0, faults=faults)
    sqs = transport.client(retries=ONE_ATTEMPT)  # each injected fault comes through
    with transport.service.lock:
        url = transport.service.create_queue("q").url
    return transport, sqs, url


@pytest.mark.parametrize(
    ("faults", "status", "code"),
    [
        (Faults(throttle_rate=1.0), 400, "RequestThrottled"),
        (Faults(error_rate=1.0), 500, "InternalFailure"),
    ],
)
def test_injected_faults_answer_as_sqs_does(faults: Faults, status: int, code: str) -> None:
    transport, sqs, url = _one_attempt(faults)
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert transport.service.queues["q"].counts == [0, 0, 0]  # refused before acting


def test_an_ambiguous_fault_acts_and_then_loses_the_answer() -> None:
    transport, sqs, url = _one_attempt(Faults(ambiguous_rate=1.0))
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert transport.service.queues["q"].counts == [1, 0, 0]


def test_entry_faults_fail_single_entries_as_retryable() -> None:
    _, sqs, url = _one_attempt(Faults(entry_failure_rate=1.0))
    answer = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}])
    assert answer["Failed"] == [
        {
            "Id": "a",
            "SenderFault": False,
            "Code": "InternalError",
            "Message": "simulated per-entry failure",
        }
    ]


def test_dlqctl_redrive_loses_nothing_under_injected_faults(tmp_path: Path) -> None:
    """Failed calls and failed entries are retried by dlqctl (botocore is told not to);
    whatever still fails is reported and stays in the DLQ. Lanes make the order of the
    faults vary from run to run, so the test checks the accounting, not an outcome."""
    faults = Faults(
        error_rate=0.1,
        entry_failure_rate=0.2,
        operations=frozenset({"SendMessageBatch", "DeleteMessageBatch"}),
    )
    transport = SimTransport(latency_s=0, faults=faults, seed=7)
    content.create_queues(transport.service)
    content.seed_dlq(transport.service, 60, error_type="Timeout")
    api = Dlqctl(clients={"sqs": transport.client(retries=ONE_ATTEMPT)}, sleep=lambda _: None)
    report = api.redrive(
        content.DLQ,
        build_filter(error_types=["Timeout"]),
        RedriveOptions(),
        journal=tmp_path / "journal.jsonl",
    )
    failed = {
        stage: sum(1 for f in report.failed if f.stage == stage) for stage in ("send", "delete")
    }
    assert transport.faults_injected["entry"] and transport.faults_injected["error"]
    assert report.sent + failed["send"] == report.selected == 60
    assert report.deleted + failed["delete"] == report.sent
    assert report.sent >= 55  # the retries did their work
    # Every confirmed copy arrived once (these faults never act before failing), and what
    # was not deleted is back in the DLQ, visible.
    assert transport.service.queues[content.SOURCE].counts == [report.sent, 0, 0]
    assert transport.service.queues[content.DLQ].counts == [60 - report.deleted, 0, 0]


def test_seeded_messages_look_like_a_real_dlq() -> None:
    transport = SimTransport(latency_s=0)
    content.create_queues(transport.service)
    content.seed_dlq(transport.service, 200)
    report = Dlqctl(clients={"sqs": transport.client()}).inspect(content.DLQ)
    assert report.matched == 200
    assert {t.error_type: t.count for t in report.by_error_type} == dict.fromkeys(
        content.ERROR_TYPES, 50
    )
    source_arn = transport.service.queues[content.SOURCE].arn
    assert [(s.source_queue_arn, s.count) for s in report.sources] == [(source_arn, 200)]
    assert report.receive_counts.min == content.MAX_RECEIVE_COUNT + 1
    assert all(len(content.body(i).encode()) == content.BODY_BYTES for i in (0, 7, 99_999))


def test_a_look_that_stops_early_releases_the_round_it_received_ahead() -> None:
    """With several lanes a look sends its next round before handing over this one; a
    look that stops mid-round (peek at --limit) releases that round too, and counts only
    what it looked at."""
    transport = SimTransport(latency_s=0.002)
    content.create_queues(transport.service)
    content.seed_dlq(transport.service, 300)
    api = Dlqctl(Settings(concurrency=8), clients={"sqs": transport.client()})
    shown: list[str] = []
    result = api.peek(content.DLQ, limit=15, on_message=lambda m: shown.append(m.message_id))
    dlq = transport.service.queue(content.DLQ).contents()
    assert len(shown) == 15 == result.matched == result.coverage.scanned
    assert len(dlq) == 300 and {s.state for s in dlq} == {"visible"}
    # What ReceiveMessage took beyond the first round was the round sent ahead.
    assert transport.requests["ReceiveMessage"] == 16


def test_lanes_change_speed_not_results(tmp_path: Path) -> None:
    """The simulator is thread-safe, so dlqctl's lanes can be checked here (not on moto)."""
    if "concurrency" not in Settings.model_fields:
        pytest.skip("this dlqctl has no concurrency setting")
    reports = []
    for lanes in (1, 8):
        transport = SimTransport(latency_s=0.002)
        content.create_queues(transport.service)
        content.seed_dlq(transport.service, 300)
        api = Dlqctl(Settings(concurrency=lanes), clients={"sqs": transport.client()})
        inspected = api.inspect(content.DLQ)
        moved = api.redrive(
            content.DLQ,
            build_filter(error_types=["Timeout"]),
            RedriveOptions(),
            journal=tmp_path / f"journal-{lanes}.jsonl",
        )
        reports.append(
            (
                inspected.matched,
                {t.error_type: t.count for t in inspected.by_error_type},
                inspected.warnings,
                (moved.selected, moved.sent, moved.deleted, moved.failed),
                transport.service.queues[content.DLQ].counts,
                transport.service.queues[content.SOURCE].counts,
            )
        )
    assert reports[0] == reports[1]
    assert reports[0][3] == (75, 75, 75, [])
