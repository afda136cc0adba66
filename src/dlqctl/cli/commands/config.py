"""`dlqctl config`: named pipelines in the config file."""

from pathlib import Path
from typing import Annotated

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
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
from dlqctl.cli.output import OutputFormat
from dlqctl.config import write_pipeline
from dlqctl.errors import UsageError
from dlqctl.pipeline import spec

config_app = typer.Typer(
    name="config", help="Named pipelines in the config file.", no_args_is_help=True
)
app.add_typer(config_app, name="config")

# Stack output → pipeline field. The stack's output keys come from the shared spec.
FIELDS = {
    spec.OUTPUT_DLQ_URL: "dlq",
    spec.OUTPUT_MAIN_QUEUE_URL: "source_queue",
    spec.OUTPUT_LEDGER_TABLE: "ledger_table",
}


@config_app.command("import-stack")
@guarded
def import_stack(
    stack: Annotated[
        str, typer.Argument(help="The deployed pipeline stack's name, e.g. DlqPipeline-prod.")
    ],
    name: Annotated[
        str | None, typer.Option(help="Pipeline name in the config [default: the stack name].")
    ] = None,
    region: Region = None,
    profile: Profile = None,
    endpoint_url: EndpointUrl = None,
    pipeline: PipelineName = None,
    config: ConfigFile = None,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Read a deployed pipeline stack's outputs into a named pipeline in the config file.

    Afterwards every command takes `--pipeline NAME` instead of queue names and tables.

    **Examples:**

        dlqctl config import-stack DlqPipeline-prod --name prod --region eu-west-1

        dlqctl inspect --pipeline prod
    """
    inv = Invocation(locals())
    outputs = inv.api.aws.cloudformation().stack_outputs(stack)
    missing = [key for key in FIELDS if key not in outputs]
    if missing:
        raise UsageError(
            f"stack {stack} lacks the outputs {', '.join(missing)}: is it a dlqctl pipeline stack?"
        )
    fields: dict[str, str | int] = {field: outputs[key] for key, field in FIELDS.items()}
    # The stack's event source waits this long per batch: a canary must wait it out too.
    fields["batching_window_s"] = spec.BATCHING_WINDOW_S
    region = inv.api.aws.region
    if region:
        fields["region"] = region
    if inv.settings.endpoint_url:
        fields["endpoint_url"] = inv.settings.endpoint_url
    pipeline = name or stack
    given = inv.values.get("config")
    path = write_pipeline(pipeline, fields, Path(given) if given else None)
    document = {"pipeline": pipeline, "config": str(path), **fields}
    inv.out.report(
        document,
        lambda: (
            f"pipeline {pipeline} written to {path}: try `dlqctl inspect --pipeline {pipeline}`"
        ),
        [],
    )
