"""`dlqctl peek`: the messages themselves, without consuming them."""

from enum import StrEnum
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


class Sort(StrEnum):
    oldest = "oldest"
    newest = "newest"


@app.command("peek")
@guarded
def peek(
    queue: QueueArgument = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, help="Show at most this many messages.")
    ] = 20,
    sort: Annotated[
        Sort | None,
        typer.Option(
            help="Which messages to show first [default: oldest]. With -o ndjson, messages "
            "stream in the order the scan meets them unless --sort is given."
        ),
    ] = None,
    body: Annotated[bool, typer.Option("--body/--no-body", help="Show message bodies.")] = True,
    redact: Annotated[
        list[str] | None,
        typer.Option(
            help="Mask this JSON field path in every output, e.g. card.number or items[*].email (repeatable)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help=LOOK_FORCE_HELP)] = False,
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
    """Show the messages in a queue (oldest first) without consuming them.

    JSON bodies are pretty-printed; long bodies are cut short in the table with their size
    shown; bodies that are not printable text are shown as base64 in JSON output.

    **Examples:**

        dlqctl peek orders-dlq -n 5 --error-type Timeout

        dlqctl peek orders-dlq --query 'order.total > `100`' --redact customer.email

        dlqctl peek orders-dlq -o ndjson | jq -r '.message_id'
    """
    inv = Invocation(locals())
    from dlqctl.cli.render import peek_view

    name = inv.queue(queue)
    # ndjson is for pipes: each message is printed as it is found (`| head -1` returns at
    # once); a sorted listing needs the whole scan first.
    streams = inv.out.format is OutputFormat.ndjson and sort is None
    with inv.out.progress(f"scanning {name}") as on_progress:
        result = inv.api.peek(
            name,
            inv.message_filter(),
            limit=limit,
            sort=(sort or Sort.oldest).value,
            with_body=body,
            redact=redact or (),
            max_scan=inv.values.get("max_scan"),
            on_progress=on_progress,
            force=force,
            on_message=(lambda message: inv.out.emit_lines([message])) if streams else None,
        )
    if inv.out.format is OutputFormat.table:
        inv.out.show(peek_view(result, with_body=body, wide=wide), wide=wide)
        for warning in result.warnings:
            inv.out.warn(warning)
    elif inv.out.format is OutputFormat.json:
        inv.out.emit(result)
    else:
        inv.out.emit_lines(result.messages)  # none when they streamed
        for warning in result.warnings:
            inv.out.warn(warning)
        coverage = result.coverage
        inv.out.note(
            f"scanned {coverage.scanned} of ~{coverage.approximate_depth}; {result.matched} "
            f"matched ({coverage.stopped_because})"
        )
