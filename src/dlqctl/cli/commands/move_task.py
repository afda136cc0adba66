"""`dlqctl move-task`: SQS's own server-side redrive, for unfiltered bulk moves."""

from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
from dlqctl.cli.formats import OutputFormat
from dlqctl.cli.moving import can_prompt
from dlqctl.cli.options import (
    ConfigFile,
    EndpointUrl,
    NoColor,
    OutputOption,
    PipelineName,
    Profile,
    Region,
    Verbose,
    Wide,
)
from dlqctl.core.move_tasks import MOVE_TASK_MAX_RATE
from dlqctl.errors import RefusedError

move_task_app = typer.Typer(
    name="move-task",
    help="SQS's server-side move task (StartMessageMoveTask): every message, up to 500/s, no filters.",
    no_args_is_help=True,
)
app.add_typer(move_task_app, name="move-task")

QueueArgument = Annotated[
    str | None, typer.Argument(help="The DLQ: name, URL or ARN (default: the --pipeline's DLQ).")
]


@move_task_app.command("start")
@guarded
def start(
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
    force: Annotated[
        bool,
        typer.Option(
            help="Start on a FIFO DLQ although a message entered it less than 5 minutes ago "
            "(inside the deduplication window), and look at a DLQ whose own redrive policy "
            "would move messages on."
        ),
    ] = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    pipeline: PipelineName = None,
    config: ConfigFile = None,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Start moving EVERY message of a DLQ, server-side. No filter, no canary: for bulk moves
    after the root cause is fixed. Use `dlqctl redrive` to be selective.

    On a FIFO DLQ it warns about the deduplication window first, looks at the DLQ, and
    refuses when a message entered it less than 5 minutes ago (unless --force): the target
    may drop what the task re-sends; `dlqctl redrive` sends fresh deduplication ids.

    **Examples:**

        dlqctl move-task start orders-dlq --rate 50

        dlqctl move-task start orders-dlq --to orders-replay --yes -o json
    """
    inv = Invocation(locals())
    from dlqctl.core.queue_ref import queue_name_from_arn
    from dlqctl.models import QueueInfo

    def confirm(source: QueueInfo) -> bool:
        if not can_prompt():
            raise RefusedError("no terminal to confirm on: pass --yes")
        where = to or "their source queues"
        return typer.confirm(
            f"Move all ~{source.depth} messages of {source.name} to {where}?",
            default=False,
            err=True,
        )

    started = inv.api.start_move_task(
        inv.queue(queue),
        to=to,
        rate=rate,
        confirm=None if yes else confirm,
        journal=inv.values.get("journal"),
        force=force,
        warn=inv.out.warn,
    )
    name = queue_name_from_arn(started.source)
    message = (
        f"started move task {started.task_handle}\nwatch it with: dlqctl move-task status {name}"
    )
    inv.out.report(started, lambda: message, [])


@move_task_app.command("status")
@guarded
def status(
    queue: QueueArgument = None,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    pipeline: PipelineName = None,
    config: ConfigFile = None,
    output: OutputOption = OutputFormat.table,
    wide: Wide = False,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Show the DLQ's recent move tasks: status, progress and failure reason.

    **Examples:**

        dlqctl move-task status orders-dlq

        dlqctl move-task status orders-dlq -o json | jq '.tasks[0].status'
    """
    inv = Invocation(locals())
    from dlqctl.cli.render import move_tasks_view

    source, tasks = inv.api.move_tasks(inv.queue(queue))
    if inv.out.format is OutputFormat.json:
        inv.out.emit({"source": source.arn, "tasks": [t.model_dump() for t in tasks]})
    elif inv.out.format is OutputFormat.ndjson:
        inv.out.emit_lines(tasks)
    elif not tasks:
        inv.out.note(f"no move tasks for {source.name}")
    else:
        inv.out.show(move_tasks_view(source, tasks), wide=wide)


@move_task_app.command("cancel")
@guarded
def cancel(
    queue: QueueArgument = None,
    task: Annotated[
        str | None, typer.Option(help="Task handle (default: the queue's running task).")
    ] = None,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    pipeline: PipelineName = None,
    config: ConfigFile = None,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Cancel a running move task; messages already moved stay moved.

    **Examples:**

        dlqctl move-task cancel orders-dlq
    """
    inv = Invocation(locals())
    cancelled = inv.api.cancel_move_task(inv.queue(queue), task=task)
    inv.out.report(
        cancelled,
        lambda: f"cancelled {cancelled.task_handle}: about {cancelled.moved} messages had moved",
        [],
    )
