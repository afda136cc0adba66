"""`dlqctl inspect`: what is in a DLQ, why it failed and how old it is."""

from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import LOOK_FORCE_HELP, Invocation, command
from dlqctl.cli.render import inspect_view


@command(app, "inspect", groups=("aws", "classify", "filters", "output"))
def inspect_queue(
    inv: Invocation,
    queue: Annotated[
        str | None, typer.Argument(help="Queue name, URL or ARN (default: the --pipeline's DLQ).")
    ] = None,
    force: Annotated[bool, typer.Option(help=LOOK_FORCE_HELP)] = False,
) -> None:
    """Summarise a DLQ without consuming it: counts by error type, ages, sources, settings.

    Every message is received and held, then released: nothing is deleted, but each
    message's ApproximateReceiveCount goes up by one.

    **Examples:**

        dlqctl inspect orders-dlq

        dlqctl inspect orders-dlq --max-age 2h -o json | jq '.by_error_type'

        dlqctl inspect --pipeline orders --ledger-table orders-idempotency
    """
    name = inv.queue(queue)
    with inv.out.progress(f"scanning {name}") as on_progress:
        report = inv.api.inspect(
            name,
            inv.message_filter(),
            max_scan=inv.values.get("max_scan"),
            on_progress=on_progress,
            force=force,
        )
    inv.out.report(report, lambda: inspect_view(report), report.warnings)
