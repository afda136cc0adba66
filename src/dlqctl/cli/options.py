"""The shared flags, each declared once as an `Annotated` alias.

Every command spells the ones it takes in its own signature (`region: Region = None`),
so its flags can be read where it is defined; `Invocation(locals())` then collects them.
"""

from pathlib import Path
from typing import Annotated

import typer

from dlqctl.cli.completion import complete_pipeline, complete_queue
from dlqctl.cli.formats import OutputFormat

AWS_PANEL = "AWS and output"
FILTER_PANEL = "Filters"
CLASSIFY_PANEL = "Error types"
SAFETY_PANEL = "Safety levers"


def _kinds_starting(incomplete: str) -> list[str]:
    from dlqctl.core.filters import KINDS  # only when TAB asks: --help stays light

    return [kind for kind in KINDS if kind.startswith(incomplete)]


# -- AWS ---------------------------------------------------------------------------------
Region = Annotated[
    str | None,
    typer.Option(
        help="AWS region (default: DLQCTL_REGION, the pipeline's or [defaults] region, "
        "AWS_REGION, AWS_DEFAULT_REGION, the profile's).",
        rich_help_panel=AWS_PANEL,
    ),
]
Profile = Annotated[
    str | None, typer.Option(help="AWS profile (default: AWS_PROFILE).", rich_help_panel=AWS_PANEL)
]
EndpointUrl = Annotated[
    str | None,
    typer.Option(
        help="SQS-compatible endpoint, e.g. the lab's (AWS_ENDPOINT_URL_SQS also works).",
        rich_help_panel=AWS_PANEL,
    ),
]
# The queue a command acts on, as its first argument; TAB offers the config's queues.
QueueArgument = Annotated[
    str | None,
    typer.Argument(
        help="Queue name, URL or ARN (default: the --pipeline's DLQ).",
        autocompletion=complete_queue,
    ),
]
DlqArgument = Annotated[
    str | None,
    typer.Argument(
        help="The DLQ: name, URL or ARN (default: the --pipeline's DLQ).",
        autocompletion=complete_queue,
    ),
]
PipelineName = Annotated[
    str | None,
    typer.Option(
        "--pipeline",
        help="Named pipeline from the config file: gives the DLQ, ledger table and rules.",
        rich_help_panel=AWS_PANEL,
        autocompletion=complete_pipeline,
    ),
]
ConfigFile = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="The only config file to read (default: ~/.config/dlqctl/config.toml with "
        "./dlqctl.toml merged over it).",
        rich_help_panel=AWS_PANEL,
    ),
]

# -- output ------------------------------------------------------------------------------
OutputOption = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        help="table for people; json (one document) or ndjson (one object a line) for scripts.",
        rich_help_panel=AWS_PANEL,
    ),
]
NoColor = Annotated[
    bool,
    typer.Option(
        "--no-color", help="No colour (NO_COLOR is honoured too).", rich_help_panel=AWS_PANEL
    ),
]
Verbose = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Show tracebacks for errors.", rich_help_panel=AWS_PANEL),
]

# -- error types -------------------------------------------------------------------------
LedgerTable = Annotated[
    str | None,
    typer.Option(
        help="DynamoDB failure ledger (the idempotency table) to read error types from.",
        rich_help_panel=CLASSIFY_PANEL,
    ),
]
ErrorTypeAttribute = Annotated[
    str | None,
    typer.Option(
        help="Message attribute that names the error type [default: ErrorType].",
        rich_help_panel=CLASSIFY_PANEL,
    ),
]

# -- filters -----------------------------------------------------------------------------
ErrorTypes = Annotated[
    list[str] | None,
    typer.Option(help="Only this error type (repeatable).", rich_help_panel=FILTER_PANEL),
]
ExcludeErrorTypes = Annotated[
    list[str] | None,
    typer.Option(help="Leave out this error type (repeatable).", rich_help_panel=FILTER_PANEL),
]
MinAge = Annotated[
    str | None,
    typer.Option(
        help="Only messages at least this old: 90s, 15m, 2h, 3d.", rich_help_panel=FILTER_PANEL
    ),
]
MaxAge = Annotated[
    str | None,
    typer.Option(help="Only messages at most this old.", rich_help_panel=FILTER_PANEL),
]
Query = Annotated[
    str | None,
    typer.Option(
        help="JMESPath over the JSON body; keeps messages where it is truthy.",
        rich_help_panel=FILTER_PANEL,
    ),
]
Attributes = Annotated[
    list[str] | None,
    typer.Option(
        help="NAME=VALUE a message (or system) attribute must equal (repeatable).",
        rich_help_panel=FILTER_PANEL,
    ),
]
MessageIds = Annotated[
    list[str] | None,
    typer.Option(
        "--message-id",
        help="Only this message (repeatable), e.g. an id `peek` showed.",
        rich_help_panel=FILTER_PANEL,
    ),
]
MessageIdsFrom = Annotated[
    Path | None,
    typer.Option(
        help="Only the message ids in this file, one a line "
        "(e.g. from `peek -o ndjson | jq -r .message_id`).",
        rich_help_panel=FILTER_PANEL,
    ),
]
Kinds = Annotated[
    list[str] | None,
    typer.Option(
        "--kind",
        help="Only messages of this DLQ kind (repeatable): sqs-redrive-policy, lambda-async, "
        "lambda-destination, eventbridge-rule, scheduler, sns-subscription, unknown.",
        rich_help_panel=FILTER_PANEL,
        autocompletion=_kinds_starting,
    ),
]
MaxScan = Annotated[
    int | None,
    typer.Option(
        help="Receive at most this many messages [default: 10000].",
        rich_help_panel=FILTER_PANEL,
        min=1,
    ),
]
Concurrency = Annotated[
    int | None,
    typer.Option(
        help="Lanes: SQS receives in flight at once, and as many sends or deletes [default: 16].",
        rich_help_panel=FILTER_PANEL,
        min=1,
        max=32,
    ),
]

# -- selection (destructive commands) ----------------------------------------------------
SelectAll = Annotated[
    bool,
    typer.Option(
        "--all",
        help="Select every message: required when no filter is given.",
        rich_help_panel=SAFETY_PANEL,
    ),
]
MaxMessages = Annotated[
    int | None,
    typer.Option(
        help="Act on at most this many [default: 100; above 1000 needs --force].",
        rich_help_panel=SAFETY_PANEL,
    ),
]
Force = Annotated[
    bool,
    typer.Option(
        help="Allow --max-messages above 1000, a --canary-wait shorter than a failed copy "
        "needs to come back, and a look that would move messages on to the DLQ's own DLQ.",
        rich_help_panel=SAFETY_PANEL,
    ),
]
Yes = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Do not ask for confirmation (needed without a terminal).",
        rich_help_panel=SAFETY_PANEL,
    ),
]
JournalPath = Annotated[
    Path | None,
    typer.Option(
        help="Audit journal [default: $XDG_STATE_HOME/dlqctl/journal.jsonl].",
        rich_help_panel=SAFETY_PANEL,
    ),
]

# -- pacing (redrive, replay) ------------------------------------------------------------
To = Annotated[
    str | None,
    typer.Option(
        help="Target queue, function or topic ARN (redrive: default where each message came "
        "from, else the DLQ's only source; replay: required).",
        rich_help_panel=SAFETY_PANEL,
        autocompletion=complete_queue,
    ),
]
BatchSize = Annotated[
    int, typer.Option(help="Messages per SendMessageBatch, 1-10.", rich_help_panel=SAFETY_PANEL)
]
Rate = Annotated[
    float | None,
    typer.Option(help="At most this many messages a second.", rich_help_panel=SAFETY_PANEL),
]
Jitter = Annotated[
    str,
    typer.Option(
        help="Random per-message delay up to this (at most 15m), e.g. 30s.",
        rich_help_panel=SAFETY_PANEL,
    ),
]
MaxRedrives = Annotated[
    int | None,
    typer.Option(
        help="Refuse messages dlqctl has already redriven this many times.",
        rich_help_panel=SAFETY_PANEL,
    ),
]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Print the full plan and change nothing.", rich_help_panel=SAFETY_PANEL
    ),
]

# -- layout (after the groups above: a table view's own flag) ----------------------------
Wide = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Tables whole however wide, as a pipe gets them, instead of fitted to the "
        "terminal; peek shows bodies in full.",
        rich_help_panel=AWS_PANEL,
    ),
]
