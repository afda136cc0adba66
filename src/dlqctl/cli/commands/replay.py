"""`dlqctl replay`: send messages from an export file, with redrive's safety levers."""

from pathlib import Path
from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
from dlqctl.cli.formats import OutputFormat
from dlqctl.cli.moving import drive, require_consent
from dlqctl.cli.options import (
    Attributes,
    BatchSize,
    Concurrency,
    ConfigFile,
    DryRun,
    EndpointUrl,
    ErrorTypeAttribute,
    ErrorTypes,
    ExcludeErrorTypes,
    Force,
    Jitter,
    JournalPath,
    Kinds,
    LedgerTable,
    MaxAge,
    MaxMessages,
    MaxRedrives,
    MaxScan,
    MessageIds,
    MessageIdsFrom,
    MinAge,
    NoColor,
    OutputOption,
    PipelineName,
    Profile,
    Query,
    Rate,
    Region,
    SelectAll,
    To,
    Verbose,
    Yes,
)
from dlqctl.core.guardrails import DEFAULT_BATCH_SIZE
from dlqctl.errors import UsageError


@app.command("replay")
@guarded
def replay(
    file: Annotated[
        Path, typer.Argument(help="An export file written by `dlqctl export` or `dlqctl purge`.")
    ],
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
    journal: JournalPath = None,
    to: To = None,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    rate: Rate = None,
    jitter: Jitter = "0s",
    max_redrives: MaxRedrives = None,
    dry_run: DryRun = False,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Send messages from an export file to a queue (--to), as redrive would.

    The same filters and levers apply (a filter or --all, --max-messages, --rate, --jitter,
    --dry-run, --yes). Nothing is deleted anywhere: the file stays as it is. Ages count from
    each message's original send.

    **Examples:**

        dlqctl replay incident-42.jsonl --to orders --error-type Timeout --dry-run

        dlqctl replay incident-42.jsonl --to orders --all --rate 10 --yes
    """
    inv = Invocation(locals())
    if not inv.values.get("to"):
        raise UsageError("pass --to QUEUE: a file does not say where its messages go")
    options = inv.redrive_options()
    message_filter = inv.message_filter()
    options.check(message_filter)
    require_consent(inv)
    drive(
        inv,
        lambda hooks: inv.api.replay(
            file,
            message_filter,
            options,
            confirm=hooks.confirm,
            journal=inv.values.get("journal"),
            stop=hooks.stop,
            on_progress=hooks.on_progress,
            on_planned=hooks.on_planned,
        ),
        verb="replay",
    )
