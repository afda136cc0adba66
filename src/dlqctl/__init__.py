"""dlqctl: look inside SQS dead-letter queues without consuming them, and redrive safely.

The Python API for runbook scripts; the CLI is a thin layer over the same objects.
Names are imported on first use, so `dlqctl.pipeline` (the Lambda handlers) loads without
the CLI's dependencies (tenacity, rich, typer) being installed in the function.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Dlqctl": "dlqctl.api",
    "Settings": "dlqctl.config",
    "parse_duration": "dlqctl.core.durations",
    "MessageFilter": "dlqctl.core.filters",
    "build_filter": "dlqctl.core.filters",
    "idempotency_key": "dlqctl.core.idempotency",
    "RedriveOptions": "dlqctl.core.guardrails",
    "DlqctlError": "dlqctl.errors",
    "ExitCode": "dlqctl.errors",
    "DlqMessage": "dlqctl.models",
    "InspectReport": "dlqctl.models",
    "PeekResult": "dlqctl.models",
    "QueueInfo": "dlqctl.models",
    "RedriveReport": "dlqctl.models",
    "ArchiveReport": "dlqctl.models",
}

__all__ = [
    "ArchiveReport",
    "DlqMessage",
    "Dlqctl",
    "DlqctlError",
    "ExitCode",
    "InspectReport",
    "MessageFilter",
    "PeekResult",
    "QueueInfo",
    "RedriveOptions",
    "RedriveReport",
    "Settings",
    "__version__",
    "build_filter",
    "idempotency_key",
    "parse_duration",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dlqctl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from dlqctl.api import Dlqctl
    from dlqctl.config import Settings
    from dlqctl.core.durations import parse_duration
    from dlqctl.core.filters import MessageFilter, build_filter
    from dlqctl.core.guardrails import RedriveOptions
    from dlqctl.core.idempotency import idempotency_key
    from dlqctl.errors import DlqctlError, ExitCode
    from dlqctl.models import (
        ArchiveReport,
        DlqMessage,
        InspectReport,
        PeekResult,
        QueueInfo,
        RedriveReport,
    )
