"""Did redriven messages fail again? For the canary and the circuit breaker.

A message that fails again comes back to the DLQ (after the source's maxReceiveCount
receives) with the message id SendMessageBatch gave the copy, so dlqctl looks there for
those ids: a payload that was in the DLQ already (a client's retry) is not a re-failure.
Where the pipeline's ledger is known it is asked too: it knows sooner, and it knows what
COMPLETED.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from dlqctl.aws.ledger import LedgerGateway
from dlqctl.aws.sqs import SqsGateway
from dlqctl.core.scan import Scan, ScanLimits, room_left
from dlqctl.pipeline import spec


@dataclass(frozen=True)
class Returns:
    came_back: int
    failed_in_ledger: int = 0
    completed_in_ledger: int | None = None

    @property
    def failures(self) -> int:
        return max(self.came_back, self.failed_in_ledger)


class ReturnDetector:
    def __init__(
        self,
        dlq: SqsGateway,
        dlq_url: str,
        *,
        ledger: LedgerGateway | None,
        since: float,
        scan_limit: int,
        wait_s: int,
    ) -> None:
        self.dlq = dlq
        self.dlq_url = dlq_url
        self.ledger = ledger
        self.since = since
        self.limits = ScanLimits(max_scan=scan_limit, wait_s=wait_s, hold_s=30)

    def check(self, copy_ids: Collection[str], keys: Collection[str]) -> Returns:
        """How many of the copies (by message id) are back in the DLQ, or FAILED in the
        ledger (by idempotency key)."""
        came_back = self._in_dlq(set(copy_ids)) if copy_ids else 0
        if self.ledger is None or not keys:
            return Returns(came_back)
        items = self.ledger.get_many(keys)
        failed = sum(1 for item in items.values() if self._failed_since(item))
        completed = sum(1 for item in items.values() if self._completed_since(item))
        return Returns(came_back, failed, completed)

    def _in_dlq(self, copy_ids: set[str]) -> int:
        # Whatever this run still holds is invisible, so only new arrivals and messages the
        # run did not select are seen; all of them are released at once. The run's own
        # holds count against the in-flight quota too: the look takes only the room left.
        attributes = self.dlq.attributes(self.dlq_url)
        visible = int(attributes.get("ApproximateNumberOfMessages", 0))
        room = room_left(int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)))
        if room <= 0:
            return 0  # no room to look: the breaker and the canary rely on the ledger
        limits = replace(self.limits, max_scan=min(self.limits.max_scan, room))
        found = 0
        with Scan(self.dlq, self.dlq_url, visible_at_start=visible, limits=limits) as scan:
            for raw in scan.messages():
                if raw["MessageId"] in copy_ids:
                    found += 1
        return found

    def _completed_since(self, item: dict[str, object]) -> bool:
        """COMPLETED by this run's copy: a payload completed before it proves nothing."""
        if item.get(spec.LEDGER_STATUS) != spec.STATUS_COMPLETED:
            return False
        return _at_or_after(item.get(spec.LEDGER_COMPLETED_AT), self.since, unknown=False)

    def _failed_since(self, item: dict[str, object]) -> bool:
        if item.get(spec.LEDGER_STATUS) != spec.STATUS_FAILED:
            return False
        return _at_or_after(item.get(spec.LEDGER_LAST_FAILED_AT), self.since, unknown=True)


def _at_or_after(value: object, since: float, *, unknown: bool) -> bool:
    """Whether an ISO-8601 time is at or after `since`; `unknown` when it cannot tell."""
    if not isinstance(value, str):
        return unknown
    try:
        return datetime.fromisoformat(value).timestamp() >= since
    except ValueError:
        return unknown
