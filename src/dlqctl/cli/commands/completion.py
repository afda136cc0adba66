"""`dlqctl completion SHELL`: the completion script for the shell named, never a guess.

Typer's own --install-completion and --show-completion detect the shell from the parent
process and ignore a shell given after them (`--install-completion zsh` from bash
installed bash's script), so dlqctl takes the shell as an argument instead.
"""

from enum import StrEnum
from typing import Annotated

import typer

# typer.completion is the public home of these (its own --install-completion uses them);
# it imports them from private modules without an __all__, which mypy cannot see.
from typer.completion import (  # type: ignore[attr-defined]
    completion_init,
    get_completion_script,
)
from typer.completion import install as install_script  # type: ignore[attr-defined]

from dlqctl.cli.app import app
from dlqctl.cli.common import guarded

COMPLETE_VAR = "_DLQCTL_COMPLETE"
# TAB itself (the scripts call dlqctl with COMPLETE_VAR set) needs Typer's completion
# classes, which it registers only with its own options switched on.
completion_init()


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"
    pwsh = "pwsh"


@app.command("completion")
@guarded
def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell to complete in.")],
    install: Annotated[
        bool,
        typer.Option(
            "--install",
            help="Add the script to that shell's start-up files instead of printing it.",
        ),
    ] = False,
) -> None:
    """Print (or --install) TAB completion for a shell: commands, options, pipeline names
    and the config's queue names.

    **Examples:**

        dlqctl completion zsh --install

        dlqctl completion bash > ~/.local/share/bash-completion/completions/dlqctl

        dlqctl completion fish | source
    """
    if install:
        installed, path = install_script(
            shell=shell.value, prog_name="dlqctl", complete_var=COMPLETE_VAR
        )
        typer.echo(f"{installed} completion installed in {path}; it works in new shells", err=True)
        return
    typer.echo(
        get_completion_script(prog_name="dlqctl", complete_var=COMPLETE_VAR, shell=shell.value)
    )
