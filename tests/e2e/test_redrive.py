"""`dlqctl redrive`: the real process against moto's server, signals included."""

from __future__ import annotations

import json
import signal
import stat
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    FIFO_SEED_GROUPS,
    ORDERS_DLQ_SEED,
    Runner,
    World,
    assert_one_error_line,
    cli_surface,
    receive_all,
    release,
    run_without_terminal,
    start_dlqctl,
)

pytestmark = pytest.mark.e2e

REDRIVE_COUNT = "dlqctl-redrive-count"
BULK = 60  # messages seeded for the signal tests
BATCH = 2  # their --batch-size: a kill can duplicate at most one batch
SIGNAL_DEADLINE_S = 20.0

# A message with every kind of attribute SQS has, to see each one survive the move.
RICH_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "ErrorType": {"DataType": "String", "StringValue": "ValidationError"},
    "tenant": {"DataType": "String", "StringValue": "acme ✓"},
    "attempt": {"DataType": "Number", "StringValue": "7"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
    "shape": {"DataType": "String.json", "StringValue": '{"a": 1}'},
}
RICH_BODY = json.dumps({"order_id": "o-rich", "note": "every attribute type"})


def _read_journal(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _record_moves(world: World, dlq: str, target: str, journal: list[dict[str, Any]]) -> None:
    """Tell the world's invariant where the journal says each message went: a copy sent
    to `target` (under its new id); the original gone from `dlq` only once deleted."""
    for record in journal:
        if record["kind"] != "batch":
            continue
        for sent in record["sent"]:
            body = world.expected[dlq][sent["message_id"]]
            world.expected[target][sent["new_message_id"]] = body
        for message_id in record["deleted"]:
            del world.expected[dlq][message_id]


def _wait_for(condition: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def _bulk(world: World) -> list[str]:
    """orders → orders-dlq holding BULK distinct messages; returns their bodies."""
    world.create("orders-dlq")
    world.create("orders", dlq="orders-dlq")
    bodies = [json.dumps({"order_id": f"bulk-{i}"}) for i in range(BULK)]
    world.send_many("orders-dlq", bodies)
    return bodies


def _bulk_args(journal: Path) -> list[str]:
    return [
        "redrive",
        "orders-dlq",
        "--all",
        "--max-messages",
        str(BULK),
        "--rate",
        "10",
        "--batch-size",
        str(BATCH),
        "--yes",
        "-o",
        "json",
        "--journal",
        str(journal),
    ]


def _start_when_moving(dlqctl: Runner, world: World, args: list[str], **kwargs: Any) -> Any:
    """Start a bulk redrive and return once it is moving (a copy reached the target).

    Waiting for that rather than a fixed time makes the signal land mid-run, after the
    scan, whatever the machine's speed.
    """
    run = start_dlqctl(dlqctl, *args, **kwargs)
    try:
        _wait_for(
            lambda: run.proc.poll() is not None or world.counts("orders")[0] >= BATCH,
            "the redrive to start moving",
            SIGNAL_DEADLINE_S,
        )
    except BaseException:
        run.proc.kill()
        run.finish()
        raise
    assert run.proc.poll() is None, "dlqctl finished before it could be signalled"
    time.sleep(0.3)  # a batch or so more, so the signal lands between or inside batches
    return run


# -- 1. a filtered redrive moves exactly the selection -----------------------------------


def test_redrive_moves_exactly_the_selected_messages(
    dlqctl: Runner, orders: World, sqs: Any, tmp_path: Path
) -> None:
    dlq_url, target_url = orders.urls["orders-dlq"], orders.urls["orders"]
    rich_id = sqs.send_message(
        QueueUrl=dlq_url, MessageBody=RICH_BODY, MessageAttributes=RICH_ATTRIBUTES
    )["MessageId"]
    orders.expected["orders-dlq"][rich_id] = RICH_BODY
    selected = {
        message_id
        for message_id, body in orders.expected["orders-dlq"].items()
        if body == RICH_BODY or dict(ORDERS_DLQ_SEED).get(body) == "ValidationError"
    }
    assert len(selected) == 4
    originals = {m["MessageId"]: m for m in receive_all(sqs, dlq_url)}
    release(sqs, dlq_url, list(originals.values()))
    journal = tmp_path / "journal.jsonl"

    report = dlqctl(
        "redrive",
        "orders-dlq",
        "--error-type",
        "ValidationError",
        "--yes",
        "-o",
        "json",
        "--journal",
        str(journal),
    ).json()

    assert report["dry_run"] is False
    assert report["interrupted"] is False
    assert (report["selected"], report["sent"], report["deleted"]) == (4, 4, 4)
    assert report["failed"] == []
    assert report["possible_duplicates"] == 0
    assert report["source"] == orders.arn("orders-dlq")
    assert report["target"] == orders.arn("orders")
    assert report["planned"] == []  # a run streams; its journal names every message
    moved = {i for r in _read_journal(journal) if r["kind"] == "batch" for i in r["deleted"]}
    assert moved == selected

    # The target holds a copy of each selected message: same body, same attributes, plus
    # the redrive count.
    copies = receive_all(sqs, target_url)
    release(sqs, target_url, copies)
    assert sorted(m["Body"] for m in copies) == sorted(
        orders.expected["orders-dlq"][i] for i in selected
    )
    by_body = {originals[i]["Body"]: originals[i] for i in selected}
    for copy in copies:
        original = by_body[copy["Body"]]
        attributes = dict(copy["MessageAttributes"])
        assert attributes.pop(REDRIVE_COUNT) == {"DataType": "Number", "StringValue": "1"}
        assert attributes == original["MessageAttributes"]
    rich = next(c for c in copies if c["Body"] == RICH_BODY)
    assert rich["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\x01\xfe\xff"

    # Nothing is left held in the DLQ, and the rest is untouched (the world's invariant
    # checks ids, bodies and visibility of every message in both queues).
    assert orders.counts("orders-dlq") == (6, 0)
    assert orders.counts("orders") == (4, 0)
    _record_moves(orders, "orders-dlq", "orders", _read_journal(journal))
    assert set(orders.expected["orders-dlq"]).isdisjoint(selected)


# -- 2. a dry run changes nothing --------------------------------------------------------


def test_dry_run_changes_nothing(dlqctl: Runner, orders: World) -> None:
    before = {name: orders.counts(name) for name in ("orders-dlq", "orders")}

    report = dlqctl("redrive", "orders-dlq", "--all", "--dry-run", "-o", "json").json()

    assert report["dry_run"] is True
    assert report["selected"] == len(ORDERS_DLQ_SEED)
    assert (report["sent"], report["deleted"], report["possible_duplicates"]) == (0, 0, 0)
    assert report["planned"], report
    assert {p["target"] for p in report["planned"]} == {orders.arn("orders")}
    assert {name: orders.counts(name) for name in ("orders-dlq", "orders")} == before
    assert before["orders-dlq"] == (len(ORDERS_DLQ_SEED), 0)
    # No audit record for a run that changed nothing.
    assert not (dlqctl.home / ".local" / "state" / "dlqctl" / "journal.jsonl").exists()


# -- 3. safety refusals ------------------------------------------------------------------


@cli_surface("refused before any AWS call")
def test_without_a_terminal_and_without_yes_it_refuses(dlqctl: Runner, orders: World) -> None:
    result = run_without_terminal(
        dlqctl, "redrive", "orders-dlq", "--error-type", "Timeout", "-o", "json"
    )
    line = assert_one_error_line(result, 4)
    assert "--yes" in line
    assert orders.counts("orders-dlq") == (len(ORDERS_DLQ_SEED), 0)
    assert orders.counts("orders") == (0, 0)


@cli_surface("refused before any AWS call")
def test_without_a_filter_or_all_it_refuses(dlqctl: Runner, orders: World) -> None:
    line = assert_one_error_line(dlqctl("redrive", "orders-dlq", "--yes", "-o", "json"), 4)
    assert "--all" in line
    assert orders.counts("orders-dlq") == (len(ORDERS_DLQ_SEED), 0)
    assert orders.counts("orders") == (0, 0)


# -- 4. Ctrl-C: finish the batch in hand, release the rest, report -----------------------


def test_sigint_stops_cleanly_and_reports(
    dlqctl: Runner, world: World, sqs: Any, tmp_path: Path
) -> None:
    bodies = _bulk(world)
    journal = tmp_path / "journal.jsonl"
    run = _start_when_moving(dlqctl, world, _bulk_args(journal))
    run.proc.send_signal(signal.SIGINT)
    result = run.finish()

    assert result.code == 130, result.describe()
    assert "Traceback" not in result.stderr, result.describe()
    assert "stopping after the batch in hand" in result.stderr, result.describe()
    report = json.loads(result.stdout)
    assert report["interrupted"] is True
    assert report["stopped_because"] == "interrupted"
    assert 0 < report["deleted"] < BULK
    assert report["sent"] == report["deleted"]
    # What the round in hand had received but not yet sent is reported, and stays.
    assert all(
        f["stage"] == "skipped" and f["reason"] == "not sent: the run stopped (interrupted)"
        for f in report["failed"]
    )
    assert report["selected"] == report["deleted"] + len(report["failed"])
    assert report["possible_duplicates"] == 0

    # Nothing held, nothing lost, nothing doubled: the target has exactly what was deleted.
    dlq_visible, dlq_held = world.counts("orders-dlq")
    assert dlq_held == 0
    assert world.counts("orders") == (report["deleted"], 0)
    assert dlq_visible == BULK - report["deleted"]
    dlq_messages = receive_all(sqs, world.urls["orders-dlq"])
    target_messages = receive_all(sqs, world.urls["orders"])
    release(sqs, world.urls["orders-dlq"], dlq_messages)
    release(sqs, world.urls["orders"], target_messages)
    assert len(target_messages) == report["deleted"]
    assert Counter(m["Body"] for m in dlq_messages + target_messages) == Counter(bodies)

    records = _read_journal(journal)
    assert records[-1]["kind"] == "end"
    assert records[-1]["outcome"] == "interrupted"
    # The journal names exactly what moved; the world's invariant checks it message by message.
    _record_moves(world, "orders-dlq", "orders", records)
    assert len(world.expected["orders"]) == report["deleted"]


# -- 5. SIGKILL: nothing lost, at most one batch doubled ---------------------------------


def test_sigkill_loses_nothing(dlqctl: Runner, sqs: Any, tmp_path: Path) -> None:
    # Not the `world` fixture: after a kill, which messages moved is only bounded, not
    # known, so this test checks its own invariant.
    world = World(sqs)
    bodies = _bulk(world)
    journal = tmp_path / "journal.jsonl"
    run = _start_when_moving(dlqctl, world, _bulk_args(journal), env={"DLQCTL_HOLD_S": "3"})
    run.proc.kill()
    result = run.finish()
    assert result.code == -signal.SIGKILL, result.describe()

    # What dlqctl held comes back by itself once its 3 s hold lapses.
    _wait_for(lambda: world.counts("orders-dlq")[1] == 0, "the DLQ holds to lapse", 15.0)
    # The end of the test: what is read stays held.
    in_dlq = receive_all(sqs, world.urls["orders-dlq"], hold_s=30)
    in_target = receive_all(sqs, world.urls["orders"], hold_s=30)
    copies = Counter(m["Body"] for m in in_dlq + in_target)
    missing = set(bodies) - set(copies)
    assert not missing, f"lost {len(missing)} messages: {sorted(missing)[:5]}"
    assert set(copies) == set(bodies)
    extras = sum(copies.values()) - len(bodies)
    assert 0 <= extras <= BATCH, f"{extras} duplicates: {copies.most_common(3)}"

    # Each journal record was made durable before the next batch: what it says moved did.
    records = _read_journal(journal)
    assert records[0]["kind"] == "start"
    assert all(r["kind"] in ("sending", "batch") for r in records[1:]), (
        "an end record after a kill?"
    )
    batches = [r for r in records[1:] if r["kind"] == "batch"]
    # Every batch was announced before it was sent; at most the last round is unfinished.
    announced = {i for r in records if r["kind"] == "sending" for i in r["message_ids"]}
    assert {i for b in batches for i in b["deleted"]} <= announced
    deleted = {i for b in batches for i in b["deleted"]}
    new_ids = {s["new_message_id"] for b in batches for s in b["sent"]}
    assert deleted.isdisjoint(m["MessageId"] for m in in_dlq)
    assert new_ids <= {m["MessageId"] for m in in_target}


# -- 6. the audit journal ----------------------------------------------------------------


def test_journal_records_the_run(dlqctl: Runner, orders: World, tmp_path: Path) -> None:
    journal = tmp_path / "audit" / "j.jsonl"
    timeouts = {
        message_id
        for message_id, body in orders.expected["orders-dlq"].items()
        if dict(ORDERS_DLQ_SEED).get(body) == "Timeout"
    }
    report = dlqctl(
        "redrive",
        "orders-dlq",
        "--error-type",
        "Timeout",
        "--batch-size",
        "1",
        "--yes",
        "-o",
        "json",
        "--journal",
        str(journal),
    ).json()
    assert report["deleted"] == len(timeouts) == 2

    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    records = _read_journal(journal)
    # --batch-size 1: two batches, each announced ("sending") before it was sent.
    kinds = [r["kind"] for r in records]
    assert (kinds[0], kinds[-1], sorted(kinds[1:-1])) == (
        "start",
        "end",
        ["batch", "batch", "sending", "sending"],
    )
    assert kinds.index("sending") < kinds.index("batch")
    assert len({r["run_id"] for r in records}) == 1
    assert records[0]["run_id"] == report["run_id"]
    start, *middle, end = records
    batches = [r for r in middle if r["kind"] == "batch"]
    assert {i for r in middle if r["kind"] == "sending" for i in r["message_ids"]} == timeouts
    assert start["command"] == "redrive"
    assert start["source"] == orders.arn("orders-dlq")
    assert start["target"] == [orders.arn("orders")]
    assert start["max_messages"] == 100  # the cap: a streaming run selects as it goes
    assert "Timeout" in json.dumps(start["filters"])
    assert {i for b in batches for i in b["deleted"]} == timeouts
    assert {s["message_id"] for b in batches for s in b["sent"]} == timeouts
    assert all(b["target"] == orders.arn("orders") and b["failed"] == [] for b in batches)
    assert end["outcome"] == "complete"
    assert end["summary"]["deleted"] == 2
    assert RICH_BODY not in journal.read_text(encoding="utf-8")  # digests, never bodies
    for record in records:
        assert record["user"] and record["host"] and record["time"]
    _record_moves(orders, "orders-dlq", "orders", records)


# -- 7. FIFO → FIFO keeps the order within each group ------------------------------------


def test_fifo_redrive_keeps_group_order(
    dlqctl: Runner, orders: World, sqs: Any, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    report = dlqctl(
        "redrive",
        "x-dlq.fifo",
        "--all",
        "--batch-size",
        "2",
        "--yes",
        "-o",
        "json",
        "--journal",
        str(journal),
    ).json()
    assert (report["selected"], report["sent"], report["deleted"]) == (5, 5, 5)
    assert report["failed"] == []
    assert report["target"] == orders.arn("x.fifo")

    received = receive_all(sqs, orders.urls["x.fifo"])
    release(sqs, orders.urls["x.fifo"], received)
    by_group: dict[str, list[int]] = {}
    for message in received:
        group = message["Attributes"]["MessageGroupId"]
        by_group.setdefault(group, []).append(json.loads(message["Body"])["seq"])
    expected: dict[str, list[int]] = {}
    for seq, group in enumerate(FIFO_SEED_GROUPS):
        expected.setdefault(group, []).append(seq)
    assert by_group == expected
    assert orders.counts("x-dlq.fifo") == (0, 0)
    _record_moves(orders, "x-dlq.fifo", "x.fifo", _read_journal(journal))
