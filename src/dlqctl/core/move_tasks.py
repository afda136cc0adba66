"""SQS's own server-side move task (StartMessageMoveTask): the unfiltered bulk move.

It moves every message of a DLQ, up to 500 a second, with no filter, no canary and
nothing held by dlqctl: the distributed engine for moves too big for one machine.

On a FIFO DLQ it has a trap dlqctl's redrive has not: a FIFO queue drops a message
whose deduplication id it accepted in the last 5 minutes, and a move task does not
promise fresh ids (LocalStack re-sends each message's original one: its task then
reports every message moved while the source received none). `redrive` sends each copy
with a fresh id. So before a FIFO task dlqctl warns, and looks at the DLQ: when a
message entered it less than 5 minutes ago, the task is refused unless `force`.

`dlqctl move-task --help` imports this module for MOVE_TASK_MAX_RATE, so what reaches
AWS (the queues, the look, and through them boto3 and the models) is imported by the
functions that use it, not here.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlqctl.core.durations import format_duration
from dlqctl.core.journal import Journal
from dlqctl.errors import NotFoundError, RefusedError, UsageError

if TYPE_CHECKING:
    from dlqctl.aws.session import AwsSession
    from dlqctl.aws.sqs import SqsGateway
    from dlqctl.models import MoveTask, MoveTaskCancelled, MoveTaskStarted, QueueInfo, QueueRef

MOVE_TASK_MAX_RATE = 500  # SQS's ceiling for MaxNumberOfMessagesPerSecond
DEDUPLICATION_WINDOW_S = 300  # a FIFO queue's deduplication interval: 5 minutes


def start(
    aws: AwsSession,
    queue: str | QueueRef,
    *,
    to: str | None,
    rate: int | None,
    confirm: Callable[[QueueInfo], bool] | None,
    journal: Path | None,
    force: bool = False,
    warn: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> MoveTaskStarted:
    """Start the task. On a FIFO DLQ, `warn` hears about the deduplication window first
    and the task is refused when a message entered the DLQ inside it, unless `force`."""
    if rate is not None and not 1 <= rate <= MOVE_TASK_MAX_RATE:
        raise UsageError(f"--rate must be 1 to {MOVE_TASK_MAX_RATE} messages a second")
    from dlqctl.core.queues import describe, open_queue
    from dlqctl.models import MoveTaskStarted

    sqs, url = open_queue(aws, queue)
    source = describe(sqs, url)
    destination = describe(*open_queue(aws, to), with_sources=False).arn if to else None
    if source.fifo:
        check_deduplication_window(aws, sqs, source, force=force, warn=warn, clock=clock)
    if confirm is not None and not confirm(source):
        raise RefusedError("not confirmed: nothing was started")
    handle = sqs.start_move_task(source.arn, destination, rate)
    # A run id of its own: a task handle's tail encodes the DLQ, not the task.
    run_id = uuid.uuid4().hex[:12]
    log = Journal(journal, run_id=run_id)
    log.start(
        "move-task start", source=source.arn, target=destination, task_handle=handle, rate=rate
    )
    log.record("end", outcome="started", summary={"task_handle": handle})
    return MoveTaskStarted(
        run_id=run_id, task_handle=handle, source=source.arn, destination=destination, rate=rate
    )


def check_deduplication_window(
    aws: AwsSession,
    sqs: SqsGateway,
    source: QueueInfo,
    *,
    force: bool,
    warn: Callable[[str], None] | None,
    clock: Callable[[], float] = time.time,
) -> None:
    """Warn about a FIFO DLQ's deduplication window; refuse (unless `force`) when a look
    sees a message that entered the DLQ less than 5 minutes ago.

    When a message entered the DLQ is its SentTimestamp: SQS documents that a FIFO
    message's enqueue time restarts when it is moved to a DLQ, while moto and LocalStack
    keep the original send time, which on LocalStack is also when the source first
    accepted the deduplication id it re-sends. Either way it is the clock to go by.
    """
    from dlqctl.core.looks import ReceiveCounts, check_looks
    from dlqctl.core.scan import Scan, ScanLimits

    say = warn or _ignore
    redrive = f"`dlqctl redrive {source.name} --all` sends each message with a fresh one"
    say(
        f"{source.name} is FIFO: a move task may re-send messages with deduplication ids "
        "the target has seen (LocalStack re-sends the original ids), and a FIFO queue drops "
        f"a message whose deduplication id it accepted in the last 5 minutes; {redrive}"
    )
    counts = ReceiveCounts()
    look_warning = check_looks(source, counts.highest(source.arn), force=force)
    if look_warning:
        say(look_warning)
    newest_ms: int | None = None
    limits = ScanLimits(
        max_scan=aws.settings.max_scan,
        wait_s=aws.settings.receive_wait_s,
        hold_s=aws.settings.hold_s,
        lanes=1,  # FIFO: one receive in flight (core/scan.py)
    )
    with Scan(sqs, source.url, visible_at_start=source.visible, limits=limits) as scan:
        for raw in scan.messages():
            sent = raw.get("Attributes", {}).get("SentTimestamp")
            if sent is not None and str(sent).isdigit():
                newest_ms = max(newest_ms or 0, int(sent))
    if source.redrive_policy is not None and scan.highest_receive_count is not None:
        counts.record(source.arn, scan.highest_receive_count)
    if newest_ms is None:
        return
    age_s = max(0.0, clock() - newest_ms / 1000)
    if age_s < DEDUPLICATION_WINDOW_S and not force:
        wait = format_duration(DEDUPLICATION_WINDOW_S - age_s + 59)  # rounded up to a minute
        raise RefusedError(
            f"a message entered {source.name} {format_duration(age_s)} ago, inside a FIFO "
            "queue's 5-minute deduplication window: a move task may re-send a deduplication "
            f"id the target still drops; {redrive}, or wait about {wait}, or pass --force"
        )
    if not scan.complete:
        say(
            f"the look saw {scan.scanned} of ~{source.depth} messages of {source.name} (a FIFO "
            "queue hides the rest of a group while its first messages are held): those "
            "unseen may have entered it less than 5 minutes ago"
        )


def tasks(aws: AwsSession, queue: str | QueueRef) -> tuple[QueueInfo, list[MoveTask]]:
    """The DLQ's recent move tasks, newest first (as SQS lists them)."""
    from dlqctl.core.queues import describe, open_queue

    sqs, url = open_queue(aws, queue)
    source = describe(sqs, url, with_sources=False)
    return source, [_task(raw) for raw in sqs.list_move_tasks(source.arn)]


def cancel(aws: AwsSession, queue: str | QueueRef, task: str | None) -> MoveTaskCancelled:
    """Cancel `task`, or the DLQ's one running task."""
    from dlqctl.core.queues import describe, open_queue
    from dlqctl.models import MoveTaskCancelled

    sqs, url = open_queue(aws, queue)
    if task is None:
        source = describe(sqs, url, with_sources=False)
        running = [t for t in sqs.list_move_tasks(source.arn) if t.get("Status") == "RUNNING"]
        if not running:
            raise NotFoundError(f"no running move task for {source.name}")
        if len(running) > 1:
            raise UsageError("several tasks are running: pass --task HANDLE")
        task = str(running[0]["TaskHandle"])
    return MoveTaskCancelled(task_handle=task, moved=sqs.cancel_move_task(task))


def _task(raw: dict[str, Any]) -> MoveTask:
    from dlqctl.models import MoveTask

    started = raw.get("StartedTimestamp")
    return MoveTask(
        task_handle=raw.get("TaskHandle"),
        status=raw.get("Status"),
        source=raw.get("SourceArn"),
        destination=raw.get("DestinationArn"),
        rate=raw.get("MaxNumberOfMessagesPerSecond"),
        moved=raw.get("ApproximateNumberOfMessagesMoved", 0),
        to_move=raw.get("ApproximateNumberOfMessagesToMove"),
        failure_reason=raw.get("FailureReason"),
        started_at=datetime.fromtimestamp(started / 1000, UTC).isoformat().replace("+00:00", "Z")
        if started
        else None,
    )


def _ignore(_: str) -> None:
    pass
