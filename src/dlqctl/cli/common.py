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
from pathlib import Path
from typing import Annotated, Any

import typer

from dlqctl.api import Dlqctl
from dlqctl.cli.output import Output, OutputFormat
from dlqctl.cli.render import describe_report
from dlqctl.config import Settings, load_settings
from dlqctl.core.durations import parse_duration
from dlqctl.core.filters import MessageFilter, build_filter
from dlqctl.core.guardrails import DEFAULT_MAX_MESSAGES, RedriveOptions
from dlqctl.errors import DlqctlError, ExitCode, UsageError

AWS_PANEL = "AWS and output"
FILTER_PANEL = "Filters"
CLASSIFY_PANEL = "Error types"
SAFETY_PANEL = "Safety levers"
LOOK_FORCE_HELP = (
    "Look even when this look would move messages on to the DLQ's own DLQ (its redrive "
    "policy's maxReceiveCount is reached)."
)


@dataclass(frozen=True)
class _Option:
    name: str
    annotation: Any
    default: Any


def _opt(
    name: str, kind: Any, panel: str, help: str, *decls: str, default: Any = None, **extra: Any
) -> _Option:
    """One shared option: its parameter name, type, help panel, help text and flags."""
    option = typer.Option(*decls, help=help, rich_help_panel=panel, **extra)
    return _Option(name, Annotated[kind, option], default)


GROUPS: dict[str, list[_Option]] = {
    "aws": [
        _opt("region", str | None, AWS_PANEL, "AWS region (default: AWS_REGION or the profile's)."),
        _opt("profile", str | None, AWS_PANEL, "AWS profile (default: AWS_PROFILE)."),
        _opt(
            "endpoint_url",
            str | None,
            AWS_PANEL,
            "SQS-compatible endpoint, e.g. the lab's (AWS_ENDPOINT_URL_SQS also works).",
        ),
        _opt(
            "pipeline",
            str | None,
            AWS_PANEL,
            "Named pipeline from the config file: gives the DLQ, ledger table and rules.",
        ),
        _opt(
            "config",
            str | None,
            AWS_PANEL,
            "Config file (default: ./dlqctl.toml, then ~/.config/dlqctl/config.toml).",
        ),
    ],
    "output": [
        _opt(
            "output",
            OutputFormat,
            AWS_PANEL,
            "table for people; json (one document) or ndjson (one object a line) for scripts.",
            "--output",
            "-o",
            default=OutputFormat.table,
        ),
        _opt(
            "no_color",
            bool,
            AWS_PANEL,
            "No colour (NO_COLOR is honoured too).",
            "--no-color",
            default=False,
        ),
        _opt(
            "verbose",
            bool,
            AWS_PANEL,
            "Show tracebacks for errors.",
            "--verbose",
            "-v",
            default=False,
        ),
    ],
    "classify": [
        _opt(
            "ledger_table",
            str | None,
            CLASSIFY_PANEL,
            "DynamoDB failure ledger (the idempotency table) to read error types from.",
        ),
        _opt(
            "error_type_attribute",
            str | None,
            CLASSIFY_PANEL,
            "Message attribute that names the error type [default: ErrorType].",
        ),
    ],
    "filters": [
        _opt("error_type", list[str] | None, FILTER_PANEL, "Only this error type (repeatable)."),
        _opt(
            "exclude_error_type",
            list[str] | None,
            FILTER_PANEL,
            "Leave out this error type (repeatable).",
        ),
        _opt(
            "min_age",
            str | None,
            FILTER_PANEL,
            "Only messages at least this old: 90s, 15m, 2h, 3d.",
        ),
        _opt("max_age", str | None, FILTER_PANEL, "Only messages at most this old."),
        _opt(
            "query",
            str | None,
            FILTER_PANEL,
            "JMESPath over the JSON body; keeps messages where it is truthy.",
        ),
        _opt(
            "attribute",
            list[str] | None,
            FILTER_PANEL,
            "NAME=VALUE a message (or system) attribute must equal (repeatable).",
        ),
        _opt(
            "max_scan",
            int | None,
            FILTER_PANEL,
            "Receive at most this many messages [default: 10000].",
            min=1,
        ),
        _opt(
            "concurrency",
            int | None,
            FILTER_PANEL,
            "SQS requests in flight at once [default: 16].",
            min=1,
            max=32,
        ),
    ],
    "selection": [
        _opt(
            "select_all",
            bool,
            SAFETY_PANEL,
            "Select every message: required when no filter is given.",
            "--all",
            default=False,
        ),
        _opt(
            "max_messages",
            int | None,
            SAFETY_PANEL,
            "Act on at most this many [default: 100; above 1000 needs --force].",
        ),
        _opt("force", bool, SAFETY_PANEL, "Allow --max-messages above 1000.", default=False),
        _opt(
            "yes",
            bool,
            SAFETY_PANEL,
            "Do not ask for confirmation (needed without a terminal).",
            "--yes",
            "-y",
            default=False,
        ),
        _opt(
            "journal",
            Path | None,
            SAFETY_PANEL,
            "Audit journal [default: $XDG_STATE_HOME/dlqctl/journal.jsonl].",
        ),
    ],
    "pacing": [
        _opt(
            "to",
            str | None,
            SAFETY_PANEL,
            "Target queue (redrive: default each message's source queue, else the DLQ's only source; replay: required).",
        ),
        _opt("batch_size", int, SAFETY_PANEL, "Messages per SendMessageBatch, 1-10.", default=10),
        _opt("rate", float | None, SAFETY_PANEL, "At most this many messages a second."),
        _opt(
            "jitter",
            str,
            SAFETY_PANEL,
            "Random per-message delay up to this (at most 15m), e.g. 30s.",
            default="0s",
        ),
        _opt(
            "max_redrives",
            int | None,
            SAFETY_PANEL,
            "Refuse messages dlqctl has already redriven this many times.",
        ),
        _opt(
            "dry_run",
            bool,
            SAFETY_PANEL,
            "Print the full plan and change nothing.",
            "--dry-run",
            default=False,
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
                "concurrency",
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

    def redrive_options(self, **extra: Any) -> RedriveOptions:
        """RedriveOptions from the selection and pacing groups (plus a command's own)."""
        v = self.values
        return RedriveOptions(
            to=v.get("to"),
            select_all=v.get("select_all", False),
            max_messages=_given(v.get("max_messages"), DEFAULT_MAX_MESSAGES),
            force=v.get("force", False),
            batch_size=_given(v.get("batch_size"), 10),
            rate=v.get("rate"),
            jitter_s=parse_duration(_given(v.get("jitter"), "0s")),
            max_redrives=v.get("max_redrives"),
            dry_run=v.get("dry_run", False),
            **extra,
        )

    def queue(self, given: str | None) -> str:
        """The QUEUE argument, else the DLQ of --pipeline."""
        if given:
            return given
        if self.settings.dlq:
            return self.settings.dlq
        raise UsageError("no queue given: pass QUEUE (a name, URL or ARN) or --pipeline NAME")


def _given(value: Any, default: Any) -> Any:
    """A flag's value when given (0 included), else the default: never `value or default`,
    which would turn --max-messages 0 into 100."""
    return default if value is None else value


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
        done = exc.report
        if done is not None:  # what the run had done before the error stopped it
            inv.out.report(done, describe_report(done))
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
