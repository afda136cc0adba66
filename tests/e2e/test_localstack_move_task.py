"""`dlqctl move-task` against an SQS that runs move tasks: LocalStack's.

moto implements neither StartMessageMoveTask, ListMessageMoveTasks nor
CancelMessageMoveTask, nor the DeadLetterQueueSourceArn a task without --to routes by;
there dlqctl can only say so (the last test). Here each DLQ is filled the way SQS fills
one: messages sent to the source and received past its maxReceiveCount.

LocalStack moves one message at a time and, with a rate, waits 1/rate seconds after each:
at --rate 1 a task of RUNNING_TASK messages runs for about as many seconds, long enough to
be seen RUNNING and cancelled even when each dlqctl process takes seconds to start on a
busy machine (with 6 messages, a start, a status and a cancel sometimes came too late). Every test reads the queues back: what the task moved is in the target,
the rest still in the DLQ, nothing held, nothing lost or doubled.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import (
    LOCALSTACK,
    MOTO,
    Result,
    Runner,
    World,
    assert_one_error_line,
    receive_all,
    release,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.only_on(LOCALSTACK, reason="moto implements no move-task API"),
]

TASK_DEADLINE_S = 30.0
RECEIVES_AFTER = 10  # each source's maxReceiveCount once its DLQ is filled
SOURCES = ("orders", "payments")


def fill_natively(world: World, source: str, dlq: str, bodies: list[str]) -> None:
    """Send `bodies` to `source` (maxReceiveCount 1) and receive until SQS has moved each
    of them to `dlq`, as it does with messages that keep failing. On FIFO all go in one
    group, each with a deduplication id of its own."""
    ids = []
    for body in bodies:
        kwargs: dict[str, Any] = {"QueueUrl": world.urls[source], "MessageBody": body}
        if source.endswith(".fifo"):
            kwargs |= {"MessageGroupId": "g", "MessageDeduplicationId": f"seed-{uuid.uuid4()}"}
        ids.append(str(world.sqs.send_message(**kwargs)["MessageId"]))
        world.expected[source][ids[-1]] = body
    deadline = time.monotonic() + TASK_DEADLINE_S
    while world.counts(source) != (0, 0):
        assert time.monotonic() < deadline, f"{source} did not dead-letter its messages"
        world.sqs.receive_message(
            QueueUrl=world.urls[source], MaxNumberOfMessages=10, VisibilityTimeout=0
        )
    for message_id in ids:
        world.moved(source, dlq, message_id)
    # The cause is fixed: a redriven message may now be received (and read back by the
    # test) without going straight back to the DLQ.
    policy = {"deadLetterTargetArn": world.arn(dlq), "maxReceiveCount": str(RECEIVES_AFTER)}
    world.sqs.set_queue_attributes(
        QueueUrl=world.urls[source], Attributes={"RedrivePolicy": json.dumps(policy)}
    )


# Messages in the DLQ of a task that must still be running after a few dlqctl runs.
RUNNING_TASK = 20


def two_sources(world: World, per_source: int = 3) -> dict[str, list[str]]:
    """orders and payments (maxReceiveCount 1) → shared-dlq, filled natively; returns
    each source's bodies."""
    world.create("shared-dlq")
    bodies: dict[str, list[str]] = {}
    for source in SOURCES:
        world.create(source, dlq="shared-dlq", max_receive=1)
        bodies[source] = [json.dumps({"from": source, "n": n}) for n in range(per_source)]
        fill_natively(world, source, "shared-dlq", bodies[source])
    return bodies


def wait_for(what: str, check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + TASK_DEADLINE_S
    while not (value := check()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)
    return value


def tasks(dlqctl: Runner, dlq: str) -> list[dict[str, Any]]:
    document = dlqctl("move-task", "status", dlq, "-o", "json").json()
    return list(document["tasks"])


def settle(world: World, dlqctl: Runner, dlq: str, status: str) -> dict[str, Any]:
    """Wait (asking SQS directly: a dlqctl process costs a second) until the DLQ's newest
    task has `status`; then the task as `dlqctl move-task status` shows it."""

    def newest_status() -> bool:
        listed = world.sqs.list_message_move_tasks(SourceArn=world.arn(dlq), MaxResults=1)
        return bool(listed["Results"] and listed["Results"][0]["Status"] == status)

    wait_for(f"the task to be {status}", newest_status)
    newest = tasks(dlqctl, dlq)[0]
    assert newest["status"] == status, newest
    return newest


def record_move(world: World, dlq: str, target: str) -> Counter[str]:
    """Tell the world's invariant what a task moved: the target's messages (new ids),
    matched by body to the DLQ's. Returns the target's bodies, counted."""
    copies = receive_all(world.sqs, world.urls[target])
    release(world.sqs, world.urls[target], copies)
    for copy in copies:
        original = next(i for i, b in world.expected[dlq].items() if b == copy["Body"])
        del world.expected[dlq][original]
        world.expected[target][copy["MessageId"]] = copy["Body"]
    return Counter(copy["Body"] for copy in copies)


def history_runs(dlqctl: Runner) -> list[dict[str, Any]]:
    return list(dlqctl("history", "-o", "json", endpoint=None).json()["runs"])


# -- 1. start → RUNNING → cancel → CANCELLED -----------------------------------------------


@pytest.mark.parametrize("to", [None, "replay"], ids=["to-sources", "to-replay"])
def test_start_status_cancel(dlqctl: Runner, world: World, to: str | None) -> None:
    bodies = two_sources(world, per_source=RUNNING_TASK // 2)
    if to:
        world.create(to)
    dlq_arn = world.arn("shared-dlq")
    args = ["move-task", "start", "shared-dlq", "--rate", "1", "--yes", "-o", "json"]

    started = dlqctl(*args, *(["--to", to] if to else [])).json()

    assert started["source"] == dlq_arn
    assert started["destination"] == (world.arn(to) if to else None)
    assert started["rate"] == 1
    running = tasks(dlqctl, "shared-dlq")[0]
    assert running["status"] == "RUNNING", running
    assert running["task_handle"] == started["task_handle"]
    assert (running["source"], running["destination"]) == (dlq_arn, started["destination"])
    assert running["rate"] == 1
    assert running["to_move"] == RUNNING_TASK
    assert 0 <= running["moved"] < RUNNING_TASK
    assert running["started_at"] and running["started_at"].endswith("Z")

    cancelled = dlqctl("move-task", "cancel", "shared-dlq", "-o", "json").json()
    assert cancelled["task_handle"] == started["task_handle"]
    final = settle(world, dlqctl, "shared-dlq", "CANCELLED")

    # What moved stays moved, the rest stays in the DLQ; nothing held, nothing doubled.
    assert 0 < final["moved"] < RUNNING_TASK, final
    moved: Counter[str] = Counter()
    for target in [to] if to else list(SOURCES):
        moved += record_move(world, "shared-dlq", target)
    assert sum(moved.values()) == final["moved"]
    assert world.counts("shared-dlq") == (RUNNING_TASK - final["moved"], 0)
    everything = Counter(b for source in SOURCES for b in bodies[source])
    left = Counter(world.expected["shared-dlq"].values())
    assert moved + left == everything
    if not to:  # back to each message's own source
        for source in SOURCES:
            assert set(world.expected[source].values()) <= set(bodies[source])
    # The journal has the start, under a run id of its own.
    (run,) = history_runs(dlqctl)
    assert run["command"] == "move-task start"
    assert run["source"] == dlq_arn


# -- 2. a task to COMPLETED, with its figures ---------------------------------------------


@pytest.mark.parametrize("to", [None, "replay"], ids=["to-sources", "to-replay"])
def test_task_completes_with_the_figures_shown(
    dlqctl: Runner, world: World, to: str | None
) -> None:
    bodies = two_sources(world)
    if to:
        world.create(to)

    started = dlqctl(
        "move-task", "start", "shared-dlq", "--yes", "-o", "json", *(["--to", to] if to else [])
    ).json()
    assert started["rate"] is None
    done = settle(world, dlqctl, "shared-dlq", "COMPLETED")

    assert (done["moved"], done["to_move"]) == (6, 6)
    assert done["failure_reason"] is None
    assert done["rate"] is None
    table = dlqctl("move-task", "status", "shared-dlq")
    assert table.code == 0, table.describe()
    (row,) = [line.split() for line in table.stdout.splitlines() if "COMPLETED" in line]
    assert row[:4] == ["COMPLETED", "6", "6", "-"], table.stdout  # status, moved, to move, rate
    assert done["started_at"][:10] in table.stdout  # the start time is shown, not cut

    assert world.counts("shared-dlq") == (0, 0)
    if to:
        assert record_move(world, "shared-dlq", to) == Counter(
            b for source in SOURCES for b in bodies[source]
        )
    else:  # each message went back to the queue it failed in: DeadLetterQueueSourceArn
        for source in SOURCES:
            assert record_move(world, "shared-dlq", source) == Counter(bodies[source])


# -- 3. two tasks, two runs ------------------------------------------------------------------


def test_each_task_is_a_run_of_its_own(dlqctl: Runner, world: World) -> None:
    two_sources(world, per_source=RUNNING_TASK // 2)
    handles = []
    for _ in range(2):
        started = dlqctl("move-task", "start", "shared-dlq", "--rate", "1", "--yes", "-o", "json")
        handles.append(started.json()["task_handle"])
        dlqctl("move-task", "cancel", "shared-dlq", "-o", "json").json()
        settle(world, dlqctl, "shared-dlq", "CANCELLED")

    runs = history_runs(dlqctl)
    assert len(runs) == 2, runs
    assert len({run["run_id"] for run in runs}) == 2, runs
    assert handles[0] != handles[1]
    for source in SOURCES:
        record_move(world, "shared-dlq", source)
    assert world.counts("shared-dlq")[1] == 0


# -- 4. the move-task API's own errors, passed through ---------------------------------------


def _error_line(result: Result, code: int) -> str:
    return assert_one_error_line(result, code)


def test_errors_keep_their_message_and_exit_code(dlqctl: Runner, world: World) -> None:
    two_sources(world, per_source=RUNNING_TASK // 2)
    world.create("plain")

    not_a_dlq = _error_line(dlqctl("move-task", "start", "plain", "--yes"), 1)
    assert "Source queue must be configured as a Dead Letter Queue" in not_a_dlq
    assert "does not implement" not in not_a_dlq

    dlqctl("move-task", "start", "shared-dlq", "--rate", "1", "--yes", "-o", "json").json()
    again = _error_line(dlqctl("move-task", "start", "shared-dlq", "--yes"), 1)
    assert "There is already a task running" in again, again
    bogus = _error_line(dlqctl("move-task", "cancel", "shared-dlq", "--task", "bogus"), 1)
    assert "Value for parameter TaskHandle is invalid" in bogus, bogus

    dlqctl("move-task", "cancel", "shared-dlq", "-o", "json").json()
    settle(world, dlqctl, "shared-dlq", "CANCELLED")
    for source in SOURCES:
        record_move(world, "shared-dlq", source)
    assert world.counts("shared-dlq")[1] == 0
    assert world.counts("plain") == (0, 0)


# -- 5. a FIFO DLQ inside the deduplication window -------------------------------------------


def _fifo_world(world: World) -> list[str]:
    world.create("x-dlq.fifo")
    world.create("x.fifo", dlq="x-dlq.fifo", max_receive=1)
    bodies = [json.dumps({"seq": n}) for n in range(4)]
    for body in bodies:  # one at a time, so they enter the DLQ in order
        fill_natively(world, "x.fifo", "x-dlq.fifo", [body])
    return bodies


def test_fifo_start_inside_the_window_is_refused(dlqctl: Runner, world: World) -> None:
    _fifo_world(world)

    result = dlqctl("move-task", "start", "x-dlq.fifo", "--yes")

    assert result.code == 4, result.describe()
    assert result.stdout == ""
    *warnings, error = result.stderr.splitlines()
    assert error.startswith("dlqctl: error: a message entered x-dlq.fifo "), error
    assert "5-minute deduplication window" in error and "--force" in error
    assert "`dlqctl redrive x-dlq.fifo --all`" in error
    assert any("x-dlq.fifo is FIFO" in w and "deduplication" in w for w in warnings), warnings
    # Refused before anything started: no task, nothing moved, nothing held.
    assert tasks(dlqctl, "x-dlq.fifo") == []
    assert world.counts("x-dlq.fifo") == (4, 0)
    assert world.counts("x.fifo") == (0, 0)


def test_fifo_start_with_force_shows_why_the_window_matters(dlqctl: Runner, world: World) -> None:
    """LocalStack re-sends each message with its original deduplication id, which the
    source accepted less than 5 minutes ago: the task reports every message moved, and
    the source received none. (Whether AWS does so is not known here; its docs say a FIFO
    DLQ keeps the original message id as the deduplication id.)"""
    _fifo_world(world)

    result = dlqctl("move-task", "start", "x-dlq.fifo", "--yes", "--force", "-o", "json")
    started = result.json()
    assert "x-dlq.fifo is FIFO" in result.stderr  # the warning comes all the same
    done = settle(world, dlqctl, "x-dlq.fifo", "COMPLETED")

    assert done["task_handle"] is None or done["task_handle"] == started["task_handle"]
    assert done["moved"] == 4
    assert world.counts("x-dlq.fifo") == (0, 0)
    assert world.counts("x.fifo") == (0, 0), "LocalStack delivered the re-sent messages"
    world.expected["x-dlq.fifo"] = {}  # gone: the source dropped them as duplicates


# -- 6. where the API is missing, dlqctl says so -----------------------------------------------


@pytest.mark.only_on(MOTO, reason="LocalStack implements the move-task API")
def test_moto_says_it_does_not_implement_move_tasks(dlqctl: Runner, orders: World) -> None:
    result = dlqctl("move-task", "start", "orders-dlq", "--yes", env={"DLQCTL_MAX_ATTEMPTS": "1"})
    line = assert_one_error_line(result, 1)
    assert "this endpoint does not implement StartMessageMoveTask" in line
    assert "use `dlqctl redrive`" in line
    assert orders.counts("orders-dlq") == (9, 0)
