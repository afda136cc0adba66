"""`dlqctl config`: named pipelines in the config files, and which file each is from."""

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
from dlqctl.cli.completion import complete_pipeline
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
from dlqctl.cli.tab import queue_name
from dlqctl.errors import UsageError
from dlqctl.pipeline import spec

# The config's models and Rich load when a command runs, not for --help or TAB.
if TYPE_CHECKING:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from dlqctl.config import ConfigSource, MergedConfig, Pipeline

config_app = typer.Typer(
    name="config", help="Named pipelines in the config files.", no_args_is_help=True
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
    It is written to the file --config or DLQCTL_CONFIG names, else to ./dlqctl.toml when
    there is one, else to the user config (~/.config/dlqctl/config.toml).

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
    from dlqctl.config import write_pipeline

    path = write_pipeline(pipeline, fields, Path(given) if given else None)
    document = {"pipeline": pipeline, "config": str(path), **fields}
    inv.out.report(
        document,
        lambda: (
            f"pipeline {pipeline} written to {path}: try `dlqctl inspect --pipeline {pipeline}`"
        ),
        [],
    )


# Wider than any terminal: the width `list` measures its table at.
UNBOUNDED = 10_000
# Where a pipeline's AWS is, in the order `list` shows it.
WHERE = ("region", "endpoint", "profile")
# How a config file was found (`source` in JSON), in words for people.
SOURCES = {
    "--config": "given by --config",
    "DLQCTL_CONFIG": "named by DLQCTL_CONFIG",
    "working_directory": "in the working directory",
    "user_config": "the user config",
}


@dataclass(frozen=True)
class _InForce:
    """The config files a command reads, merged, and those present that it does not read."""

    merged: "MergedConfig"
    not_read: tuple[str, ...]
    # Where dlqctl looks when no file is named, for a message that there is none.
    looked_for: tuple[Path, Path]

    @property
    def read(self) -> list["ConfigSource"]:
        """The files read, the one that wins first."""
        return list(reversed(self.merged.files))

    def lines(self) -> list[str]:
        """For people: which files were read, and which present ones were not."""
        if not self.read:
            project, user = self.looked_for
            return [
                f"no config file: dlqctl looked for ./{project} and {user} "
                "(--config or DLQCTL_CONFIG name another)"
            ]
        first, *under = self.read
        lines = [f"config file: {first.path} ({SOURCES[first.origin]})"]
        lines += [f"  merged over: {source.path} ({SOURCES[source.origin]})" for source in under]
        lines += [
            f"not read: {hidden} ({first.origin} names the only file read)"
            for hidden in self.not_read
        ]
        return lines

    def replacing(self, name: str) -> str | None:
        """For people: that pipeline `name` replaces another file's, if it does."""
        replaced = self.merged.replaced.get(name)
        if replaced is None:
            return None
        words = next(SOURCES[s.origin] for s in self.read if s.path == replaced)
        return f"  pipeline {name} replaces {words}'s whole [pipelines.{name}]"

    def origin(self, name: str) -> str:
        """The file pipeline `name` came from, in a word: two files are read only when
        they are the user config and the project's."""
        if self.merged.pipeline_files[name] == self.read[-1].path:
            return "user config"
        return f"./{self.looked_for[0]}"


def _in_force(explicit: str | None) -> _InForce:
    """The files read_config reads, merged, and the usual ones it leaves out because
    --config or DLQCTL_CONFIG names another: what surprises people is a file ignored."""
    from dlqctl.config import PROJECT_CONFIG, read_config, user_config_path

    merged = read_config(explicit, os.environ)
    usual = (PROJECT_CONFIG, user_config_path())
    hidden = tuple(
        str(other.absolute())
        for other in usual
        if other.is_file() and not any(other.samefile(read.path) for read in merged.files)
    )
    return _InForce(merged, hidden, usual)


def _document(name: str, pipeline: "Pipeline", found: _InForce) -> dict[str, Any]:
    """Every key a pipeline can have (null when unset), so scripts can rely on each."""
    replaced = found.merged.replaced.get(name)
    return {
        "name": name,
        **pipeline.model_dump(mode="json"),
        "config": str(found.merged.pipeline_files[name]),
        "replaces": str(replaced) if replaced else None,
    }


@config_app.command("list")
@guarded
def list_pipelines(
    config: ConfigFile = None,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """List the pipelines of the config files, and say which file each came from.

    Each pipeline with its DLQ and source queue (by name), and its region, endpoint and
    profile where set. The files read are the user config (~/.config/dlqctl/config.toml)
    and ./dlqctl.toml in the working directory merged over it: a pipeline in both is the
    project's, whole. --config or DLQCTL_CONFIG names the only file read instead.

    **Examples:**

        dlqctl config list

        dlqctl config list -o json | jq -r '.pipelines[] | "\\(.name)\\t\\(.config)"'
    """
    inv = Invocation(locals())
    found = _in_force(config)
    names = sorted(found.merged.pipelines)
    pipelines = [_document(name, found.merged.pipelines[name], found) for name in names]
    if inv.out.format is OutputFormat.json:
        winner = found.read[0] if found.read else None
        inv.out.emit(
            {
                "config": str(winner.path) if winner else None,
                "config_source": winner.origin if winner else None,
                "config_files": [
                    {"path": str(source.path), "source": source.origin} for source in found.read
                ],
                "not_read": found.not_read,
                "pipelines": pipelines,
            }
        )
    elif inv.out.format is OutputFormat.ndjson:
        inv.out.emit_lines(pipelines)
    elif not names:
        for line in found.lines():
            inv.out.note(line)
        if found.read:
            inv.out.note("no pipelines configured: `dlqctl config import-stack STACK` adds one")
    else:
        from rich.console import Group, RenderableType
        from rich.text import Text

        # Which file each pipeline is from, when there is more than one it could be from.
        origins = {name: found.origin(name) for name in names} if len(found.read) > 1 else {}
        console = inv.out.console
        view: RenderableType = _table(found.merged.pipelines, names, origins)
        # Measured unconstrained: Rich measures a table at the widths it would squeeze it
        # to, so the narrowest it can be without cutting a name shows only this way.
        narrowest = console.measure(view, options=console.options.update_width(UNBOUNDED))
        if narrowest.minimum > console.width:
            # Too narrow for the columns without cutting a queue name: one block each.
            view = Group(
                *(
                    _block(name, found.merged.pipelines[name], origins.get(name), console.width)
                    for name in names
                )
            )
        replacing = [said for name in names if (said := found.replacing(name))]
        console.print(
            Group(
                Text("\n".join([*found.lines(), *replacing]), style="dim"),
                view,
                Text("`dlqctl config show NAME` shows one in full", style="dim"),
            )
        )


def _where(pipeline: "Pipeline") -> list[tuple[str, str]]:
    """Region, endpoint and profile, those that are set."""
    values = (pipeline.region, pipeline.endpoint_url, pipeline.profile)
    return [(label, value) for label, value in zip(WHERE, values, strict=True) if value]


def _name(ref: str) -> str:
    """A queue by its name, as people type it (`config show` has the URL or ARN)."""
    return queue_name(ref) or ref


def _table(
    pipelines: Mapping[str, "Pipeline"], names: Sequence[str], origins: Mapping[str, str]
) -> "Table":
    """One row a pipeline, queues by name, and the file it is from when `origins` says.
    Each column is at least as wide as its longest value, so Rich wraps the headers
    rather than cut a name; where that is still too wide for the terminal, `list` prints
    `_block`s instead."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table

    rows: list[list[str]] = []
    given: set[str] = set()
    for name in names:
        pipeline = pipelines[name]
        source = _name(pipeline.source_queue) if pipeline.source_queue else "-"
        where = _where(pipeline)
        given.update(label for label, _ in where)
        # A region and an endpoint speak for themselves; a profile name needs its label.
        lines = [f"profile {value}" if label == "profile" else value for label, value in where]
        rows.append([name, _name(pipeline.dlq), source, "\n".join(lines), origins.get(name, "")])
    headers = ["Pipeline", "DLQ", "Source queue"]
    # The where column is headed by what some pipeline sets, and left out when none does;
    # the From column is there when more than one file was read.
    keep = [0, 1, 2]
    if given:
        headers.append(" / ".join(label for label in WHERE if label in given).capitalize())
        keep.append(3)
    if origins:
        headers.append("From")
        keep.append(4)
    rows = [[row[index] for index in keep] for row in rows]
    table = Table(box=box.SIMPLE_HEAD)
    for index, header in enumerate(headers):
        longest = max(cell_len(line) for row in rows for line in row[index].splitlines() or [""])
        table.add_column(header, min_width=longest, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _block(name: str, pipeline: "Pipeline", origin: str | None, width: int) -> "Text":
    """One pipeline of `list` for a narrow terminal: its name, then a line a value."""
    from rich.text import Text

    rows = [("DLQ", _name(pipeline.dlq))]
    if pipeline.source_queue:
        rows.append(("source queue", _name(pipeline.source_queue)))
    rows += _where(pipeline)
    if origin:
        rows.append(("from", origin))
    return Text(name, style="bold") + Text("\n") + _fields(rows, width, indent="  ")


def _fields(rows: Sequence[tuple[str, str]], width: int, *, indent: str = "") -> "Text":
    """`label  value` lines with the values aligned. A value that does not fit beside its
    label goes on the next line, so no identifier is cut where it would have fit whole."""
    from rich.cells import cell_len
    from rich.text import Text

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
            help="The pipeline's name in the config files.", autocompletion=complete_pipeline
        ),
    ],
    config: ConfigFile = None,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Show one pipeline of the config files in full, and the file it came from.

    Its queues as written (name, URL or ARN), its ledger table, endpoint and other
    settings, and its error-type rules in the order they apply.

    **Examples:**

        dlqctl config show prod

        dlqctl config show prod -o json | jq -r .dlq
    """
    inv = Invocation(locals())
    found = _in_force(config)
    pipeline = found.merged.pipelines.get(name)
    if pipeline is None:
        raise found.merged.unknown_pipeline(name)
    inv.out.report(
        _document(name, pipeline, found),
        lambda: _pipeline_view(name, pipeline, found, inv.out.console.width),
    )


def _pipeline_view(name: str, pipeline: "Pipeline", found: _InForce, width: int) -> "Group":
    from rich.console import Group
    from rich.text import Text

    settings = pipeline.model_dump(mode="json", exclude_none=True, exclude={"rules"})
    # Its queues first: what on-call looks for; then the rest in the model's order.
    keys = sorted(settings, key=lambda key: key not in ("dlq", "source_queue"))
    lines = found.lines()
    if len(found.read) > 1:  # which of them it is from
        lines.append(f"  pipeline {name} is from {found.merged.pipeline_files[name]}")
    if replacing := found.replacing(name):
        lines.append(replacing)
    parts = [
        Text(f"pipeline {name}", style="bold"),
        Text("\n".join(lines), style="dim"),
        _fields([(key, str(settings[key])) for key in keys], width),
    ]
    if pipeline.rules:
        rules = [(rule.error_type, f"when {rule.when}") for rule in pipeline.rules]
        parts.append(Text("error-type rules, first truthy wins (then the [defaults] rules):"))
        parts.append(_fields(rules, width, indent="  "))
    else:
        parts.append(Text("no error-type rules of its own (the [defaults] rules apply)"))
    return Group(*parts)
