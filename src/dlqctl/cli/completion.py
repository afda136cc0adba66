"""Shell completion from the config file: pipeline names and the queues they name.

The shell runs these on every TAB, so they read the config file and nothing else (no
boto3, no AWS call), and they never fail: a missing or broken config offers nothing,
silently; the next real command reports what is wrong with it. cli/options.py imports
this module for every command, so the config's models load only when TAB asks. These
are Typer's callbacks (zsh, fish, powershell, and bash where cli/tab.py is unsure); the
values come from cli/tab.py, which answers bash's TAB itself.
"""

from __future__ import annotations

import typer

from dlqctl.cli.tab import pipeline_items, queue_items


def complete_pipeline(ctx: typer.Context) -> list[tuple[str, str]]:
    """`--pipeline` and `config show NAME`: each pipeline, with its DLQ as the hint."""
    return pipeline_items(_config_flag(ctx))


def complete_queue(ctx: typer.Context) -> list[tuple[str, str]]:
    """Queue arguments and options: every DLQ and source queue a pipeline names."""
    return queue_items(_config_flag(ctx))


def _config_flag(ctx: typer.Context) -> str | None:
    """The `--config` of the command being completed, when typed earlier on the line."""
    config = ctx.params.get("config")
    return None if config is None else str(config)
