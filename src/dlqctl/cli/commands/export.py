"""`dlqctl export` and `dlqctl purge`: archive messages to a file, and delete them."""

import functools
from pathlib import Path
from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
from dlqctl.cli.formats import OutputFormat
from dlqctl.cli.moving import can_prompt, graceful_interrupt, plain_interrupts
from dlqctl.cli.options import (
    Attributes,
    Concurrency,
    ConfigFile,
    DryRun,
    EndpointUrl,
    ErrorTypeAttribute,
    ErrorTypes,
    ExcludeErrorTypes,
    Force,
    JournalPath,
    Kinds,
    LedgerTable,
    MaxAge,
    MaxMessages,
    MaxScan,
    MessageIds,
    MessageIdsFrom,
    MinAge,
    NoColor,
    OutputOption,
    PipelineName,
    Profile,
    Query,
    QueueArgument,
    Region,
    SelectAll,
    Verbose,
    Yes,
)
from dlqctl.core.journal import default_archive_path
from dlqctl.errors import ExitCode, RefusedError, UsageError


@app.command("export")
@guarded
def export(
    queue: QueueArgument = None,
    out: Annotated[
        Path, typer.Option("--out", help="New JSONL file to write (never overwritten; mode 0600).")
    ] = Path("export.jsonl"),
    delete: Annotated[
        bool,
        typer.Option(
            "--delete",
            help="Delete the exported messages from the queue, once the file is on disk.",
        ),
    ] = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    pipeline: PipelineName = None,
    config: ConfigFile = None,
    ledger_table: LedgerTable = None,
    error_type_attribute: ErrorTypeAttribute = None,
    error_type: ErrorTypes = None,
    exclude_error_type: ExcludeErrorTypes = None,
    min_age: MinAge = None,
    max_age: MaxAge = None,
    query: Query = None,
    attribute: Attributes = None,
    message_id: MessageIds = None,
    message_ids_from: MessageIdsFrom = None,
    kind: Kinds = None,
    max_scan: MaxScan = None,
    concurrency: Concurrency = None,
    select_all: SelectAll = False,
    max_messages: MaxMessages = None,
    force: Force = False,
    yes: Yes = False,
    dry_run: DryRun = False,
    journal: JournalPath = None,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Write messages to a JSONL file with full fidelity; the queue keeps them unless --delete.

    Each line holds the body exactly, every message attribute (binary as base64), the
    system attributes, group and deduplication ids and the send time, so `dlqctl replay`
    can put it back. --delete follows the destructive rules: a filter or --all, at most
    --max-messages, and --yes without a terminal.

    **Examples:**

        dlqctl export orders-dlq --out incident-42.jsonl

        dlqctl export orders-dlq --error-type PoisonPayloadError --out poison.jsonl --delete --yes
    """
    inv = Invocation(locals())
    _archive(inv, queue, _in_existing_directory(out, "--out"), delete=delete, purging=False)


@app.command("purge")
@guarded
def purge(
    queue: QueueArgument = None,
    archive: Annotated[
        Path | None,
        typer.Option(
            help="Where to archive first [default: $XDG_STATE_HOME/dlqctl/archive/QUEUE-TIME.jsonl]."
        ),
    ] = None,
    no_archive: Annotated[
        bool, typer.Option("--no-archive", help="Delete without keeping a copy.")
    ] = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    pipeline: PipelineName = None,
    config: ConfigFile = None,
    ledger_table: LedgerTable = None,
    error_type_attribute: ErrorTypeAttribute = None,
    error_type: ErrorTypes = None,
    exclude_error_type: ExcludeErrorTypes = None,
    min_age: MinAge = None,
    max_age: MaxAge = None,
    query: Query = None,
    attribute: Attributes = None,
    message_id: MessageIds = None,
    message_ids_from: MessageIdsFrom = None,
    kind: Kinds = None,
    max_scan: MaxScan = None,
    concurrency: Concurrency = None,
    select_all: SelectAll = False,
    max_messages: MaxMessages = None,
    force: Force = False,
    yes: Yes = False,
    dry_run: DryRun = False,
    journal: JournalPath = None,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Delete selected messages from a queue, after archiving them to a file.

    Needs a filter or --all, deletes at most --max-messages (default 100), shows the plan
    (counts by error type, oldest and newest age) and asks first unless --yes; --dry-run
    prints the plan and changes nothing. The archive is written and fsynced before the
    first delete; `dlqctl replay` can bring the messages back.

    **Examples:**

        dlqctl purge orders-dlq --error-type PoisonPayloadError --min-age 7d --dry-run

        dlqctl purge orders-dlq --error-type PoisonPayloadError --min-age 7d

        dlqctl purge orders-dlq --all --max-messages 1000 --yes -o json | jq '.file'
    """
    inv = Invocation(locals())
    from dlqctl.core.queue_ref import parse_queue_ref

    name = inv.queue(queue)
    given = _in_existing_directory(archive, "--archive") if archive else None
    path = None if no_archive else (given or default_archive_path(parse_queue_ref(name).name))
    _archive(inv, name, path, delete=True, purging=True)


def _archive(
    inv: Invocation, queue: str | None, out: Path | None, *, delete: bool, purging: bool
) -> None:
    from dlqctl.cli.render import archive_view
    from dlqctl.core.outcome import exit_code
    from dlqctl.models import ArchiveReport

    name = inv.queue(queue)
    dry_run = bool(inv.values.get("dry_run"))
    asks = delete and not (dry_run or inv.values.get("yes"))
    if asks and not can_prompt():
        raise RefusedError("no terminal to confirm on: pass --yes (or --dry-run to only look)")

    def confirm(plan: ArchiveReport) -> bool:
        if bar is not None:
            bar.pause()  # the look's bar off the screen: the prompt gets a clean line
        # What the question is about goes with the question, on stderr, whatever -o says.
        inv.out.err.print(archive_view(plan, deleting=delete))
        for warning in plan.warnings:
            inv.out.warn(warning)
        inv.out.note(
            "the run re-selects with the same filters and cap as it goes: if the DLQ "
            "changed since this look, what is deleted can differ"
        )
        kept = f" (archived in {out})" if out else " with no archive"
        with plain_interrupts():
            return typer.confirm(
                f"Delete up to {plan.selected} messages from {name}{kept}?",
                default=False,
                err=True,
            )

    streams = dry_run and inv.out.format is OutputFormat.ndjson
    with graceful_interrupt(inv.out) as stop, inv.out.progress(f"scanning {name}") as bar:
        run = inv.api.purge if purging else functools.partial(inv.api.export, delete=delete)
        report = run(
            name,
            out,
            inv.message_filter(),
            select_all=inv.values.get("select_all", False),
            max_messages=inv.values.get("max_messages"),
            force=inv.values.get("force", False),
            dry_run=dry_run,
            confirm=confirm if asks else None,
            journal=inv.values.get("journal"),
            stop=stop,
            max_scan=inv.values.get("max_scan"),
            on_progress=bar,
            on_planned=(lambda planned: inv.out.emit_lines([planned])) if streams else None,
        )
    if not streams:  # a streamed plan's lines are all out already
        inv.out.report(report, lambda: archive_view(report, deleting=delete), report.warnings)
    else:
        for warning in report.warnings:
            inv.out.warn(warning)
    code = exit_code(report)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def _in_existing_directory(path: Path, flag: str) -> Path:
    """A file the user named goes where they said: a missing directory is a typo more
    often than a wish (dlqctl creates only its own state directories)."""
    if not path.parent.is_dir():
        raise UsageError(
            f"{flag} {path}: the directory {path.parent} does not exist; create it first"
        )
    return path
