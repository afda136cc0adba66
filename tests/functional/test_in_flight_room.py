"""Looks and runs against SQS's in-flight quota, on the simulator: moto does not model it.

SQS holds at most 120,000 messages in flight per queue, standard and FIFO alike, and
refuses more receives past it (tests/bench_parity/test_in_flight_limit.py pins the
simulator to that). Here both sides are scaled down: the simulator refuses at
`in_flight_limit`, and dlqctl's quota (core/scan.py) is set to QUOTA, so its room is
ROOM (a tenth left to other readers) and a run at one lane stops leaving more than
HELD_ROOM (the room less one round of 10).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bench.sim import SimTransport, SqsService

from dlqctl import Dlqctl, build_filter
from dlqctl.aws.errors import InFlightLimitError
from dlqctl.core import scan as scan_module
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.core.outcome import exit_code
from dlqctl.errors import ExitCode
from dlqctl.models import ArchiveReport, RedriveReport

from ..conftest import Pipeline, make_pipeline

QUOTA = 50
ROOM = 45
HELD_ROOM = 35


def _sim(in_flight_limit: int) -> tuple[SqsService, Any]:
    service = SqsService(in_flight_limit=in_flight_limit)
    sqs = SimTransport(service, latency_s=0).client(retries={"total_max_attempts": 1})
    return service, sqs


@pytest.fixture
def scaled_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_module, "IN_FLIGHT_QUOTA", QUOTA)


def _fill(pipeline: Pipeline, count: int, left_every: int) -> tuple[set[str], set[str]]:
    """`count` messages, every `left_every`-th one a ValidationError (not matched by the
    runs below), interleaved so each round of receives leaves some; (moved, left) bodies."""
    moved, left = set(), set()
    for start in range(0, count, 10):
        entries = []
        for i in range(start, min(count, start + 10)):
            kind = "ValidationError" if i % left_every == 0 else "Timeout"
            body = json.dumps({"order": i})
            (left if kind == "ValidationError" else moved).add(body)
            entries.append(
                {
                    "Id": str(i),
                    "MessageBody": body,
                    "MessageAttributes": {"ErrorType": {"DataType": "String", "StringValue": kind}},
                }
            )
        pipeline.sqs.send_message_batch(QueueUrl=pipeline.dlq_url, Entries=entries)
    return moved, left


def _bodies(service: SqsService, name: str) -> list[str]:
    return [stored.body for stored in service.queues[name].contents()]


def _visible_bodies(service: SqsService, name: str) -> list[str]:
    return [stored.body for stored in service.queues[name].contents() if stored.state == "visible"]


def _journal(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _journal_deleted(records: list[dict[str, Any]]) -> int:
    return sum(len(r["deleted"]) for r in records if r["kind"] == "batch")


def _another_reader_holds(sqs: Any, url: str, count: int) -> None:
    for _ in range(count // 10):
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)
        assert len(answer["Messages"]) == 10


def _redrive(sqs: Any, journal: Path, queue: str = "orders-dlq") -> RedriveReport:
    return Dlqctl(clients={"sqs": sqs}).redrive(
        queue,
        build_filter(error_types=["Timeout"]),
        RedriveOptions(max_messages=1000),
        journal=journal,
    )


def test_a_redrive_goes_through_a_dlq_deeper_than_the_quota_while_what_it_leaves_fits(
    scaled_quota: None, tmp_path: Path
) -> None:
    # The simulator refuses at exactly dlqctl's room: a single receive past it would end
    # the run with OverLimit instead of at the end of the queue.
    service, sqs = _sim(in_flight_limit=ROOM)
    pipeline = make_pipeline(sqs)
    moved, left = _fill(pipeline, 200, left_every=10)  # 180 to move, 20 left: they fit

    report = _redrive(sqs, tmp_path / "journal.jsonl")

    assert report.stopped_because == "end of queue"
    assert (report.selected, report.sent, report.deleted, report.failed) == (180, 180, 180, [])
    assert exit_code(report) == ExitCode.OK
    assert pipeline.counts() == (20, 0)  # what was left is visible again, nothing held
    assert set(_bodies(service, "orders-dlq")) == left
    assert sorted(_visible_bodies(service, "orders")) == sorted(moved)
    records = _journal(tmp_path / "journal.jsonl")
    assert _journal_deleted(records) == 180
    assert records[-1]["kind"] == "end" and records[-1]["outcome"] == "complete"


def test_a_fifo_redrive_goes_past_the_quota_group_by_group_in_order(
    scaled_quota: None, tmp_path: Path
) -> None:
    service, sqs = _sim(in_flight_limit=ROOM)
    pipeline = make_pipeline(sqs, fifo=True)
    # 30 groups of 5. In the first 10 the last message does not match; in the next 5 the
    # middle one does not, so the two after it wait behind it. The run leaves 10 + 15
    # (which fits), and moves the 125 before them, each group in order.
    sent: dict[str, list[str]] = {}
    for group in range(30):
        stays = 4 if group < 10 else 2 if group < 15 else None
        entries = []
        for position in range(5):
            kind = "ValidationError" if position == stays else "Timeout"
            body = json.dumps({"group": group, "position": position})
            entries.append(
                {
                    "Id": str(position),
                    "MessageBody": body,
                    "MessageGroupId": f"g{group}",
                    "MessageAttributes": {"ErrorType": {"DataType": "String", "StringValue": kind}},
                }
            )
            if stays is None or position < stays:
                sent.setdefault(f"g{group}", []).append(body)
        sqs.send_message_batch(QueueUrl=pipeline.dlq_url, Entries=entries)

    report = _redrive(sqs, tmp_path / "journal.jsonl", "orders-dlq.fifo")

    assert report.stopped_because == "end of queue"
    assert (report.selected, report.sent, report.deleted) == (135, 125, 125)
    # The 10 that waited behind a message that stays in the DLQ, each said so.
    assert [f.stage for f in report.failed] == ["skipped"] * 10
    assert all("an earlier message of group" in f.reason for f in report.failed)
    assert pipeline.counts() == (25, 0)
    stayed = [json.loads(b) for b in _bodies(service, "orders-dlq.fifo")]
    assert [m["position"] for m in stayed] == [4] * 10 + [2, 3, 4] * 5
    arrived: dict[str, list[str]] = {}
    for stored in service.queues["orders.fifo"].contents():
        assert stored.group_id is not None
        arrived.setdefault(stored.group_id, []).append(stored.body)
    assert arrived == sent  # every group complete, each in its send order
    assert _journal_deleted(_journal(tmp_path / "journal.jsonl")) == 125


def test_a_run_whose_remainder_outgrows_the_room_stops_and_says_how_to_go_on(
    scaled_quota: None, tmp_path: Path
) -> None:
    service, sqs = _sim(in_flight_limit=ROOM)
    pipeline = make_pipeline(sqs)
    moved, left = _fill(pipeline, 200, left_every=4)  # 50 left: more than the room

    report = _redrive(sqs, tmp_path / "journal.jsonl")

    reason = report.stopped_because or ""
    assert reason.startswith(f"in-flight limit: {HELD_ROOM} messages left in the DLQ are held;")
    assert "`dlqctl export --delete`" in reason and "`dlqctl move-task start`" in reason
    assert exit_code(report) == ExitCode.PARTIAL
    assert report.coverage.complete is False
    assert any(
        w.startswith("the run stopped at the DLQ's in-flight limit") for w in report.warnings
    )
    # Held reached the room and went no further: 3 of 4 matched, so 35 held after 140.
    assert report.coverage.scanned == HELD_ROOM + report.selected
    assert (report.sent, report.deleted, report.failed) == (report.selected, report.selected, [])
    # The queues account for every message the report counts.
    assert pipeline.counts() == (200 - report.deleted, 0)
    assert len(_visible_bodies(service, "orders")) == report.sent
    in_dlq = set(_bodies(service, "orders-dlq"))
    assert left <= in_dlq  # nothing that did not match left the DLQ
    assert set(_visible_bodies(service, "orders")) == moved - in_dlq
    records = _journal(tmp_path / "journal.jsonl")
    assert _journal_deleted(records) == report.deleted
    assert records[-1]["kind"] == "end" and records[-1]["outcome"] == "stopped"

    # Running again goes on: what moved has left the DLQ, so the next run gets further.
    again = _redrive(sqs, tmp_path / "again.jsonl")
    assert again.deleted > 0
    assert pipeline.counts() == (200 - report.deleted - again.deleted, 0)


def test_a_purge_stops_at_the_room_and_deletes_only_what_it_archived(
    scaled_quota: None, tmp_path: Path
) -> None:
    service, sqs = _sim(in_flight_limit=ROOM)
    pipeline = make_pipeline(sqs)
    _, left = _fill(pipeline, 200, left_every=4)
    archive = tmp_path / "purged.jsonl"

    report = Dlqctl(clients={"sqs": sqs}).purge(
        "orders-dlq",
        archive,
        build_filter(error_types=["Timeout"]),
        max_messages=1000,
        journal=tmp_path / "journal.jsonl",
    )

    assert isinstance(report, ArchiveReport)
    assert (report.stopped_because or "").startswith("in-flight limit:")
    assert exit_code(report) == ExitCode.PARTIAL
    assert report.exported == report.deleted > 0 and report.failed == []
    assert any(
        w.startswith("the run stopped at the DLQ's in-flight limit") for w in report.warnings
    )
    assert pipeline.counts() == (200 - report.deleted, 0)
    archived = {json.loads(line)["body"] for line in archive.read_text().splitlines()}
    assert len(archived) == report.deleted
    assert archived.isdisjoint(_bodies(service, "orders-dlq"))
    assert left <= set(_bodies(service, "orders-dlq"))
    records = _journal(tmp_path / "journal.jsonl")
    assert _journal_deleted(records) == report.deleted
    assert records[-1]["outcome"] == "stopped"


def test_a_run_that_meets_over_limit_stops_cleanly_and_releases_what_it_held(
    tmp_path: Path,
) -> None:
    # dlqctl's quota is the real one here: another reader's holds fill the simulator's
    # smaller one during the run, and only SQS's OverLimit says so.
    service, sqs = _sim(in_flight_limit=QUOTA)
    pipeline = make_pipeline(sqs)
    _fill(pipeline, 200, left_every=2)
    _another_reader_holds(sqs, pipeline.dlq_url, 30)
    assert pipeline.counts() == (170, 30)

    report = _redrive(sqs, tmp_path / "journal.jsonl")

    assert (report.stopped_because or "").startswith(
        "in-flight limit: SQS hands out no more (its in-flight quota is full), 20 held by this run;"
    )
    assert exit_code(report) == ExitCode.PARTIAL
    assert report.sent == report.deleted == report.selected > 0 and report.failed == []
    # Only the other reader's 30 holds remain; the run's are visible again.
    assert pipeline.counts() == (170 - report.deleted, 30)
    assert len(_visible_bodies(service, "orders")) == report.sent
    records = _journal(tmp_path / "journal.jsonl")
    assert _journal_deleted(records) == report.deleted
    assert records[-1]["outcome"] == "stopped"


def test_a_look_that_meets_over_limit_is_refused_and_releases_what_it_held() -> None:
    _, sqs = _sim(in_flight_limit=QUOTA)
    pipeline = make_pipeline(sqs)
    _fill(pipeline, 100, left_every=3)
    _another_reader_holds(sqs, pipeline.dlq_url, 40)

    with pytest.raises(InFlightLimitError) as refused:
        Dlqctl(clients={"sqs": sqs}).inspect("orders-dlq")

    assert refused.value.exit_code == ExitCode.REFUSED
    message = refused.value.message
    assert message.startswith("SQS refused to hand out more messages: orders-dlq already holds")
    assert "--max-scan" in message and "\n" not in message
    assert pipeline.counts() == (60, 40)  # the look's 10 are visible again


def _quiet_when_full(transport: SimTransport) -> None:
    """Answer a receive at the quota as SQS answers a long poll there (and a FIFO queue
    any receive): with no messages and no error (the SQS quotas pages)."""
    respond = transport.respond

    def quiet(operation: str, params: Any) -> tuple[int, Any, str | None]:
        status, answer, query_code = respond(operation, params)
        if operation == "ReceiveMessage" and (query_code or "").startswith("OverLimit"):
            return 200, {}, None
        return status, answer, query_code

    transport.respond = quiet  # type: ignore[method-assign]


def _quiet_sim() -> tuple[SqsService, Any]:
    service = SqsService(in_flight_limit=QUOTA)
    transport = SimTransport(service, latency_s=0)
    _quiet_when_full(transport)
    return service, transport.client(retries={"total_max_attempts": 1})


def _another_reader_fills(sqs: Any, url: str, count: int) -> Any:
    """A progress callback: once, another reader takes `count` messages (and holds them)."""
    done: list[int] = []

    def fill(*_: int) -> None:
        if not done:
            done.append(count)
            _another_reader_holds(sqs, url, count)

    return fill


def test_a_look_at_a_queue_filled_meanwhile_is_not_the_end_of_the_queue(
    scaled_quota: None,
) -> None:
    _, sqs = _quiet_sim()
    pipeline = make_pipeline(sqs)
    _fill(pipeline, 100, left_every=2)

    # After the look's first round (10 held), another reader holds 40: the queue is full,
    # and SQS's answers are empty although 50 messages are visible.
    with pytest.raises(InFlightLimitError, match="orders-dlq already holds its quota"):
        Dlqctl(clients={"sqs": sqs}).inspect(
            "orders-dlq", on_progress=_another_reader_fills(sqs, pipeline.dlq_url, 40)
        )

    assert pipeline.counts() == (60, 40)  # the look's 10 released; the other's 40 held


def test_a_run_at_a_queue_filled_meanwhile_stops_at_the_limit_not_at_the_end(
    scaled_quota: None, tmp_path: Path
) -> None:
    service, sqs = _quiet_sim()
    pipeline = make_pipeline(sqs)
    _fill(pipeline, 100, left_every=2)

    report = Dlqctl(clients={"sqs": sqs}).redrive(
        "orders-dlq",
        build_filter(error_types=["Timeout"]),
        RedriveOptions(max_messages=1000),
        journal=tmp_path / "journal.jsonl",
        on_progress=_another_reader_fills(sqs, pipeline.dlq_url, 40),
    )

    reason = report.stopped_because or ""
    assert reason.startswith("in-flight limit: SQS hands out no more"), reason
    assert exit_code(report) == ExitCode.PARTIAL  # not "end of queue", exit 0
    assert report.sent == report.deleted == report.selected > 0 and report.failed == []
    assert pipeline.counts() == (60 - report.deleted, 40)
    assert len(_visible_bodies(service, "orders")) == report.sent
    records = _journal(tmp_path / "journal.jsonl")
    assert _journal_deleted(records) == report.deleted
    assert records[-1]["outcome"] == "stopped"
