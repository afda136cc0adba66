"""`dlqctl inspect`: what is in a DLQ, why it failed and how old it is."""

from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import LOOK_FORCE_HELP, Invocation, guarded
from dlqctl.cli.formats import OutputFormat
from dlqctl.cli.options import (
    Attributes,
    Concurrency,
    ConfigFile,
    EndpointUrl,
    ErrorTypeAttribute,
    ErrorTypes,
    ExcludeErrorTypes,
    Kinds,
    LedgerTable,
    MaxAge,
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
    Verbose,
    Wide,
)


@app.command("inspect")
@guarded
def inspect_queue(
    queue: QueueArgument = None,
    force: Annotated[bool, typer.Option("--force", help=LOOK_FORCE_HELP)] = False,
    sample: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Look at this many messages only and estimate the rest: shares by error "
            "type, source and age with 95 % intervals (also shown whenever a look of a "
            "standard queue sees only part of it).",
        ),
    ] = None,
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
    output: OutputOption = OutputFormat.table,
    wide: Wide = False,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Summarise a DLQ without consuming it: counts by error type, ages, sources, settings.

    Every message is received and held, then released: nothing is deleted, but each
    message's ApproximateReceiveCount goes up by one.

    **Examples:**

        dlqctl inspect orders-dlq

        dlqctl inspect orders-dlq --max-age 2h -o json | jq '.by_error_type'

        dlqctl inspect --pipeline orders --ledger-table orders-idempotency

        dlqctl inspect orders-dlq --sample 2000 -o json | jq '.estimate.by_error_type'
    """
    inv = Invocation(locals())
    from dlqctl.cli.render import inspect_view

    name = inv.queue(queue)
    with inv.out.progress(f"scanning {name}") as on_progress:
        report = inv.api.inspect(
            name,
            inv.message_filter(),
            max_scan=inv.values.get("max_scan"),
            on_progress=on_progress,
            force=force,
            sample=sample,
        )
    inv.out.report(report, lambda: inspect_view(report), report.warnings, wide=wide)
