"""What every command shares: its flags' values, settings, error handling, exit codes.

A command spells its flags in its own signature (the shared ones as aliases from
cli/options.py), is wrapped by `@guarded` (every dlqctl error becomes one line on
stderr plus its exit code), and starts with `inv = Invocation(locals())`.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from dlqctl.cli.formats import OutputFormat
from dlqctl.core.durations import parse_duration
from dlqctl.errors import DlqctlError, ExitCode, UsageError

# Every command module imports this one, and so do `--help` and TAB completion: what
# needs the models (settings, filters, rendering, and through the API boto3) or Rich's
# console is imported where a command first uses it (tests/cli/test_startup.py).
if TYPE_CHECKING:
    from dlqctl.api import Dlqctl
    from dlqctl.cli.output import Output
    from dlqctl.config import Settings
    from dlqctl.core.filters import MessageFilter
    from dlqctl.core.guardrails import RedriveOptions

LOOK_FORCE_HELP = (
    "Look even when this look would move messages on to the DLQ's own DLQ (its redrive "
    "policy's maxReceiveCount is reached)."
)


@dataclass
class Invocation:
    """One command run's flag values, and what is built from them once: the output, the
    settings, the API, the filter and the redrive options (a frozen request that core
    validates once)."""

    values: dict[str, Any]
    out: Output = field(init=False)

    def __post_init__(self) -> None:
        from dlqctl.cli.output import Output

        self.out = Output(
            self.values.get("output", OutputFormat.table),
            no_color=self.values.get("no_color", False),
            verbose=self.values.get("verbose", False),
        )

    @functools.cached_property
    def settings(self) -> Settings:
        from dlqctl.config import load_settings

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
        # boto3 loads here, when a command first needs AWS: `--help` and TAB completion
        # never get this far.
        from dlqctl.api import Dlqctl

        return Dlqctl(self.settings)

    def message_filter(self) -> MessageFilter:
        from dlqctl.core.filters import build_filter

        return build_filter(
            error_types=self.values.get("error_type") or (),
            exclude_error_types=self.values.get("exclude_error_type") or (),
            min_age=self.values.get("min_age"),
            max_age=self.values.get("max_age"),
            query=self.values.get("query"),
            attributes=self.values.get("attribute") or (),
            message_ids=self.values.get("message_id") or (),
            message_ids_from=self.values.get("message_ids_from"),
            kinds=self.values.get("kind") or (),
        )

    def redrive_options(self, **extra: Any) -> RedriveOptions:
        """RedriveOptions from the selection and pacing groups (plus a command's own)."""
        from dlqctl.core.guardrails import DEFAULT_BATCH_SIZE, DEFAULT_MAX_MESSAGES, RedriveOptions

        v = self.values
        return RedriveOptions(
            to=v.get("to"),
            select_all=v.get("select_all", False),
            max_messages=_given(v.get("max_messages"), DEFAULT_MAX_MESSAGES),
            force=v.get("force", False),
            batch_size=_given(v.get("batch_size"), DEFAULT_BATCH_SIZE),
            rate=v.get("rate"),
            jitter_s=parse_duration(_given(v.get("jitter"), "0s")),
            max_redrives=v.get("max_redrives"),
            dry_run=v.get("dry_run", False),
            invoke=v.get("invoke", "async"),
            fan_out=v.get("fan_out", False),
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


def guarded(func: Callable[..., None]) -> Callable[..., None]:
    """Run a command so that every dlqctl error becomes one line and its exit code. The
    command's signature is its own: `functools.wraps` shows it to Typer unchanged."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        from dlqctl.cli.output import Output

        out = Output(
            kwargs.get("output", OutputFormat.table),
            no_color=kwargs.get("no_color", False),
            verbose=kwargs.get("verbose", False),
        )
        run(out, lambda: func(*args, **kwargs))

    return wrapper


def run(out: Output, body: Callable[[], None]) -> None:
    """Run a command body; only here do dlqctl errors become exit codes."""
    try:
        body()
    except DlqctlError as exc:
        done = exc.report
        if done is not None:  # what the run had done before the error stopped it
            from dlqctl.cli.render import describe_report

            out.report(done, describe_report(done))
        _report(out, exc.message, exc)
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        out.error(
            "interrupted: held messages were released (any caught mid-receive return "
            "by themselves when their hold lapses)"
        )
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except (typer.Exit, typer.Abort):
        raise
    except BrokenPipeError:
        # The reader left (`dlqctl peek -o ndjson | head -1`): what it wanted it has, and
        # anything held was released on the way out. Point stdout at /dev/null so the
        # interpreter's final flush cannot fail a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(int(ExitCode.OK)) from None
    except Exception as exc:
        _report(out, f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)", exc)
        raise typer.Exit(int(ExitCode.ERROR)) from None


def _report(out: Output, message: str, exc: BaseException) -> None:
    if out.verbose:
        out.err.print("".join(traceback.format_exception(exc)), markup=False, highlight=False)
    out.error(message)
