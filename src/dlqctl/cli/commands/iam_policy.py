"""`dlqctl iam-policy`: the minimal IAM policy to run dlqctl on one pipeline."""

from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, command
from dlqctl.core.iam import key_arn, operator_policy
from dlqctl.core.queue_ref import parse_queue_ref
from dlqctl.core.queues import describe, open_queue
from dlqctl.errors import UsageError


@command(app, "iam-policy", groups=("aws", "output"))
def iam_policy(
    inv: Invocation,
    queue: Annotated[
        str | None, typer.Option(help="The DLQ (name, URL or ARN; default: the --pipeline's DLQ).")
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(help="A queue redrives may send to (default: the DLQ's sources; repeatable)."),
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
) -> None:
    """Print the least-privilege IAM policy (JSON) for running dlqctl on a pipeline.

    By default the DLQ is looked up: its sources become the redrive targets and its KMS
    keys (and theirs) are included. Wildcard resources appear only where AWS requires
    them (sqs:ListQueues, cloudwatch:GetMetricData).

    **Examples:**

        dlqctl iam-policy --queue orders-dlq --ledger-table orders-ledger > dlqctl-policy.json

        dlqctl iam-policy --queue arn:aws:sqs:eu-west-1:123456789012:orders-dlq --target arn:aws:sqs:eu-west-1:123456789012:orders --no-lookup
    """
    dlq = inv.queue(queue)
    targets = list(target or [])
    table = ledger_table or inv.settings.ledger_table
    keys: list[str] = []
    if no_lookup:
        ref = parse_queue_ref(dlq)
        if ref.kind != "arn" or not all(parse_queue_ref(t).kind == "arn" for t in targets):
            raise UsageError("--no-lookup needs ARNs for --queue and every --target")
        dlq_arn, target_arns = dlq, targets
    else:
        sqs, url = open_queue(inv.api.aws, dlq)
        info = describe(sqs, url)
        dlq_arn = info.arn
        prefix = info.arn.rsplit(":", 1)[0]
        described = [
            describe(*open_queue(inv.api.aws, t), with_sources=False) for t in targets
        ] or [
            describe(*open_queue(inv.api.aws, f"{prefix}:{name}"), with_sources=False)
            for name in info.sources
        ]
        target_arns = [t.arn for t in described]
        keys = [k for q in [info, *described] if (k := key_arn(q.kms_key_id or "", q.arn))]
    inv.out.emit(
        operator_policy(
            dlq_arn=dlq_arn,
            target_arns=target_arns,
            ledger_table=table,
            key_arns=keys,
            read_only=read_only,
        )
    )
