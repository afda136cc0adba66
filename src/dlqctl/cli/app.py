"""The `dlqctl` Typer application."""

from __future__ import annotations

from typing import Annotated

import typer

from dlqctl import __version__

app = typer.Typer(
    name="dlqctl",
    help=(
        "Look inside SQS dead-letter queues without consuming them, group what failed by "
        "error type and age, and redrive the right messages safely.\n\n"
        "Exit codes: 0 ok · 1 AWS/runtime error · 2 usage · 3 partial failure · "
        "4 refused by a safety check · 5 not found · 6 access denied · 130 interrupted."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
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
    export,
    history,
    inspect,
    peek,
    queues,
    redrive,
    replay,
    watch,
)

__all__ = ["app", "export", "history", "inspect", "peek", "queues", "redrive", "replay", "watch"]
