"""dlqctl: look inside SQS dead-letter queues without consuming them, and redrive safely.

The Python API for runbook scripts; the CLI is a thin layer over the same objects.
"""

__version__ = "0.1.0"

from dlqctl.api import Dlqctl
from dlqctl.config import Settings
from dlqctl.core.durations import parse_duration
from dlqctl.core.filters import MessageFilter, build_filter
from dlqctl.core.idempotency import idempotency_key
from dlqctl.errors import DlqctlError, ExitCode
from dlqctl.models import DlqMessage, InspectReport, PeekResult, QueueInfo

__all__ = [
    "DlqMessage",
    "Dlqctl",
    "DlqctlError",
    "ExitCode",
    "InspectReport",
    "MessageFilter",
    "PeekResult",
    "QueueInfo",
    "Settings",
    "__version__",
    "build_filter",
    "idempotency_key",
    "parse_duration",
]
