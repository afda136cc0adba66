"""SQS's own server-side move task (StartMessageMoveTask): the unfiltered bulk move.

It moves every message of a DLQ, up to 500 a second, with no filter, no canary and
nothing held by dlqctl: the distributed engine for moves too big for one machine.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dlqctl.aws.session import AwsSession
from dlqctl.core.journal import Journal
from dlqctl.core.queues import describe, open_queue
from dlqctl.errors import NotFoundError, RefusedError, UsageError
from dlqctl.models import MoveTask, MoveTaskCancelled, MoveTaskStarted, QueueInfo, QueueRef

MOVE_TASK_MAX_RATE = 500  # SQS's ceiling for MaxNumberOfMessagesPerSecond


def start(
    aws: AwsSession,
    queue: str | QueueRef,
    *,
    to: str | None,
    rate: int | None,
    confirm: Callable[[QueueInfo], bool] | None,
    journal: Path | None,
) -> MoveTaskStarted:
    if rate is not None and not 1 <= rate <= MOVE_TASK_MAX_RATE:
        raise UsageError(f"--rate must be 1 to {MOVE_TASK_MAX_RATE} messages a second")
    sqs, url = open_queue(aws, queue)
    source = describe(sqs, url)
    destination = describe(*open_queue(aws, to), with_sources=False).arn if to else None
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


def tasks(aws: AwsSession, queue: str | QueueRef) -> tuple[QueueInfo, list[MoveTask]]:
    """The DLQ's recent move tasks, newest first (as SQS lists them)."""
    sqs, url = open_queue(aws, queue)
    source = describe(sqs, url, with_sources=False)
    return source, [_task(raw) for raw in sqs.list_move_tasks(source.arn)]


def cancel(aws: AwsSession, queue: str | QueueRef, task: str | None) -> MoveTaskCancelled:
    """Cancel `task`, or the DLQ's one running task."""
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
