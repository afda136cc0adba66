"""The streaming redrive engine, end to end: the real process against moto's server.

What the one-pass engine promises on top of the basics in test_redrive.py: a whole FIFO
DLQ goes in one run, group by group and in order; receives are sized to the cap; a
re-failure is told by message id, not by payload; the canary waits as long as a return
takes; SIGTERM and a second Ctrl-C end a run like Ctrl-C does (round finished, holds
released, report printed, journal ended). Every test reads the queues back afterwards.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from moto.core import utils as moto_utils

from .conftest import (
    RUN_TIMEOUT_S,
    Result,
    Runner,
    Started,
    World,
    assert_one_error_line,
    cli_surface,
    receive_all,
    release,
)
from .test_redrive import (
    BULK,
    SIGNAL_DEADLINE_S,
    _bulk,
    _bulk_args,
    _read_journal,
    _record_moves,
    _start_when_moving,
)

pytestmark = pytest.mark.e2e

FIFO_GROUPS = [f"g{i}" for i in range(5)]
FIFO_PER_GROUP = 60  # 5 groups × 60 = 300 messages


@pytest.fixture
def fast_moto_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's SQS reads the clock through datetime arithmetic several times per message in
    the queue for every message it sends or receives, so a few hundred messages cost it
    seconds a request. Its `unix_time()` without an argument is the current POSIX time:
    hand it `time.time()` (same value, ~100x cheaper) for the server thread of this test
    process. Nothing dlqctl sends or sees changes, only how fast moto answers."""

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else moto_utils.unix_time(dt)

    monkeypatch.setattr("moto.sqs.models.unix_time", unix_time)
    monkeypatch.setattr("moto.sqs.models.unix_time_millis", lambda dt=None: unix_time(dt) * 1000)


def _receive_counts(sqs: Any, url: str) -> dict[str, int]:
    """Message id -> ApproximateReceiveCount for every message in the queue, read once
    and released. The reading is itself a receive: each count it returns includes it."""
    messages = receive_all(sqs, url)
    release(sqs, url, messages)
    return {m["MessageId"]: int(m["Attributes"]["ApproximateReceiveCount"]) for m in messages}


def _bodies(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message in the queue, read and released again."""
    messages = receive_all(sqs, url)
    release(sqs, url, messages)
    return messages


def _seed_fifo(world: World, name: str) -> dict[str, list[str]]:
    """FIFO_PER_GROUP messages in each of FIFO_GROUPS, interleaved (g0, g1, …, g4, g0, …);
    returns each group's bodies in the order sent."""
    url = world.urls[name]
    order: list[tuple[str, str]] = [
        (group, json.dumps({"group": group, "seq": seq}))
        for seq in range(FIFO_PER_GROUP)
        for group in FIFO_GROUPS
    ]
    for start in range(0, len(order), 10):
        chunk = order[start : start + 10]
        entries = [
            {
                "Id": str(i),
                "MessageBody": body,
                "MessageGroupId": group,
                "MessageDeduplicationId": f"seed-{start + i}",
            }
            for i, (group, body) in enumerate(chunk)
        ]
        response = world.sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not response.get("Failed"), response.get("Failed")
        for sent in response["Successful"]:
            world.expected[name][sent["MessageId"]] = chunk[int(sent["Id"])][1]
    by_group: dict[str, list[str]] = {}
    for group, body in order:
        by_group.setdefault(group, []).append(body)
    return by_group


def _drain_in_order(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive and delete until the queue is empty: on FIFO the receive order is the
    delivery order a consumer would see."""
    received: list[dict[str, Any]] = []
    empty = 0
    while empty < 2:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
        ).get("Messages", [])
        empty = 0 if batch else empty + 1
        if batch:
            received.extend(batch)
            response = sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
                ],
            )
            assert not response.get("Failed"), response.get("Failed")
    return received


def _assert_nothing_lost(world: World, sqs: Any, bodies: list[str], report: dict[str, Any]) -> None:
    """After a stopped bulk run: nothing held, DLQ + target hold exactly the originals,
    and the target exactly what the report says was deleted."""
    dlq_visible, dlq_held = world.counts("orders-dlq")
    assert dlq_held == 0, "messages still held in the DLQ after the run"
    assert world.counts("orders") == (report["deleted"], 0)
    assert dlq_visible == BULK - report["deleted"]
    in_dlq = _bodies(sqs, world.urls["orders-dlq"])
    in_target = _bodies(sqs, world.urls["orders"])
    assert len(in_target) == report["deleted"]
    assert Counter(m["Body"] for m in in_dlq + in_target) == Counter(bodies)


# -- 1. a whole FIFO DLQ in one run, group by group, in order ----------------------------


def test_whole_fifo_dlq_moves_in_one_run_in_group_order(
    dlqctl: Runner, world: World, sqs: Any, tmp_path: Path, fast_moto_clock: None
) -> None:
    world.create("bulk-dlq.fifo")
    world.create("bulk.fifo", dlq="bulk-dlq.fifo")
    expected_order = _seed_fifo(world, "bulk-dlq.fifo")
    originals = set(world.expected["bulk-dlq.fifo"])
    total = len(originals)
    assert total == 300
    journal = tmp_path / "journal.jsonl"

    started = time.monotonic()
    report = dlqctl(
        "redrive",
        "bulk-dlq.fifo",
        "--to",
        "bulk.fifo",
        "--all",
        "--max-messages",
        str(total),
        "--yes",
        "-o",
        "json",
        "--journal",
        str(journal),
    ).json()
    took = time.monotonic() - started

    assert (report["selected"], report["sent"], report["deleted"]) == (total, total, total)
    assert report["failed"] == []
    assert report["interrupted"] is False
    assert report["planned"] == []
    assert report["target"] == world.arn("bulk.fifo")
    assert world.counts("bulk-dlq.fifo") == (0, 0)
    assert world.counts("bulk.fifo") == (total, 0)

    records = _read_journal(journal)
    assert (records[0]["kind"], records[-1]["kind"]) == ("start", "end")
    assert records[-1]["outcome"] == "complete"
    deleted = [i for r in records if r["kind"] == "batch" for i in r["deleted"]]
    assert len(deleted) == total
    assert set(deleted) == originals
    new_ids = {s["new_message_id"] for r in records if r["kind"] == "batch" for s in r["sent"]}
    # One message per group per SendMessageBatch: a group's next message goes only once
    # the one before it was accepted.
    for record in records:
        if record["kind"] == "sending":
            groups = [
                json.loads(world.expected["bulk-dlq.fifo"][i])["group"]
                for i in record["message_ids"]
            ]
            assert len(groups) == len(set(groups)), f"one batch, one group twice: {groups}"

    # A consumer of the target sees every group in its original order, group ids kept.
    received = _drain_in_order(sqs, world.urls["bulk.fifo"])
    assert {m["MessageId"] for m in received} == new_ids
    by_group: dict[str, list[str]] = {}
    for message in received:
        group = message["Attributes"]["MessageGroupId"]
        assert json.loads(message["Body"])["group"] == group
        by_group.setdefault(group, []).append(message["Body"])
    assert by_group == expected_order

    # The world's invariant: the DLQ is empty, and the target was drained above.
    _record_moves(world, "bulk-dlq.fifo", "bulk.fifo", records)
    assert world.expected["bulk-dlq.fifo"] == {}
    world.expected["bulk.fifo"] = {}
    print(f"the 300-message FIFO redrive took {took:.1f}s")  # shown with -s


# -- 2. --max-messages 1 touches one message ---------------------------------------------


def test_max_messages_one_touches_only_one_message(
    dlqctl: Runner, world: World, sqs: Any, tmp_path: Path
) -> None:
    world.create("orders-dlq")
    world.create("orders", dlq="orders-dlq")
    world.send_many("orders-dlq", [json.dumps({"order_id": f"one-{i}"}) for i in range(30)])
    dlq_url = world.urls["orders-dlq"]
    before = _receive_counts(sqs, dlq_url)
    assert len(before) == 30
    journal = tmp_path / "journal.jsonl"

    report = dlqctl(
        "redrive",
        "orders-dlq",
        "--all",
        "--max-messages",
        "1",
        "--yes",
        "-o",
        "json",
        "--journal",
        str(journal),
    ).json()

    assert (report["selected"], report["sent"], report["deleted"]) == (1, 1, 1)
    assert report["coverage"]["scanned"] == 1, report["coverage"]
    assert report["stopped_because"] == "reached --max-messages (1)"
    assert world.counts("orders-dlq") == (29, 0)
    assert world.counts("orders") == (1, 0)
    records = _read_journal(journal)
    (moved,) = [i for r in records if r["kind"] == "batch" for i in r["deleted"]]
    assert moved in before

    # Every message left in the DLQ was never received by the run: between the two looks
    # its receive count rose by one, the second look's own receive.
    after = _receive_counts(sqs, dlq_url)
    assert set(after) == set(before) - {moved}
    raised = {i: (before[i], after[i]) for i in after if after[i] != before[i] + 1}
    assert not raised, f"receive counts (before, after) the run also raised: {raised}"
    (copy,) = _bodies(sqs, world.urls["orders"])
    assert copy["Body"] == world.expected["orders-dlq"][moved]
    _record_moves(world, "orders-dlq", "orders", records)


# -- 3. a duplicate payload already in the DLQ is not a re-failure -----------------------


def test_duplicate_payload_in_the_dlq_does_not_trip_the_breaker(
    dlqctl: Runner, world: World, sqs: Any, tmp_path: Path
) -> None:
    world.create("orders-dlq")
    world.create("orders", dlq="orders-dlq")
    twin = json.dumps({"order_id": "twin", "total": 20})
    # The twins go to different rounds (a receive takes 10): when the second is received,
    # the first one's copy is already out, with the same payload and body digest.
    bodies = [json.dumps({"order_id": f"dup-{i}"}) for i in range(24)]
    bodies[0] = bodies[15] = twin
    first_twin, *_, second_twin = [
        i
        for i, body in zip(world.send_many("orders-dlq", bodies), bodies, strict=True)
        if body == twin
    ]
    assert len(world.expected["orders-dlq"]) == 24
    journal = tmp_path / "journal.jsonl"

    result = dlqctl(
        "redrive",
        "orders-dlq",
        "--all",
        "--stop-after-failures",
        "1",
        "--yes",
        "-o",
        "json",
        "--journal",
        str(journal),
    )

    assert result.code == 0, result.describe()
    report = result.json()
    assert report["came_back"] == 0
    assert (report["selected"], report["sent"], report["deleted"]) == (24, 24, 24)
    assert report["failed"] == []
    assert not report["stopped_because"].startswith("circuit breaker"), report
    assert world.counts("orders-dlq") == (0, 0)
    assert world.counts("orders") == (24, 0)
    copies = _bodies(sqs, world.urls["orders"])
    assert Counter(m["Body"] for m in copies) == Counter(bodies)
    assert Counter(m["Body"] for m in copies)[twin] == 2
    # The second twin was sent in a later batch than the first one's copy.
    records = _read_journal(journal)
    batches = [r for r in records if r["kind"] == "batch"]
    batch_of = {i: n for n, r in enumerate(batches) for i in r["deleted"]}
    assert batch_of[first_twin] < batch_of[second_twin], batch_of
    _record_moves(world, "orders-dlq", "orders", records)


# -- 4. a canary wait shorter than a return is refused -----------------------------------


CANARY_ARGS = ["redrive", "orders-dlq", "--all", "--canary", "1", "--canary-wait", "10s"]


def _canary_world(world: World) -> list[str]:
    """orders (maxReceiveCount 3, VisibilityTimeout 30 s: a failed copy needs 90 s to come
    back) → orders-dlq holding 5 messages; returns their bodies."""
    world.create("orders-dlq")
    world.create("orders", dlq="orders-dlq", max_receive=3)
    world.sqs.set_queue_attributes(
        QueueUrl=world.urls["orders"], Attributes={"VisibilityTimeout": "30"}
    )
    bodies = [json.dumps({"order_id": f"canary-{i}"}) for i in range(5)]
    world.send_many("orders-dlq", bodies)
    return bodies


def test_canary_wait_shorter_than_a_return_is_refused(
    dlqctl: Runner, world: World, sqs: Any, tmp_path: Path
) -> None:
    _canary_world(world)
    dlq_url = world.urls["orders-dlq"]
    before = _receive_counts(sqs, dlq_url)

    refused = dlqctl(*CANARY_ARGS, "--yes", "-o", "json", "--journal", str(tmp_path / "j.jsonl"))

    assert refused.code == 4, refused.describe()
    assert world.counts("orders-dlq") == (5, 0)  # nothing moved, nothing held
    assert world.counts("orders") == (0, 0)
    # A refusal touches no message: only the second look raised the receive counts.
    after = _receive_counts(sqs, dlq_url)
    received = {i: (before[i], after[i]) for i in after if after[i] != before[i] + 1}
    assert not received, f"the refused run received messages (counts before, after): {received}"
    # … so it has no run to report: one error line naming the time a return needs.
    line = assert_one_error_line(refused, 4)
    assert "--canary-wait 10s" in line and "90s" in line and "--force" in line, line


def test_canary_wait_shorter_than_a_return_runs_with_force(
    dlqctl: Runner, world: World, sqs: Any, tmp_path: Path
) -> None:
    bodies = _canary_world(world)
    journal = tmp_path / "journal.jsonl"

    report = dlqctl(
        *CANARY_ARGS, "--force", "--yes", "-o", "json", "--journal", str(journal)
    ).json()

    assert (report["selected"], report["sent"], report["deleted"]) == (5, 5, 5)
    assert report["canary"]["passed"] is True, report["canary"]
    assert report["canary"]["size"] == 1
    assert report["canary"]["waited_s"] == pytest.approx(10, abs=1)
    assert world.counts("orders-dlq") == (0, 0)
    assert world.counts("orders") == (5, 0)
    assert Counter(m["Body"] for m in _bodies(sqs, world.urls["orders"])) == Counter(bodies)
    _record_moves(world, "orders-dlq", "orders", _read_journal(journal))


# -- 5. SIGTERM ends a run like Ctrl-C ----------------------------------------------------


def test_sigterm_stops_cleanly_and_reports(
    dlqctl: Runner, world: World, sqs: Any, tmp_path: Path
) -> None:
    bodies = _bulk(world)
    journal = tmp_path / "journal.jsonl"
    run = _start_when_moving(dlqctl, world, _bulk_args(journal))
    run.proc.send_signal(signal.SIGTERM)
    result = run.finish()

    assert result.code == 143, result.describe()
    assert "Traceback" not in result.stderr, result.describe()
    report = json.loads(result.stdout)
    assert report["interrupted"] is True
    assert report["stopped_because"] == "terminated"
    assert 0 < report["deleted"] < BULK
    assert report["sent"] == report["deleted"]
    assert report["possible_duplicates"] == 0
    assert report["selected"] == report["deleted"] + len(report["failed"])
    assert all(f["stage"] == "skipped" for f in report["failed"]), report["failed"]

    records = _read_journal(journal)
    assert records[-1]["kind"] == "end"
    assert records[-1]["outcome"] == "interrupted"
    assert records[-1]["summary"]["stopped_because"] == "terminated"
    _assert_nothing_lost(world, sqs, bodies, report)
    _record_moves(world, "orders-dlq", "orders", records)
    assert len(world.expected["orders"]) == report["deleted"]


# -- 6. a second Ctrl-C also ends with a report ------------------------------------------


def _interrupt_twice(run: Started) -> Result:
    """Ctrl-C, and Ctrl-C again as soon as dlqctl says it is stopping (so the second one
    lands while it finishes the round in hand); then the process's Result."""
    stderr: list[str] = []
    stdout: list[str] = []
    stopping = threading.Event()

    def read_stderr() -> None:
        assert run.proc.stderr is not None
        for line in run.proc.stderr:
            stderr.append(line)
            if "stopping after the batch in hand" in line:
                stopping.set()

    def read_stdout() -> None:
        assert run.proc.stdout is not None
        stdout.append(run.proc.stdout.read())

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stderr, read_stdout)]
    for reader in readers:
        reader.start()
    run.proc.send_signal(signal.SIGINT)
    try:
        assert stopping.wait(SIGNAL_DEADLINE_S), "dlqctl did not acknowledge the Ctrl-C"
        assert run.proc.poll() is None, "dlqctl ended before the second Ctrl-C"
        run.proc.send_signal(signal.SIGINT)
        run.proc.wait(timeout=RUN_TIMEOUT_S)
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
        for reader in readers:
            reader.join(timeout=10)
    result = Result(run.argv, run.proc.returncode, "".join(stdout), "".join(stderr))
    assert run.trap.hits == run.hits, (
        f"connections went past the test endpoint\n{result.describe()}"
    )
    return result


def test_second_sigint_stops_cleanly_and_reports(
    dlqctl: Runner, world: World, sqs: Any, tmp_path: Path
) -> None:
    bodies = _bulk(world)
    journal = tmp_path / "journal.jsonl"
    run = _start_when_moving(dlqctl, world, _bulk_args(journal))
    result = _interrupt_twice(run)

    assert result.code == 130, result.describe()
    assert "Traceback" not in result.stderr, result.describe()
    assert "stopping after the batch in hand" in result.stderr, result.describe()
    assert "stopping now" in result.stderr, result.describe()
    report = json.loads(result.stdout)
    assert report["interrupted"] is True
    assert report["stopped_because"] == "interrupted"
    assert 0 < report["deleted"] < BULK
    assert report["sent"] == report["deleted"]
    assert report["selected"] == report["deleted"] + len(report["failed"])
    assert all(f["stage"] == "skipped" for f in report["failed"]), report["failed"]

    records = _read_journal(journal)
    assert records[-1]["kind"] == "end"
    assert records[-1]["outcome"] == "interrupted"
    _assert_nothing_lost(world, sqs, bodies, report)
    _record_moves(world, "orders-dlq", "orders", records)


# -- 7. --max-messages 0 is a usage error ------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["redrive", "orders-dlq", "--all", "--max-messages", "0", "--yes", "-o", "json"],
        ["purge", "orders-dlq", "--all", "--max-messages", "0", "--yes", "-o", "json"],
    ],
    ids=["redrive", "purge"],
)
@cli_surface("refused before any AWS call")
def test_max_messages_zero_is_a_usage_error(
    dlqctl: Runner, orders: World, command: list[str]
) -> None:
    before = {name: orders.counts(name) for name in orders.urls}

    line = assert_one_error_line(dlqctl(*command), 2)

    assert "--max-messages" in line, line
    assert {name: orders.counts(name) for name in orders.urls} == before
    assert not (dlqctl.home / ".local" / "state" / "dlqctl").exists()
