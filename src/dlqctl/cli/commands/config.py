"""`dlqctl config`: named pipelines in the config file."""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
from dlqctl.cli.completion import complete_pipeline, queue_name
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
from dlqctl.config import ConfigFile as ConfigModel
from dlqctl.config import Pipeline, config_path, load_config, user_config_path, write_pipeline
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


# config_path's first candidate: a dlqctl.toml in the working directory beats the user's.
LOCAL_CONFIG = Path("dlqctl.toml")
# Wider than any terminal: the width `list` measures its table at.
UNBOUNDED = 10_000
# Where a pipeline's AWS is, in the order `list` shows it.
WHERE = ("region", "endpoint", "profile")
# How the config file in force was found (`config_source` in JSON), in words for people.
SOURCES = {
    "--config": "given by --config",
    "DLQCTL_CONFIG": "named by DLQCTL_CONFIG",
    "working_directory": "in the working directory",
    "user_config": "the user config",
}


@dataclass(frozen=True)
class _InForce:
    """The config file a command reads, how it was found, and the config files it hides."""

    config: ConfigModel
    file: str | None
    source: str | None
    not_read: tuple[str, ...]

    def lines(self) -> list[str]:
        """For people: which file was read, and which present ones were not."""
        if self.file is None or self.source is None:
            return [
                f"no config file: dlqctl looked for ./{LOCAL_CONFIG} and {user_config_path()} "
                "(--config or DLQCTL_CONFIG name another)"
            ]
        return [
            f"config file: {self.file} ({SOURCES[self.source]})",
            *(f"not read: {hidden} (the config file above wins)" for hidden in self.not_read),
        ]


def _in_force(explicit: str | None) -> _InForce:
    """config_path finds the file; how it found it is told apart here, in the same order,
    because a ./dlqctl.toml silently hiding the user config is what surprises people."""
    path = config_path(explicit, os.environ)
    config = load_config(path)
    if path is None:
        return _InForce(config, None, None, ())
    if explicit:
        source = "--config"
    elif os.environ.get("DLQCTL_CONFIG"):
        source = "DLQCTL_CONFIG"
    elif path == LOCAL_CONFIG:
        source = "working_directory"
    else:
        source = "user_config"
    hidden = tuple(
        str(other.absolute())
        for other in (LOCAL_CONFIG, user_config_path())
        if other.is_file() and not other.samefile(path)
    )
    return _InForce(config, str(path.absolute()), source, hidden)


def _document(name: str, pipeline: Pipeline, found: _InForce) -> dict[str, Any]:
    """Every key a pipeline can have (null when unset), so scripts can rely on each."""
    return {"name": name, **pipeline.model_dump(mode="json"), "config": found.file}


@config_app.command("list")
@guarded
def list_pipelines(
    config: ConfigFile = None,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """List the pipelines in the config file, and say which file that is.

    Each pipeline with its DLQ and source queue (by name), and its region, endpoint and
    profile where set. The file read is the one --config or DLQCTL_CONFIG names, else
    ./dlqctl.toml in the working directory, which takes precedence over the user config
    (~/.config/dlqctl/config.toml).

    **Examples:**

        dlqctl config list

        dlqctl config list -o json | jq -r '.pipelines[] | "\\(.name)\\t\\(.dlq)"'
    """
    inv = Invocation(locals())
    found = _in_force(config)
    names = sorted(found.config.pipelines)
    pipelines = [_document(name, found.config.pipelines[name], found) for name in names]
    if inv.out.format is OutputFormat.json:
        inv.out.emit(
            {
                "config": found.file,
                "config_source": found.source,
                "not_read": found.not_read,
                "pipelines": pipelines,
            }
        )
    elif inv.out.format is OutputFormat.ndjson:
        inv.out.emit_lines(pipelines)
    elif not names:
        for line in found.lines():
            inv.out.note(line)
        if found.file:
            inv.out.note("no pipelines in it: `dlqctl config import-stack STACK` adds one")
    else:
        console = inv.out.console
        view: RenderableType = _table(found.config, names)
        # Measured unconstrained: Rich measures a table at the widths it would squeeze it
        # to, so the narrowest it can be without cutting a name shows only this way.
        narrowest = console.measure(view, options=console.options.update_width(UNBOUNDED))
        if narrowest.minimum > console.width:
            # Too narrow for the columns without cutting a queue name: one block each.
            view = Group(*(_block(found.config, name, console.width) for name in names))
        console.print(
            Group(
                Text("\n".join(found.lines()), style="dim"),
                view,
                Text("`dlqctl config show NAME` shows one in full", style="dim"),
            )
        )


def _where(pipeline: Pipeline) -> list[tuple[str, str]]:
    """Region, endpoint and profile, those that are set."""
    values = (pipeline.region, pipeline.endpoint_url, pipeline.profile)
    return [(label, value) for label, value in zip(WHERE, values, strict=True) if value]


def _name(ref: str) -> str:
    """A queue by its name, as people type it (`config show` has the URL or ARN)."""
    return queue_name(ref) or ref


def _table(config: ConfigModel, names: Sequence[str]) -> Table:
    """One row a pipeline, queues by name. Each column is at least as wide as its longest
    value, so Rich wraps the headers rather than cut a name; where that is still too wide
    for the terminal, `list` prints `_block`s instead."""
    rows: list[list[str]] = []
    given: set[str] = set()
    for name in names:
        pipeline = config.pipelines[name]
        source = _name(pipeline.source_queue) if pipeline.source_queue else "-"
        where = _where(pipeline)
        given.update(label for label, _ in where)
        # A region and an endpoint speak for themselves; a profile name needs its label.
        lines = [f"profile {value}" if label == "profile" else value for label, value in where]
        rows.append([name, _name(pipeline.dlq), source, "\n".join(lines)])
    headers = ["Pipeline", "DLQ", "Source queue"]
    # The last column is headed by what some pipeline sets, and left out when none does.
    if given:
        headers.append(" / ".join(label for label in WHERE if label in given).capitalize())
    else:
        rows = [row[:3] for row in rows]
    table = Table(box=box.SIMPLE_HEAD)
    for index, header in enumerate(headers):
        longest = max(cell_len(line) for row in rows for line in row[index].splitlines() or [""])
        table.add_column(header, min_width=longest, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _block(config: ConfigModel, name: str, width: int) -> Text:
    """One pipeline of `list` for a narrow terminal: its name, then a line a value."""
    pipeline = config.pipelines[name]
    rows = [("DLQ", _name(pipeline.dlq))]
    if pipeline.source_queue:
        rows.append(("source queue", _name(pipeline.source_queue)))
    rows += _where(pipeline)
    return Text(name, style="bold") + Text("\n") + _fields(rows, width, indent="  ")


def _fields(rows: Sequence[tuple[str, str]], width: int, *, indent: str = "") -> Text:
    """`label  value` lines with the values aligned. A value that does not fit beside its
    label goes on the next line, so no identifier is cut where it would have fit whole."""
    column = max(cell_len(label) for label, _ in rows) + 2
    lines = []
    for label, value in rows:
        if cell_len(indent) + column + cell_len(value) <= width:
            lines.append(f"{indent}{label.ljust(column)}{value}")
        else:
            lines += [f"{indent}{label}", f"{indent}  {value}"]
    return Text("\n".join(lines))


@config_app.command("show")
@guarded
def show(
    name: Annotated[
        str,
        typer.Argument(
            help="The pipeline's name in the config file.", autocompletion=complete_pipeline
        ),
    ],
    config: ConfigFile = None,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Show one pipeline of the config file in full.

    Its queues as written (name, URL or ARN), its ledger table, endpoint and other
    settings, and its error-type rules in the order they apply.

    **Examples:**

        dlqctl config show prod

        dlqctl config show prod -o json | jq -r .dlq
    """
    inv = Invocation(locals())
    found = _in_force(config)
    pipeline = found.config.pipelines.get(name)
    if pipeline is None:
        known = ", ".join(sorted(found.config.pipelines)) or "none"
        where = f"in {found.file}" if found.file else "(there is no config file)"
        raise UsageError(f"unknown pipeline {name!r} {where}; known: {known}")
    inv.out.report(
        _document(name, pipeline, found),
        lambda: _pipeline_view(name, pipeline, found, inv.out.console.width),
    )


def _pipeline_view(name: str, pipeline: Pipeline, found: _InForce, width: int) -> Group:
    settings = pipeline.model_dump(mode="json", exclude_none=True, exclude={"rules"})
    # Its queues first: what on-call looks for; then the rest in the model's order.
    keys = sorted(settings, key=lambda key: key not in ("dlq", "source_queue"))
    parts = [
        Text(f"pipeline {name}", style="bold"),
        Text("\n".join(found.lines()), style="dim"),
        _fields([(key, str(settings[key])) for key in keys], width),
    ]
    if pipeline.rules:
        rules = [(rule.error_type, f"when {rule.when}") for rule in pipeline.rules]
        parts.append(Text("error-type rules, first truthy wins (then the [defaults] rules):"))
        parts.append(_fields(rules, width, indent="  "))
    else:
        parts.append(Text("no error-type rules of its own (the [defaults] rules apply)"))
    return Group(*parts)
