"""`dlqctl replay`: send messages from an export file, with redrive's safety levers."""

from pathlib import Path
from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, command
from dlqctl.cli.moving import drive, require_consent
from dlqctl.errors import UsageError

GROUPS = ("aws", "classify", "filters", "selection", "pacing", "output")


@command(app, "replay", groups=GROUPS)
def replay(
    inv: Invocation,
    file: Annotated[
        Path, typer.Argument(help="An export file written by `dlqctl export` or `dlqctl purge`.")
    ],
) -> None:
    """Send messages from an export file to a queue (--to), as redrive would.

    The same filters and levers apply (a filter or --all, --max-messages, --rate, --jitter,
    --dry-run, --yes). Nothing is deleted anywhere: the file stays as it is. Ages count from
    each message's original send.

    **Examples:**

        dlqctl replay incident-42.jsonl --to orders --error-type Timeout --dry-run

        dlqctl replay incident-42.jsonl --to orders --all --rate 10 --yes
    """
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
