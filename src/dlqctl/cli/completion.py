"""Shell completion from the config file: pipeline names and the queues they name.

The shell runs these on every TAB, so they read the config file and nothing else (no
boto3, no AWS call), and they never fail: a missing or broken config offers nothing,
silently; the next real command reports what is wrong with it. cli/options.py imports
this module for every command, so the config's models load only when TAB asks.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from dlqctl.errors import UsageError

if TYPE_CHECKING:
    from dlqctl.config import MergedConfig


def complete_pipeline(ctx: typer.Context) -> list[tuple[str, str]]:
    """`--pipeline` and `config show NAME`: each pipeline, with its DLQ as the hint."""
    return [(name, f"DLQ {pipeline.dlq}") for name, pipeline in _config(ctx).pipelines.items()]


def complete_queue(ctx: typer.Context) -> list[tuple[str, str]]:
    """Queue arguments and options: every DLQ and source queue a pipeline names, as the
    queue name (what people type), with the pipeline it comes from as the hint."""
    offered: dict[str, str] = {}
    for name, pipeline in _config(ctx).pipelines.items():
        for role, ref in (("DLQ", pipeline.dlq), ("source", pipeline.source_queue)):
            queue = queue_name(ref)
            if queue and queue not in offered:
                offered[queue] = f"{role} of pipeline {name}"
    return list(offered.items())


def _config(ctx: typer.Context) -> MergedConfig:
    """The config files the command being completed would read: the one its `--config`
    names when it was typed earlier on the line, else DLQCTL_CONFIG's, else the user
    config with ./dlqctl.toml merged over it."""
    from dlqctl.config import MergedConfig, read_config

    try:
        return read_config(ctx.params.get("config"), os.environ)
    except Exception:  # whatever is wrong, a message here would land in the prompt
        return MergedConfig()


def queue_name(ref: str | None) -> str | None:
    """A pipeline's queue as a bare name; None for a value no command would accept."""
    if not ref:
        return None
    from dlqctl.core.queue_ref import parse_queue_ref

    try:
        return parse_queue_ref(ref).name
    except UsageError:
        return None
