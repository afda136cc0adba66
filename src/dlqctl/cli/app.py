"""The `dlqctl` Typer application."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dlqctl import __version__


class OneLineErrors(TyperGroup):
    """Usage errors as one line on stderr, like every other dlqctl error (design §3),
    instead of Typer's multi-line panel."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        standalone_mode: bool = True,
        **kwargs: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name, standalone_mode=False, **kwargs)
        except typer.TyperException as exc:  # Typer's public base of its usage errors
            if type(exc).__name__ == "NoArgsIsHelpError":
                getattr(exc, "show")()  # noqa: B009 - `dlqctl` alone: the help, as usage error
            else:
                ctx = getattr(exc, "ctx", None)
                where = ctx.command_path if ctx is not None else "dlqctl"
                sys.stderr.write(f"dlqctl: error: {exc.format_message()} (see {where} --help)\n")
            code = exc.exit_code
        except typer.Abort:  # Ctrl-C (or end of input) at a prompt: nothing was changed
            sys.stderr.write("dlqctl: error: interrupted: nothing was changed\n")
            code = 130
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="dlqctl",
    help=(
        "Look inside SQS dead-letter queues without consuming them, group what failed by "
        "error type and age, and redrive the right messages safely.\n\n"
        "Exit codes: 0 ok · 1 AWS/runtime error · 2 usage · 3 partial failure · "
        "4 refused by a safety check · 5 not found · 6 access denied · 130 interrupted."
    ),
    no_args_is_help=True,
    # `dlqctl completion SHELL` instead: Typer's options guess the shell (see that command).
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
    cls=OneLineErrors,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(ctx: typer.Context, value: bool) -> None:
    # Not while TAB parses the line (resilient parsing): the version is no completion.
    if value and not ctx.resilient_parsing:
        typer.echo(f"dlqctl {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """dlqctl: the on-call tool for SQS dead-letter queues."""


# The command modules register themselves on `app` when imported.
from dlqctl.cli.commands import (  # noqa: E402
    completion,
    config,
    export,
    history,
    iam_policy,
    inspect,
    lab,
    move_task,
    peek,
    queues,
    redrive,
    replay,
    ui,
    watch,
)

__all__ = [
    "app",
    "completion",
    "config",
    "export",
    "history",
    "iam_policy",
    "inspect",
    "lab",
    "move_task",
    "peek",
    "queues",
    "redrive",
    "replay",
    "ui",
    "watch",
]
