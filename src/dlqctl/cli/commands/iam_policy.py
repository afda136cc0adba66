"""`dlqctl iam-policy`: the minimal IAM policy to run dlqctl on one pipeline."""

from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
from dlqctl.cli.formats import OutputFormat
from dlqctl.cli.options import (
    ConfigFile,
    EndpointUrl,
    NoColor,
    OutputOption,
    PipelineName,
    Profile,
    Region,
    Verbose,
)


@app.command("iam-policy")
@guarded
def iam_policy(
    queue: Annotated[
        str | None, typer.Option(help="The DLQ (name, URL or ARN; default: the --pipeline's DLQ).")
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            help="Where redrives may send: a queue, or a function's, topic's or bus's ARN "
            "(default: the DLQ's sources, or the pipeline's original_target; repeatable)."
        ),
    ] = None,
    ledger_table: Annotated[
        str | None, typer.Option(help="The failure ledger to read (default: the --pipeline's).")
    ] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Only what queues, inspect, peek and watch need.")
    ] = False,
    no_lookup: Annotated[
        bool,
        typer.Option(
            "--no-lookup",
            help="Build from ARNs alone, calling no AWS API (give --target ARNs; no KMS statement).",
        ),
    ] = False,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    pipeline: PipelineName = None,
    config: ConfigFile = None,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Print the least-privilege IAM policy (JSON) for running dlqctl on a pipeline.

    By default the DLQ is looked up: its sources become the redrive targets and its KMS
    keys (and theirs) are included. Wildcard resources appear only where AWS requires
    them (sqs:ListQueues, cloudwatch:GetMetricData).

    **Examples:**

        dlqctl iam-policy --queue orders-dlq --ledger-table orders-ledger > dlqctl-policy.json

        dlqctl iam-policy --queue arn:aws:sqs:eu-west-1:123456789012:orders-dlq --target arn:aws:sqs:eu-west-1:123456789012:orders --no-lookup
    """
    inv = Invocation(locals())
    inv.out.emit(
        inv.api.iam_policy(
            inv.queue(queue),
            targets=list(target or []),
            ledger_table=ledger_table or inv.settings.ledger_table,
            read_only=read_only,
            lookup=not no_lookup,
        )
    )
