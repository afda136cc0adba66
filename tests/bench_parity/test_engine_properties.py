"""The streaming engine under faults on every operation, with several lanes at once.

The simulator (bench/sim) is a thread-safe SQS with FIFO groups, so unlike moto it can
take 8 lanes. Hypothesis draws the queue (standard or FIFO, size, groups), the lanes, the
batch size, the fault rates on receives, visibility changes, sends and deletes
(throttling, 5xx before acting, 5xx after acting, failed batch entries) and an
AccessDenied at some request of some operation. Whatever happens, after the run:

- nothing is lost: every original message is in the DLQ or the target;
- nothing is left hidden: what stays in the DLQ is visible again (unless its release
  met a fault, or a receive's lost answer held messages no client knows of);
- extra copies never exceed the report's `possible_duplicates`;
- on FIFO, what arrived in the target of each group is that group's head, in order;
- the journal names every message that left the DLQ, and nothing else;
- the report's counts equal the queues' deltas (deleted = what left the DLQ, the target
  gained `sent` plus at most the possible duplicates), and every selected message has
  an outcome (moved, or listed in `failed`).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bench.sim import Faults, Seed, SimTransport, SqsError, SqsService
from botocore.retries.standard import ExponentialBackoff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlqctl import Dlqctl, Settings
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.core.journal import read_journal
from dlqctl.core.moving import MAY_BE_GONE
from dlqctl.errors import DlqctlError
from dlqctl.models import RedriveReport

OPERATIONS = [
    "ReceiveMessage",
    "ChangeMessageVisibilityBatch",
    "SendMessageBatch",
    "DeleteMessageBatch",
]


class FatalAt(SimTransport):
    """The simulator, plus one AccessDenied at the n-th request of one operation."""

    def __init__(
        self, service: SqsService, faults: Faults, seed: int, fatal: tuple[str, int] | None
    ) -> None:
        super().__init__(service, latency_s=0, faults=faults, seed=seed)
        self.fatal = fatal
        self._calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def respond(
        self, operation: str, params: Callable[[], dict[str, Any]]
    ) -> tuple[int, Any, str | None]:
        if self.fatal is not None:
            with self._lock:
                self._calls[operation] += 1
                hit = (operation, self._calls[operation]) == self.fatal
            if hit:
                error = SqsError("AccessDenied", "injected: not authorized", status=403)
                body = {"__type": "com.amazonaws.sqs#AccessDenied", "message": error.message}
                return 403, body, "AccessDenied;Sender"
        return super().respond(operation, params)


def build(fifo: bool, count: int, groups: int) -> tuple[SqsService, str, str]:
    service = SqsService(seed=1)
    suffix = ".fifo" if fifo else ""
    kind = {"FifoQueue": "true"} if fifo else {}
    with service.lock:
        dlq = service.create_queue(f"orders-dlq{suffix}", kind)
        policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3})
        service.create_queue(f"orders{suffix}", {**kind, "RedrivePolicy": policy})
    service.seed(
        f"orders-dlq{suffix}",
        count,
        Seed(
            body=lambda i: json.dumps({"n": i}),
            attributes=lambda i: {},
            system={},
            group=(lambda i: f"g{i % groups}") if fifo else None,
        ),
        sent_ms=lambda i: 1_700_000_000_000 + i,
    )
    return service, f"orders-dlq{suffix}", f"orders{suffix}"


def run(dlqctl: Dlqctl, dlq: str, batch_size: int, journal: Path) -> RedriveReport:
    """The run's report, also when an error stopped it (raised after it was recorded)."""
    options = RedriveOptions(select_all=True, batch_size=batch_size, max_messages=1000)
    try:
        return dlqctl.redrive(dlq, None, options, journal=journal)
    except DlqctlError as exc:
        report = exc.report
    assert isinstance(report, RedriveReport), "an error was raised without the run's report"
    assert report.stopped_because and report.stopped_because.startswith("error")
    return report


rates = st.sampled_from([0.0, 0.0, 0.05, 0.15])


@st.composite
def fault_plans(draw: st.DrawFn) -> tuple[Faults, tuple[str, int] | None]:
    faults = Faults(
        throttle_rate=draw(rates),
        error_rate=draw(rates),
        ambiguous_rate=draw(rates),
        entry_failure_rate=draw(rates),
        operations=frozenset(draw(st.lists(st.sampled_from(OPERATIONS), min_size=1, unique=True))),
    )
    fatal = draw(st.none() | st.tuples(st.sampled_from(OPERATIONS), st.integers(1, 12)))
    return faults, fatal


@pytest.fixture(autouse=True)
def no_botocore_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's own retries still happen (they are part of what is tested), at once."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fifo=st.booleans(),
    count=st.integers(1, 120),
    groups=st.integers(1, 6),
    lanes=st.sampled_from([1, 8]),
    batch_size=st.integers(1, 10),
    plan=fault_plans(),
    seed=st.integers(0, 2**16),
)
def test_the_engine_keeps_every_invariant_under_faults(
    tmp_path_factory: pytest.TempPathFactory,
    fifo: bool,
    count: int,
    groups: int,
    lanes: int,
    batch_size: int,
    plan: tuple[Faults, tuple[str, int] | None],
    seed: int,
) -> None:
    faults, fatal = plan
    service, dlq_name, target_name = build(fifo, count, groups)
    transport = FatalAt(service, faults, seed, fatal)
    client = transport.client(retries={"mode": "standard", "max_attempts": 3})
    journal = tmp_path_factory.mktemp("journal") / "journal.jsonl"
    dlqctl = Dlqctl(
        Settings(concurrency=lanes, receive_wait_s=0, region="us-east-1"),
        clients={"sqs": client},
        sleep=lambda seconds: None,
    )
    originals = {s.message_id: s for s in service.queue(dlq_name).contents()}

    report = run(dlqctl, dlq_name, batch_size, journal)

    left = {s.message_id: s for s in service.queue(dlq_name).contents()}
    arrived = service.queue(target_name).contents()
    left_bodies = Counter(s.body for s in left.values())
    arrived_bodies = Counter(s.body for s in arrived)

    # Nothing lost.
    assert set(originals) >= set(left), "the DLQ gained messages"
    for message in originals.values():
        assert left_bodies[message.body] + arrived_bodies[message.body] >= 1, "a message was lost"
    # Nothing is left hidden: every message still in the DLQ is visible again, unless its
    # release itself met a fault, or a receive's answer was lost after SQS had held what
    # it took (those stay hidden until their hold lapses: no client can know of them).
    may_stay_hidden = (
        "ChangeMessageVisibilityBatch" in faults.operations
        and (
            faults.throttle_rate
            or faults.error_rate
            or faults.ambiguous_rate
            or faults.entry_failure_rate
        )
    ) or ("ReceiveMessage" in faults.operations and faults.ambiguous_rate)
    if fatal is not None and fatal[0] == "ChangeMessageVisibilityBatch":
        may_stay_hidden = True
    if not may_stay_hidden:
        hidden = [s.message_id for s in left.values() if s.state != "visible"]
        assert not hidden, f"left held after the run: {hidden}"
    # Extra copies are all counted.
    extra = sum((left_bodies + arrived_bodies).values()) - len(originals)
    assert extra <= report.possible_duplicates
    # The report's counts are the queues' deltas (a delete whose answer was lost and
    # that then failed may or may not have deleted: the report says which are unsure).
    gone = set(originals) - set(left)
    unsure = {
        f.message_id for f in report.failed if f.stage == "delete" and MAY_BE_GONE in f.reason
    }
    assert report.deleted <= len(gone) <= report.deleted + len(unsure)
    assert report.sent <= len(arrived) <= report.sent + report.possible_duplicates
    assert report.selected == report.deleted + len(report.failed)
    assert len({f.message_id for f in report.failed}) == len(report.failed)
    # The journal names every message that left, and only those.
    records = list(read_journal(journal))
    assert records[0]["kind"] == "start" and records[-1]["kind"] == "end"
    deleted = [i for r in records if r["kind"] == "batch" for i in r["deleted"]]
    journaled_unsure = {
        f["message_id"]
        for r in records
        if r["kind"] == "batch"
        for f in r["failed"]
        if MAY_BE_GONE in f["reason"]
    }
    assert len(deleted) == len(set(deleted)) == report.deleted
    assert set(deleted) <= gone <= set(deleted) | journaled_unsure
    announced = {i for r in records if r["kind"] == "sending" for i in r["message_ids"]}
    assert gone <= announced
    copies = {s["new_message_id"] for r in records if r["kind"] == "batch" for s in r["sent"]}
    assert {s.message_id for s in arrived} >= copies
    # FIFO: each group's arrivals are its head, in order.
    if fifo:
        order = [json.loads(s.body)["n"] for s in arrived]
        for g in range(groups):
            got = [n for n in order if n % groups == g]
            assert got == list(range(g, g + groups * len(got), groups)), f"group g{g}: {got}"


class Scripted(SimTransport):
    """The simulator, answering one operation from a script: "lost" acts and then
    answers 500 (botocore retries it by itself), "denied" answers AccessDenied."""

    def __init__(self, service: SqsService, operation: str, script: list[str]) -> None:
        super().__init__(service, latency_s=0)
        self.operation = operation
        self.script = list(script)

    def respond(
        self, operation: str, params: Callable[[], dict[str, Any]]
    ) -> tuple[int, Any, str | None]:
        step = self.script.pop(0) if operation == self.operation and self.script else "ok"
        if step == "denied":
            body = {"__type": "com.amazonaws.sqs#AccessDenied", "message": "injected"}
            return 403, body, "AccessDenied;Sender"
        answer = super().respond(operation, params)
        if step == "lost":
            body = {"__type": "com.amazonaws.sqs#InternalFailure", "message": "lost"}
            return 500, body, "InternalFailure;Receiver"
        return answer


@pytest.mark.parametrize("operation", ["SendMessageBatch", "DeleteMessageBatch"])
def test_an_answer_lost_before_a_fatal_error_is_still_counted(
    operation: str, tmp_path: Path
) -> None:
    """botocore retried a lost answer by itself, then the retry was denied: the first
    attempt may have acted (a copy sent, or the message deleted), and the report says so."""
    service, dlq_name, target_name = build(fifo=False, count=3, groups=1)
    transport = Scripted(service, operation, ["lost", "denied"])
    dlqctl = Dlqctl(
        Settings(concurrency=1, receive_wait_s=0, region="us-east-1"),
        clients={"sqs": transport.client(retries={"mode": "standard", "max_attempts": 3})},
        sleep=lambda seconds: None,
    )
    report = run(dlqctl, dlq_name, 10, tmp_path / "journal.jsonl")
    arrived = len(service.queue(target_name).contents())
    left = len(service.queue(dlq_name).contents())
    assert arrived == 3 and report.stopped_because.startswith("error")
    if operation == "SendMessageBatch":
        assert (report.sent, left) == (0, 3)  # copies exist that no answer confirmed
        assert report.possible_duplicates == 3
    else:
        assert (report.sent, report.deleted, left) == (3, 0, 0)  # deleted, unconfirmed
        assert all(MAY_BE_GONE in f.reason for f in report.failed) and len(report.failed) == 3


@pytest.mark.parametrize("operation", ["SendMessageBatch", "ReceiveMessage"])
def test_a_round_received_ahead_is_released_when_the_run_stops_first(
    operation: str, tmp_path: Path
) -> None:
    """With several lanes the next round's receives go out before this round's sends;
    when the run ends on an error meanwhile (here the first send, or a lane of the round
    received ahead, is denied), what that round received is released with the rest, and
    the report counts only what the run looked at."""
    service, dlq_name, target_name = build(fifo=False, count=200, groups=1)
    # The 9th receive is a lane of the round received ahead (the first round has 8).
    fatal = (operation, 1 if operation == "SendMessageBatch" else 9)
    transport = FatalAt(service, Faults(), seed=0, fatal=fatal)
    dlqctl = Dlqctl(
        Settings(concurrency=8, receive_wait_s=0, region="us-east-1"),
        clients={"sqs": transport.client(retries={"mode": "standard", "max_attempts": 3})},
        sleep=lambda seconds: None,
    )
    report = run(dlqctl, dlq_name, 10, tmp_path / "journal.jsonl")

    left = service.queue(dlq_name).contents()
    assert len(left) + len(service.queue(target_name).contents()) == 200
    assert [s.message_id for s in left if s.state != "visible"] == []
    # The round in hand was all the run looked at; the one received ahead is not counted.
    assert report.coverage.scanned == 80 == report.selected
    assert report.deleted + len(report.failed) == report.selected
