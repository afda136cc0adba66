"""`dlqctl history`: what destructive runs did, from the audit journal."""

from pathlib import Path
from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
from dlqctl.cli.formats import OutputFormat
from dlqctl.cli.options import NoColor, OutputOption, Verbose, Wide


@app.command("history")
@guarded
def history(
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="Show this many recent runs.")
    ] = 10,
    journal: Annotated[
        Path | None,
        typer.Option(help="Audit journal (default: $XDG_STATE_HOME/dlqctl/journal.jsonl)."),
    ] = None,
    output: OutputOption = OutputFormat.table,
    wide: Wide = False,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Show recent destructive runs (redrive, purge, replay, export --delete), newest first.

    Each run lists who ran it where, the command line, source and target, how many
    messages moved, and how it ended (complete, partial, stopped, interrupted, or
    unfinished when the process died).

    **Examples:**

        dlqctl history

        dlqctl history -n 1 -o json | jq '.runs[0].summary'
    """
    inv = Invocation(locals())
    from dlqctl.cli.render import history_view

    found = inv.api.history(journal, limit=limit)
    path, runs = found.journal, found.runs
    if found.unreadable_lines:
        inv.out.warn(
            f"{found.unreadable_lines} lines of {path} are not journal records (a torn last "
            "line after a crash, or damage): they were skipped"
        )
    if inv.out.format is OutputFormat.json:
        inv.out.emit(found)
    elif inv.out.format is OutputFormat.ndjson:
        inv.out.emit_lines(runs)
    elif not runs:
        inv.out.note(f"no runs recorded in {path}")
    else:
        inv.out.show(history_view(found, wide=wide), wide=wide)
