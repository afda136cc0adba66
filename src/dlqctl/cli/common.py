"""What every command shares: option groups, settings, error handling and exit codes.

`@command(app, groups=...)` appends the shared options to a command's own, so each flag
is declared once, and turns every dlqctl error into one line on stderr plus its exit
code. The command function receives an `Invocation` as its first argument.
"""

from __future__ import annotations

import functools
import inspect
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from dlqctl.api import Dlqctl
from dlqctl.cli.output import Output, OutputFormat
from dlqctl.config import Settings, load_settings
from dlqctl.core.filters import MessageFilter, build_filter
from dlqctl.errors import DlqctlError, ExitCode, UsageError

AWS_PANEL = "AWS and output"
FILTER_PANEL = "Filters"
CLASSIFY_PANEL = "Error types"


@dataclass(frozen=True)
class _Option:
    name: str
    annotation: Any
    default: Any


def _opt(name: str, annotation: Any, default: Any = None) -> _Option:
    return _Option(name, annotation, default)


GROUPS: dict[str, list[_Option]] = {
    "aws": [
        _opt(
            "region",
            Annotated[
                str | None,
                typer.Option(
                    help="AWS region (default: AWS_REGION or the profile's).",
                    rich_help_panel=AWS_PANEL,
                ),
            ],
        ),
        _opt(
            "profile",
            Annotated[
                str | None,
                typer.Option(help="AWS profile (default: AWS_PROFILE).", rich_help_panel=AWS_PANEL),
            ],
        ),
        _opt(
            "endpoint_url",
            Annotated[
                str | None,
                typer.Option(
                    help="SQS-compatible endpoint, e.g. the lab's (AWS_ENDPOINT_URL_SQS also works).",
                    rich_help_panel=AWS_PANEL,
                ),
            ],
        ),
        _opt(
            "pipeline",
            Annotated[
                str | None,
                typer.Option(
                    help="Named pipeline from the config file: gives the DLQ, ledger table and rules.",
                    rich_help_panel=AWS_PANEL,
                ),
            ],
        ),
        _opt(
            "config",
            Annotated[
                str | None,
                typer.Option(
                    help="Config file (default: ./dlqctl.toml, then ~/.config/dlqctl/config.toml).",
                    rich_help_panel=AWS_PANEL,
                ),
            ],
        ),
    ],
    "output": [
        _opt(
            "output",
            Annotated[
                OutputFormat,
                typer.Option(
                    "--output",
                    "-o",
                    help="table for people; json (one document) or ndjson (one object a line) for scripts.",
                    rich_help_panel=AWS_PANEL,
                ),
            ],
            OutputFormat.table,
        ),
        _opt(
            "no_color",
            Annotated[
                bool,
                typer.Option(
                    "--no-color",
                    help="No colour (NO_COLOR is honoured too).",
                    rich_help_panel=AWS_PANEL,
                ),
            ],
            False,
        ),
        _opt(
            "verbose",
            Annotated[
                bool,
                typer.Option(
                    "--verbose", "-v", help="Show tracebacks for errors.", rich_help_panel=AWS_PANEL
                ),
            ],
            False,
        ),
    ],
    "classify": [
        _opt(
            "ledger_table",
            Annotated[
                str | None,
                typer.Option(
                    help="DynamoDB failure ledger (the idempotency table) to read error types from.",
                    rich_help_panel=CLASSIFY_PANEL,
                ),
            ],
        ),
        _opt(
            "error_type_attribute",
            Annotated[
                str | None,
                typer.Option(
                    help="Message attribute that names the error type [default: ErrorType].",
                    rich_help_panel=CLASSIFY_PANEL,
                ),
            ],
        ),
    ],
    "filters": [
        _opt(
            "error_type",
            Annotated[
                list[str] | None,
                typer.Option(
                    help="Only this error type (repeatable).", rich_help_panel=FILTER_PANEL
                ),
            ],
        ),
        _opt(
            "exclude_error_type",
            Annotated[
                list[str] | None,
                typer.Option(
                    help="Leave out this error type (repeatable).", rich_help_panel=FILTER_PANEL
                ),
            ],
        ),
        _opt(
            "min_age",
            Annotated[
                str | None,
                typer.Option(
                    help="Only messages at least this old: 90s, 15m, 2h, 3d.",
                    rich_help_panel=FILTER_PANEL,
                ),
            ],
        ),
        _opt(
            "max_age",
            Annotated[
                str | None,
                typer.Option(help="Only messages at most this old.", rich_help_panel=FILTER_PANEL),
            ],
        ),
        _opt(
            "query",
            Annotated[
                str | None,
                typer.Option(
                    help="JMESPath over the JSON body; keeps messages where it is truthy.",
                    rich_help_panel=FILTER_PANEL,
                ),
            ],
        ),
        _opt(
            "attribute",
            Annotated[
                list[str] | None,
                typer.Option(
                    help="NAME=VALUE a message (or system) attribute must equal (repeatable).",
                    rich_help_panel=FILTER_PANEL,
                ),
            ],
        ),
        _opt(
            "max_scan",
            Annotated[
                int | None,
                typer.Option(
                    min=1,
                    help="Receive at most this many messages [default: 10000].",
                    rich_help_panel=FILTER_PANEL,
                ),
            ],
        ),
    ],
}


@dataclass
class Invocation:
    """The shared options of one command run, and the objects built from them."""

    values: dict[str, Any]
    out: Output = field(init=False)

    def __post_init__(self) -> None:
        self.out = Output(
            self.values.get("output", OutputFormat.table),
            no_color=self.values.get("no_color", False),
            verbose=self.values.get("verbose", False),
        )

    @functools.cached_property
    def settings(self) -> Settings:
        flags = {
            key: self.values.get(key)
            for key in (
                "region",
                "profile",
                "endpoint_url",
                "ledger_table",
                "error_type_attribute",
                "max_scan",
            )
        }
        return load_settings(
            flags, pipeline=self.values.get("pipeline"), config=self.values.get("config")
        )

    @functools.cached_property
    def api(self) -> Dlqctl:
        return Dlqctl(self.settings)

    def message_filter(self) -> MessageFilter:
        return build_filter(
            error_types=self.values.get("error_type") or (),
            exclude_error_types=self.values.get("exclude_error_type") or (),
            min_age=self.values.get("min_age"),
            max_age=self.values.get("max_age"),
            query=self.values.get("query"),
            attributes=self.values.get("attribute") or (),
        )

    def queue(self, given: str | None) -> str:
        """The QUEUE argument, else the DLQ of --pipeline."""
        if given:
            return given
        if self.settings.dlq:
            return self.settings.dlq
        raise UsageError("no queue given: pass QUEUE (a name, URL or ARN) or --pipeline NAME")


def command(
    app: typer.Typer, name: str, *, groups: tuple[str, ...] = ("aws", "output"), **kwargs: Any
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register `func(inv, **own_options)` as a command with the shared option groups."""
    shared = [option for group in groups for option in GROUPS[group]]

    def decorator(func: Callable[..., None]) -> Callable[..., None]:
        own = list(inspect.signature(func).parameters.values())[1:]
        extra = [
            inspect.Parameter(
                o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default, annotation=o.annotation
            )
            for o in shared
        ]

        @functools.wraps(func)
        def wrapper(**values: Any) -> None:
            inv = Invocation({o.name: values.pop(o.name) for o in shared})
            run(inv, lambda: func(inv, **values))

        wrapper.__signature__ = inspect.Signature(own + extra)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {
            **{p.name: p.annotation for p in own},
            **{o.name: o.annotation for o in shared},
        }
        app.command(name, **kwargs)(wrapper)
        return func

    return decorator


def run(inv: Invocation, body: Callable[[], None]) -> None:
    """Run a command body; only here do dlqctl errors become exit codes."""
    try:
        body()
    except DlqctlError as exc:
        _report(inv, exc.message, exc)
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        inv.out.error(
            "interrupted: held messages were released (any caught mid-receive return "
            "by themselves when their hold lapses)"
        )
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        _report(inv, f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)", exc)
        raise typer.Exit(int(ExitCode.ERROR)) from None


def _report(inv: Invocation, message: str, exc: BaseException) -> None:
    if inv.out.verbose:
        inv.out.err.print("".join(traceback.format_exception(exc)), markup=False, highlight=False)
    inv.out.error(message)
