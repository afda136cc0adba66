"""`dlqctl move-task`: SQS's own server-side redrive, for unfiltered bulk moves."""

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, command
from dlqctl.cli.moving import can_prompt
from dlqctl.cli.output import OutputFormat
from dlqctl.core.journal import Journal
from dlqctl.core.queues import describe, open_queue
from dlqctl.errors import NotFoundError, RefusedError, UsageError

MOVE_TASK_MAX_RATE = 500  # SQS's ceiling for MaxNumberOfMessagesPerSecond

move_task_app = typer.Typer(
    name="move-task",
    help="SQS's server-side move task (StartMessageMoveTask): every message, up to 500/s, no filters.",
    no_args_is_help=True,
)
app.add_typer(move_task_app, name="move-task")

QueueArgument = Annotated[
    str | None, typer.Argument(help="The DLQ: name, URL or ARN (default: the --pipeline's DLQ).")
]


@command(move_task_app, "start", groups=("aws", "output"))
def start(
    inv: Invocation,
    queue: QueueArgument = None,
    to: Annotated[
        str | None,
        typer.Option(
            help="Destination queue (default: SQS sends each message back to its source)."
        ),
    ] = None,
    rate: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MOVE_TASK_MAX_RATE,
            help="Messages a second, at most 500 (default: SQS decides).",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Start moving EVERY message of a DLQ, server-side. No filter, no canary: for bulk moves
    after the root cause is fixed. Use `dlqctl redrive` to be selective.

    **Examples:**

        dlqctl move-task start orders-dlq --rate 50

        dlqctl move-task start orders-dlq --to orders-replay --yes -o json
    """
    sqs, url = open_queue(inv.api.aws, inv.queue(queue))
    source = describe(sqs, url)
    destination = describe(*open_queue(inv.api.aws, to), with_sources=False).arn if to else None
    if not yes:
        if not can_prompt():
            raise RefusedError("no terminal to confirm on: pass --yes")
        where = to or "their source queues"
        if not typer.confirm(
            f"Move all ~{source.depth} messages of {source.name} to {where}?",
            default=False,
            err=True,
        ):
            raise RefusedError("not confirmed: nothing was started")
    handle = sqs.start_move_task(source.arn, destination, rate)
    journal = Journal(inv.values.get("journal"), run_id=handle[-12:])
    journal.start(
        "move-task start", source=source.arn, target=destination, task_handle=handle, rate=rate
    )
    journal.record("end", outcome="started", summary={"task_handle": handle})
    result = {"task_handle": handle, "source": source.arn, "destination": destination, "rate": rate}
    message = f"started move task {handle}\nwatch it with: dlqctl move-task status {source.name}"
    inv.out.report(result, lambda: message, [])


@command(move_task_app, "status", groups=("aws", "output"))
def status(inv: Invocation, queue: QueueArgument = None) -> None:
    """Show the DLQ's recent move tasks: status, progress and failure reason.

    **Examples:**

        dlqctl move-task status orders-dlq

        dlqctl move-task status orders-dlq -o json | jq '.tasks[0].status'
    """
    sqs, url = open_queue(inv.api.aws, inv.queue(queue))
    source = describe(sqs, url, with_sources=False)
    tasks = [_task(t) for t in sqs.list_move_tasks(source.arn)]
    if inv.out.format is OutputFormat.json:
        inv.out.emit({"source": source.arn, "tasks": tasks})
    elif inv.out.format is OutputFormat.ndjson:
        inv.out.emit_lines(tasks)
    elif not tasks:
        inv.out.note(f"no move tasks for {source.name}")
    else:
        table = Table(title=f"Move tasks of {source.name}", box=box.SIMPLE_HEAD)
        for column in ("Status", "Moved", "To move", "Rate", "Started", "Destination", "Failure"):
            table.add_column(column)
        for task in tasks:
            table.add_row(
                str(task["status"]),
                str(task["moved"]),
                str(task["to_move"]),
                str(task["rate"] or "-"),
                str(task["started_at"] or "-"),
                str(task["destination"] or "sources"),
                str(task["failure_reason"] or ""),
            )
        inv.out.console.print(table)


@command(move_task_app, "cancel", groups=("aws", "output"))
def cancel(
    inv: Invocation,
    queue: QueueArgument = None,
    task: Annotated[
        str | None, typer.Option(help="Task handle (default: the queue's running task).")
    ] = None,
) -> None:
    """Cancel a running move task; messages already moved stay moved.

    **Examples:**

        dlqctl move-task cancel orders-dlq
    """
    sqs, url = open_queue(inv.api.aws, inv.queue(queue))
    if task is None:
        source = describe(sqs, url, with_sources=False)
        running = [t for t in sqs.list_move_tasks(source.arn) if t.get("Status") == "RUNNING"]
        if not running:
            raise NotFoundError(f"no running move task for {source.name}")
        if len(running) > 1:
            raise UsageError("several tasks are running: pass --task HANDLE")
        task = str(running[0]["TaskHandle"])
    moved = sqs.cancel_move_task(task)
    result = {"task_handle": task, "moved": moved}
    inv.out.report(result, lambda: f"cancelled {task}: about {moved} messages had moved", [])


def _task(raw: dict[str, Any]) -> dict[str, Any]:
    started = raw.get("StartedTimestamp")
    return {
        "task_handle": raw.get("TaskHandle"),
        "status": raw.get("Status"),
        "source": raw.get("SourceArn"),
        "destination": raw.get("DestinationArn"),
        "rate": raw.get("MaxNumberOfMessagesPerSecond"),
        "moved": raw.get("ApproximateNumberOfMessagesMoved", 0),
        "to_move": raw.get("ApproximateNumberOfMessagesToMove"),
        "failure_reason": raw.get("FailureReason"),
        "started_at": datetime.fromtimestamp(started / 1000, UTC).isoformat().replace("+00:00", "Z")
        if started
        else None,
    }
