"""Where `dlqctl redrive` sends messages, against an SQS that says where they came from.

LocalStack, like SQS, stamps DeadLetterQueueSourceArn on a message it dead-letters and
returns and enforces a DLQ's RedriveAllowPolicy; moto does neither, so these run on
LocalStack only. Each DLQ is filled natively (maxReceiveCount reached by receiving
without deleting), and every test reads the queues back afterwards.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .conftest import LOCALSTACK, Runner, World, assert_one_error_line, receive_all, release
from .test_localstack_move_task import SOURCES, fill_natively, two_sources
from .test_redrive import _read_journal

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.only_on(
        LOCALSTACK, reason="moto sets no DeadLetterQueueSourceArn and ignores RedriveAllowPolicy"
    ),
]


def _record_routed_moves(world: World, dlq: str, journal: list[dict[str, Any]]) -> None:
    """The world's invariant learns from the journal where each copy went (each batch
    names its target) and which originals left the DLQ."""
    for record in journal:
        if record["kind"] != "batch":
            continue
        target = str(record["target"]).rsplit(":", 1)[-1]
        for sent in record["sent"]:
            world.expected[target][sent["new_message_id"]] = world.expected[dlq][sent["message_id"]]
        for message_id in record["deleted"]:
            del world.expected[dlq][message_id]


def _bodies(world: World, name: str) -> list[dict[str, Any]]:
    messages = receive_all(world.sqs, world.urls[name])
    release(world.sqs, world.urls[name], messages)
    return messages


# -- 1. without --to, each message back to its own source ------------------------------------


def test_redrive_sends_each_message_back_to_its_own_source(
    dlqctl: Runner, world: World, tmp_path: Path
) -> None:
    bodies = two_sources(world)
    arns = {source: world.arn(source) for source in SOURCES}
    by_body = {b: source for source in SOURCES for b in bodies[source]}
    journal = tmp_path / "journal.jsonl"

    plan = dlqctl("redrive", "shared-dlq", "--all", "--dry-run", "-o", "json").json()
    run = dlqctl(
        "redrive", "shared-dlq", "--all", "--yes", "-o", "json", "--journal", str(journal)
    ).json()

    # The plan names each message's own source; the run sends it there.
    dlq_bodies = world.expected["shared-dlq"]
    assert {p["message_id"]: p["target"] for p in plan["planned"]} == {
        message_id: arns[by_body[body]] for message_id, body in dlq_bodies.items()
    }
    assert (run["selected"], run["sent"], run["deleted"]) == (6, 6, 6)
    assert run["failed"] == []
    assert run["target"] is None  # several targets
    records = _read_journal(journal)
    _record_routed_moves(world, "shared-dlq", records)
    assert world.counts("shared-dlq") == (0, 0)
    for source in SOURCES:
        copies = _bodies(world, source)
        assert Counter(m["Body"] for m in copies) == Counter(bodies[source]), source
    assert {r["target"] for r in records if r["kind"] == "batch"} == set(arns.values())


# -- 2. RedriveAllowPolicy refusals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "args", "says"),
    [
        (
            {"redrivePermission": "denyAll"},
            (),
            "RedriveAllowPolicy",
        ),
        (
            {"redrivePermission": "byQueue", "sourceQueueArns": ["{orders}"]},
            ("--to", "audit"),
            "does not list audit as a source",
        ),
    ],
    ids=["denyAll", "byQueue"],
)
def test_redrive_allow_policy_refuses_and_changes_nothing(
    dlqctl: Runner, world: World, policy: dict[str, Any], args: tuple[str, ...], says: str
) -> None:
    world.create("orders-dlq")
    world.create("orders", dlq="orders-dlq", max_receive=1)
    world.create("audit")
    fill_natively(world, "orders", "orders-dlq", [json.dumps({"n": n}) for n in range(3)])
    text = json.dumps(policy).replace("{orders}", world.arn("orders"))
    world.sqs.set_queue_attributes(
        QueueUrl=world.urls["orders-dlq"], Attributes={"RedriveAllowPolicy": text}
    )
    before = {
        m["MessageId"]: m["Attributes"]["ApproximateReceiveCount"]
        for m in _bodies(world, "orders-dlq")
    }

    result = dlqctl("redrive", "orders-dlq", "--all", "--yes", *args)

    line = assert_one_error_line(result, 4)
    assert says in line, line
    # Nothing moved and nothing held; the refusal came before any receive.
    assert world.counts("orders-dlq") == (3, 0)
    assert world.counts("orders") == (0, 0)
    assert world.counts("audit") == (0, 0)
    after = {
        m["MessageId"]: m["Attributes"]["ApproximateReceiveCount"]
        for m in _bodies(world, "orders-dlq")
    }
    assert after.keys() == before.keys()
    assert all(int(after[i]) == int(before[i]) + 1 for i in after), (before, after)


# -- 3. FIFO inside the 5-minute deduplication window ------------------------------------------


def test_fifo_redrive_inside_the_deduplication_window_arrives(
    dlqctl: Runner, world: World, tmp_path: Path
) -> None:
    """The source accepted these messages' deduplication ids a moment ago (and LocalStack
    keeps them in the DLQ): dlqctl's copies carry fresh ones, so all of them arrive, in
    their order."""
    world.create("x-dlq.fifo")
    world.create("x.fifo", dlq="x-dlq.fifo", max_receive=1)
    bodies = [json.dumps({"seq": n}) for n in range(4)]
    for body in bodies:  # one at a time, so they enter the DLQ in order
        fill_natively(world, "x.fifo", "x-dlq.fifo", [body])
    kept = {m["Attributes"].get("MessageDeduplicationId") for m in _bodies(world, "x-dlq.fifo")}
    journal = tmp_path / "journal.jsonl"

    report = dlqctl(
        "redrive", "x-dlq.fifo", "--all", "--yes", "-o", "json", "--journal", str(journal)
    ).json()

    assert (report["selected"], report["sent"], report["deleted"]) == (4, 4, 4)
    assert report["target"] == world.arn("x.fifo")
    copies = _bodies(world, "x.fifo")
    assert [m["Body"] for m in copies] == bodies  # all arrived, in order
    fresh = {m["Attributes"].get("MessageDeduplicationId") for m in copies}
    assert fresh.isdisjoint(kept), (fresh, kept)
    _record_routed_moves(world, "x-dlq.fifo", _read_journal(journal))
    assert world.counts("x-dlq.fifo") == (0, 0)
