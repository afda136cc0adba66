"""`dlqctl ui`: the terminal UI for triage, from the optional `dlqctl[ui]` extra."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
from dlqctl.cli.completion import complete_queue
from dlqctl.cli.options import (
    Concurrency,
    ConfigFile,
    EndpointUrl,
    ErrorTypeAttribute,
    JournalPath,
    LedgerTable,
    MaxScan,
    NoColor,
    PipelineName,
    Profile,
    Region,
    Verbose,
)
from dlqctl.core.durations import parse_duration
from dlqctl.errors import UsageError

INSTALL_HINT = "dlqctl ui needs Textual, which is not installed: pip install 'dlqctl[ui]'"


@app.command("ui")
@guarded
def ui(
    queues: Annotated[
        list[str] | None,
        typer.Argument(
            help="DLQs to show: names, URLs or ARNs [default: the --pipeline's DLQ, else "
            "every DLQ]. One DLQ opens at once.",
            autocompletion=complete_queue,
        ),
    ] = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Allow redrive, purge and export; each still shows its plan and asks for "
            "the DLQ's name typed. Without it the UI only looks.",
        ),
    ] = False,
    interval: Annotated[str, typer.Option(help="Time between refreshes of the DLQ list.")] = "5s",
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="Messages shown per group, oldest first.")
    ] = 50,
    redact: Annotated[
        list[str] | None,
        typer.Option(
            help="Mask this JSON field path in every body shown, e.g. card.number (repeatable)."
        ),
    ] = None,
    export_dir: Annotated[
        Path, typer.Option(help="Directory that export writes its JSONL files into.")
    ] = Path(),
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    pipeline: PipelineName = None,
    config: ConfigFile = None,
    ledger_table: LedgerTable = None,
    error_type_attribute: ErrorTypeAttribute = None,
    max_scan: MaxScan = None,
    concurrency: Concurrency = None,
    journal: JournalPath = None,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Browse DLQs in a terminal UI: depths, a DLQ's groups by error type and age, a
    group's messages; with --write, redrive, purge or export them.

    Read-only unless --write. Every look receives, holds and releases, as `inspect` and
    `peek` do, and releases what it held when its view closes or the UI exits. Every
    change shows the same plan as --dry-run, asks for the DLQ's name, and is journaled.
    Needs the `ui` extra: pip install 'dlqctl[ui]'. Keys: ? help, / filter, q back.

    **Examples:**

        dlqctl ui

        dlqctl ui orders-dlq --ledger-table orders-idempotency --redact customer.email

        dlqctl ui --pipeline orders --write
    """
    inv = Invocation(locals())
    try:
        from dlqctl.ui.app import TriageApp, UiOptions, run
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "textual":
            raise
        raise UsageError(INSTALL_HINT) from None
    refresh_s = parse_duration(interval)
    if refresh_s < 1:
        raise UsageError("--interval must be at least 1s")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("dlqctl ui needs a terminal: use inspect, peek or watch in scripts")
    names = tuple(queues or ([inv.settings.dlq] if inv.settings.dlq else []))
    options = UiOptions(
        queues=names,
        write=write,
        refresh_s=refresh_s,
        limit=limit,
        redact=tuple(redact or ()),
        journal=journal,
        export_dir=export_dir,
        open_queue=names[0] if len(names) == 1 else None,
    )
    run(TriageApp(inv.api, options, no_color=no_color))
