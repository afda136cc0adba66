"""`dlqctl queues`: which DLQs hold messages, deepest first."""

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
    Wide,
)


@app.command("queues")
@guarded
def queues(
    all_queues: Annotated[bool, typer.Option("--all", help="Every queue, not only DLQs.")] = False,
    prefix: Annotated[
        str | None, typer.Option(help="Only queues whose name starts with this.")
    ] = None,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    pipeline: PipelineName = None,
    config: ConfigFile = None,
    output: OutputOption = OutputFormat.table,
    wide: Wide = False,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """List dead-letter queues, deepest first.

    A DLQ is a queue some queue redrives to, the --pipeline's DLQ, or a queue named like
    one (-dlq, DeadLetterQueue): Lambda, EventBridge and SNS keep their DLQs in their own
    settings. Shows visible, in-flight and delayed counts, the oldest message's age where
    CloudWatch has it, the source queues (or the pipeline's kind) and the retention.
    Reads attributes only: consumes nothing.

    **Examples:**

        dlqctl queues

        dlqctl queues --all --prefix orders -o json | jq '.queues[] | {name, visible}'
    """
    inv = Invocation(locals())
    from dlqctl.cli.render import queues_table

    found = inv.api.queues(all_queues=all_queues, prefix=prefix)
    if inv.out.format is OutputFormat.json:
        inv.out.emit({"queues": found})
    elif inv.out.format is OutputFormat.ndjson:
        inv.out.emit_lines(found)
    elif found:
        inv.out.show(queues_table(found, all_queues=all_queues), wide=wide)
    else:
        inv.out.note("no queues found" if all_queues else "no dead-letter queues found (try --all)")
