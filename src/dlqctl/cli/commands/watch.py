"""`dlqctl watch`: a live view of queue depths until Ctrl-C."""

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
from dlqctl.cli.completion import complete_queue
from dlqctl.cli.formats import OutputFormat
from dlqctl.cli.moving import plain_interrupts
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
from dlqctl.core.durations import parse_duration
from dlqctl.errors import UsageError


@app.command("watch")
@guarded
def watch(
    queues: Annotated[
        list[str] | None,
        typer.Argument(
            help="Queue names, URLs or ARNs (default: the --pipeline's DLQ and source).",
            autocompletion=complete_queue,
        ),
    ] = None,
    interval: Annotated[str, typer.Option(help="Time between refreshes.")] = "5s",
    count: Annotated[
        int, typer.Option(min=0, help="Stop after this many refreshes (0: until Ctrl-C).")
    ] = 0,
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
    """Refresh depth, in-flight and oldest age of one or more queues until Ctrl-C.

    Ctrl-C is the normal way to stop and exits 0. With -o ndjson, each refresh prints one
    object per queue, for logging. With --wide, or into a pipe or a file, each refresh is
    printed below the last: only a terminal can redraw a table in place.

    **Examples:**

        dlqctl watch orders-dlq orders

        dlqctl watch orders-dlq --interval 30s -o ndjson >> depth.log
    """
    inv = Invocation(locals())
    targets = list(queues or [])
    if not targets and inv.settings.dlq:
        targets = [
            inv.settings.dlq,
            *([inv.settings.source_queue] if inv.settings.source_queue else []),
        ]
    if not targets:
        raise UsageError("no queue given: pass one or more QUEUE arguments or --pipeline NAME")
    pause = parse_duration(interval)
    if pause < 1:
        raise UsageError("--interval must be at least 1s")
    try:
        with plain_interrupts():
            if inv.out.format is not OutputFormat.table:
                _stream(inv, targets, pause, count)
            elif wide or not inv.out.console.is_terminal:
                # Redrawing in place needs a terminal: a pipe or a file gets each refresh
                # below the last, as it happens (Live would print only at the end).
                _scroll(inv, targets, pause, count, wide=wide)
            else:
                _live(inv, targets, pause, count)
    except KeyboardInterrupt:
        return


def _refreshes(count: int, pause: float) -> Iterator[int]:
    """Refresh numbers, pausing between them; forever when `count` is 0."""
    for number in itertools.count() if count == 0 else range(count):
        if number:
            time.sleep(pause)
        yield number


def _stamp() -> str:
    return datetime.now(UTC).strftime("%H:%M:%SZ")


def _live(inv: Invocation, targets: list[str], pause: float, count: int) -> None:
    from rich.live import Live

    from dlqctl.cli.render import watch_table

    with Live(console=inv.out.console, auto_refresh=False) as live:
        for _ in _refreshes(count, pause):
            live.update(watch_table(inv.api.watch(targets), _stamp()), refresh=True)


def _scroll(inv: Invocation, targets: list[str], pause: float, count: int, *, wide: bool) -> None:
    from dlqctl.cli.render import watch_table

    for _ in _refreshes(count, pause):
        inv.out.show(watch_table(inv.api.watch(targets), _stamp()), wide=wide)


def _stream(inv: Invocation, targets: list[str], pause: float, count: int) -> None:
    for _ in _refreshes(count, pause):
        at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        snapshot = [{"at": at, **q.model_dump(mode="json")} for q in inv.api.watch(targets)]
        if inv.out.format is OutputFormat.json:
            inv.out.emit({"at": at, "queues": snapshot})
        else:
            inv.out.emit_lines(snapshot)
