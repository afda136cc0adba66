"""`dlqctl redrive`: put the right messages back, safely."""

from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, command
from dlqctl.cli.moving import drive, require_consent
from dlqctl.core.durations import parse_duration

GROUPS = ("aws", "classify", "filters", "selection", "pacing", "output")


@command(app, "redrive", groups=GROUPS)
def redrive(
    inv: Invocation,
    queue: Annotated[
        str | None,
        typer.Argument(help="The DLQ: name, URL or ARN (default: the --pipeline's DLQ)."),
    ] = None,
    canary: Annotated[
        int,
        typer.Option(
            help="Send this many first, wait --canary-wait, go on only if none came back.",
            rich_help_panel="Safety levers",
        ),
    ] = 0,
    canary_wait: Annotated[
        str,
        typer.Option(help="How long the canary waits, e.g. 2m.", rich_help_panel="Safety levers"),
    ] = "60s",
    stop_after_failures: Annotated[
        int | None,
        typer.Option(
            help="Circuit breaker: stop when this many redriven messages fail again.",
            rich_help_panel="Safety levers",
        ),
    ] = None,
) -> None:
    """Move selected messages from a DLQ back to their source queue, safely.

    A filter (or --all) is required. Messages are sent in batches, then deleted from the
    DLQ only once the target accepted them; what fails stays in the DLQ. Ctrl-C finishes
    the batch in hand, releases the rest and prints the report (exit 130).

    **Examples:**

        dlqctl redrive orders-dlq --error-type Timeout --max-age 2h --dry-run

        dlqctl redrive orders-dlq --error-type Timeout --rate 20 --jitter 30s --canary 5 --canary-wait 2m

        dlqctl redrive orders-dlq --all --max-messages 500 --yes -o json | jq '.deleted'
    """
    options = inv.redrive_options(
        canary=canary,
        canary_wait_s=parse_duration(canary_wait),
        stop_after_failures=stop_after_failures,
    )
    message_filter = inv.message_filter()
    options.check(message_filter)
    require_consent(inv)
    name = inv.queue(queue)
    drive(
        inv,
        lambda on_progress: inv.api.redrive_session(
            name,
            message_filter,
            options,
            journal=inv.values.get("journal"),
            max_scan=inv.values.get("max_scan"),
            on_progress=on_progress,
        ),
        verb="redrive",
    )
