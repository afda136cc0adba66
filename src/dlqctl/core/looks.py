"""Looking at a DLQ that has a redrive policy of its own (design §2, "Scanning").

Every look receives each message once, and SQS moves a message on to the DLQ's own DLQ
on the receive after its maxReceiveCount. So before a look dlqctl says how many looks
are left, from the highest receive count it saw there last time (kept per queue in
$XDG_STATE_HOME/dlqctl/receive-counts.json), and refuses a look that would move messages
on unless --force. After the look it records the highest count the look saw.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dlqctl.core.journal import state_dir
from dlqctl.core.queue_ref import queue_name_from_arn
from dlqctl.errors import RefusedError
from dlqctl.models import QueueInfo

# Warn when this few looks are left before messages move on.
FEW_LOOKS = 3


class ReceiveCounts:
    """The highest ApproximateReceiveCount dlqctl saw in each queue (by ARN)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_dir() / "receive-counts.json"

    def _read(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or unreadable: counts are then unknown, not an error
        return (
            {k: v for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}
        )

    def highest(self, arn: str) -> int | None:
        return self._read().get(arn)

    def record(self, arn: str, highest: int) -> None:
        counts = self._read()
        if counts.get(arn, 0) >= highest:
            return
        counts[arn] = highest
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(counts, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            pass  # a hint for the next look, not a record anyone relies on


def check_looks(info: QueueInfo, highest_seen: int | None, *, force: bool) -> str | None:
    """None for a DLQ without a redrive policy; else a warning, or a refusal when this
    look would move messages on."""
    policy = info.redrive_policy
    if policy is None:
        return None
    onward = queue_name_from_arn(policy.dead_letter_target_arn)
    limit = policy.max_receive_count
    if highest_seen is None:
        return (
            f"{info.name} has its own redrive policy (maxReceiveCount {limit} → {onward}): each "
            "look adds a receive to every message it sees, and dlqctl has not looked here yet"
        )
    left = limit - highest_seen
    if left <= 0 and not force:
        raise RefusedError(
            f"{info.name} has its own redrive policy: its messages were received "
            f"{highest_seen} times (maxReceiveCount {limit}), so this look would move them on "
            f"to {onward}; look there, or pass --force to look anyway"
        )
    if left <= FEW_LOOKS:
        return (
            f"{info.name} has its own redrive policy: about {max(left, 0)} looks left before "
            f"its messages move on to {onward} (receive count {highest_seen} of {limit})"
        )
    return None
