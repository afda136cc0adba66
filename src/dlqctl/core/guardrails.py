"""The guardrails of every destructive command, in one place (design §2, "Safety levers").

A run's options are one frozen request, checked once before any AWS call: a number out of
its range is a usage error (exit 2), a run that is allowed but dangerous is refused (exit
4) unless `--force`. No option has a hidden default: 0 means 0, and is refused where it
makes no sense.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dlqctl.aws.limits import SQS_BATCH_MAX
from dlqctl.core.pacing import MAX_DELAY_S
from dlqctl.errors import RefusedError, UsageError

if TYPE_CHECKING:  # the CLI reads DEFAULT_BATCH_SIZE for --help: no models for that
    from dlqctl.core.filters import MessageFilter

DEFAULT_MAX_MESSAGES = 100
DEFAULT_BATCH_SIZE = SQS_BATCH_MAX
MAX_MESSAGES_WITHOUT_FORCE = 1000


def check_selection(
    action: str, message_filter: MessageFilter, select_all: bool, max_messages: int, force: bool
) -> None:
    """A filter or --all, and a size cap: what every destructive command needs."""
    if max_messages < 1:
        raise UsageError("--max-messages must be at least 1")
    if message_filter.is_empty and not select_all:
        raise RefusedError(
            f"refusing to {action} without a filter: pass --error-type, --max-age, --query … "
            "or --all if you really mean every message"
        )
    if max_messages > MAX_MESSAGES_WITHOUT_FORCE and not force:
        raise RefusedError(
            f"--max-messages {max_messages} is above {MAX_MESSAGES_WITHOUT_FORCE}: "
            f"add --force, or {action} in smaller runs"
        )


@dataclass(frozen=True)
class RedriveOptions:
    """What a redrive (or replay) may do; `check` validates it once, before any AWS call.

    `canary_wait_s` None waits as long as a failed copy needs to come back to the DLQ
    (the target's maxReceiveCount × VisibilityTimeout, plus the batching window).
    """

    to: str | None = None
    select_all: bool = False
    max_messages: int = DEFAULT_MAX_MESSAGES
    force: bool = False
    batch_size: int = DEFAULT_BATCH_SIZE
    rate: float | None = None
    jitter_s: float = 0.0
    max_redrives: int | None = None
    canary: int = 0
    canary_wait_s: float | None = None
    stop_after_failures: int | None = None
    dry_run: bool = False
    # A function is invoked again asynchronously (queued), or synchronously for a
    # verdict per message; a topic or bus is published to only with `fan_out`.
    invoke: Literal["async", "sync"] = "async"
    fan_out: bool = False

    def check(self, message_filter: MessageFilter) -> None:
        """Usage errors (2) and refusals (4) that need no AWS call."""
        if not 1 <= self.batch_size <= SQS_BATCH_MAX:
            raise UsageError(f"--batch-size must be 1 to {SQS_BATCH_MAX}")
        if self.rate is not None and self.rate <= 0:
            raise UsageError("--rate must be a positive number of messages a second")
        if not 0 <= self.jitter_s <= MAX_DELAY_S:
            raise UsageError("--jitter must be between 0s and 15m (SQS's longest delay)")
        if self.max_redrives is not None and self.max_redrives < 1:
            raise UsageError("--max-redrives must be at least 1")
        if self.canary < 0:
            raise UsageError("--canary must be 0 (no canary) or a number of messages")
        if self.canary and self.canary >= self.max_messages:
            raise UsageError(
                f"--canary {self.canary} must be smaller than --max-messages "
                f"({self.max_messages}): the canary is the first part of the run"
            )
        if self.canary_wait_s is not None and self.canary_wait_s < 0:
            raise UsageError("--canary-wait must be a duration such as 10m")
        if self.stop_after_failures is not None and self.stop_after_failures < 1:
            raise UsageError("--stop-after-failures must be at least 1")
        check_selection("redrive", message_filter, self.select_all, self.max_messages, self.force)
