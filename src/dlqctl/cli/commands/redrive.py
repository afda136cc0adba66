"""`dlqctl redrive`: put the right messages back, safely."""

from enum import StrEnum
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
    DlqArgument,
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
from dlqctl.core.durations import parse_duration
from dlqctl.core.guardrails import DEFAULT_BATCH_SIZE


class Invoke(StrEnum):
    async_ = "async"
    sync = "sync"


@app.command("redrive")
@guarded
def redrive(
    queue: DlqArgument = None,
    canary: Annotated[
        int,
        typer.Option(
            help="Send this many first, wait --canary-wait, go on only if none came back.",
            rich_help_panel="Safety levers",
        ),
    ] = 0,
    canary_wait: Annotated[
        str | None,
        typer.Option(
            help="How long the canary waits, e.g. 10m [default: as long as a failed copy "
            "needs to come back: the target's maxReceiveCount × VisibilityTimeout; shorter "
            "needs --force].",
            rich_help_panel="Safety levers",
        ),
    ] = None,
    stop_after_failures: Annotated[
        int | None,
        typer.Option(
            help="Circuit breaker: stop when this many redriven messages fail again.",
            rich_help_panel="Safety levers",
        ),
    ] = None,
    invoke: Annotated[
        Invoke,
        typer.Option(
            help="A function's messages: async queues the invocation; sync waits for the "
            "function's verdict, one message a batch, and a message it fails on stays in "
            "the DLQ.",
            rich_help_panel="Safety levers",
        ),
    ] = Invoke.async_,
    fan_out: Annotated[
        bool,
        typer.Option(
            "--fan-out",
            help="Allow publishing to an SNS topic or putting on an event bus again: every "
            "subscription or matching rule receives the copy, not only the one that failed.",
            rich_help_panel="Safety levers",
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
    """Move selected messages from a DLQ back to where they failed, safely.

    A filter (or --all) is required. One streaming pass: each matching message is sent,
    then deleted from the DLQ once the target accepted it; what does not match or fails
    stays in the DLQ. Each message goes where its kind says it came from: its source
    queue, the Lambda function (invoked again), or an EventBridge rule's or schedule's
    target; a topic or bus only with --fan-out (docs/dlq-kinds.md). FIFO DLQs go group by group, in order, in one run. Ctrl-C (or
    SIGTERM) finishes the batch in hand, releases the rest and prints the report (exit
    130, or 143); a second one also abandons the retries in hand.

    **Examples:**

        dlqctl redrive orders-dlq --error-type Timeout --max-age 2h --dry-run

        dlqctl redrive orders-dlq --error-type Timeout --rate 20 --jitter 30s --canary 5 --canary-wait 10m

        dlqctl redrive orders-dlq --all --max-messages 500 --yes -o json | jq '.deleted'

        dlqctl redrive resize-dlq --kind lambda-async --invoke sync --canary 3 --dry-run
    """
    inv = Invocation(locals())  # Invoke is a StrEnum: its members are the strings
    options = inv.redrive_options(
        canary=canary,
        canary_wait_s=parse_duration(canary_wait) if canary_wait is not None else None,
        stop_after_failures=stop_after_failures,
    )
    message_filter = inv.message_filter()
    options.check(message_filter)
    require_consent(inv)
    name = inv.queue(queue)
    drive(
        inv,
        lambda hooks: inv.api.redrive(
            name,
            message_filter,
            options,
            confirm=hooks.confirm,
            journal=inv.values.get("journal"),
            stop=hooks.stop,
            on_progress=hooks.on_progress,
            on_planned=hooks.on_planned,
        ),
        verb="redrive",
    )
