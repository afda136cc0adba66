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
) -> None:
    """Move selected messages from a DLQ back to their source queue, safely.

    A filter (or --all) is required. One streaming pass: each matching message is sent,
    then deleted from the DLQ once the target accepted it; what does not match or fails
    stays in the DLQ. FIFO DLQs go group by group, in order, in one run. Ctrl-C (or
    SIGTERM) finishes the batch in hand, releases the rest and prints the report (exit
    130, or 143); a second one also abandons the retries in hand.

    **Examples:**

        dlqctl redrive orders-dlq --error-type Timeout --max-age 2h --dry-run

        dlqctl redrive orders-dlq --error-type Timeout --rate 20 --jitter 30s --canary 5 --canary-wait 2m

        dlqctl redrive orders-dlq --all --max-messages 500 --yes -o json | jq '.deleted'
    """
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
