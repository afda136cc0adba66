"""Moving one batch: send to the target, then delete from the source exactly what was sent.

Never delete before a confirmed send. Throttling and transient failures are retried per
entry with exponential backoff and full jitter (tenacity); what still fails stays in the
source queue. An answer that was lost (a timeout, a 5xx) may have taken effect anyway:
such entries are counted as possible duplicates, never as lost.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_when_event_set,
    wait_random_exponential,
)

from dlqctl.aws.sqs import BatchFailure, BatchResult, SqsGateway
from dlqctl.errors import DlqctlError, TransientAwsError
from dlqctl.models import FailedEntry

# Said of a message whose delete failed after an attempt whose answer was lost.
MAY_BE_GONE = "an answer was lost: it may already be gone from the source"

_RETRYABLE_CODES = {
    "ThrottlingException",
    "RequestThrottled",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
}


@dataclass(frozen=True)
class Outgoing:
    """One message on its way: its copy for the target and its handle in the source."""

    entry_id: str
    message_id: str
    receipt_handle: str
    send_entry: dict[str, Any]
    group: str | None = None

    def with_handle(self, receipt_handle: str) -> Outgoing:
        """The same message, held by a newer receipt handle."""
        if receipt_handle == self.receipt_handle:
            return self
        return dataclasses.replace(self, receipt_handle=receipt_handle)


@dataclass
class BatchOutcome:
    sent: dict[str, str] = field(default_factory=dict)  # entry id -> message id in the target
    deleted: set[str] = field(default_factory=set)
    failed: list[FailedEntry] = field(default_factory=list)
    possible_duplicates: int = 0
    fatal: DlqctlError | None = None


class _Pending(Exception):
    """Some entries are still to be retried."""


@dataclass(frozen=True)
class RetryPolicy:
    """Per-entry retries. `give_up` (a second Ctrl-C, SIGTERM) ends them early: what is
    still pending then stays in the source, reported as failed."""

    attempts: int = 6
    base_s: float = 0.2
    max_wait_s: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    give_up: threading.Event = field(default_factory=threading.Event)

    def retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.attempts) | stop_when_event_set(self.give_up),
            wait=wait_random_exponential(multiplier=self.base_s, max=self.max_wait_s),
            retry=retry_if_exception_type((_Pending, TransientAwsError)),
            sleep=self.sleep,
        )


class Sink(Protocol):
    """A target: a queue, a function, a topic or a bus (core/targets.py)."""

    def send_batch(self, address: str, entries: Sequence[dict[str, Any]]) -> BatchResult: ...


class Mover:
    def __init__(
        self,
        source: tuple[SqsGateway, str] | None,
        *,
        fifo: bool,
        retry: RetryPolicy | None = None,
    ) -> None:
        """`source` is the queue to delete from once a copy is accepted; None copies only."""
        self.source = source
        self.fifo = fifo
        self.retry = retry or RetryPolicy()

    def move(self, target: Sink, address: str, batch: list[Outgoing]) -> BatchOutcome:
        outcome = self.send(target, address, batch)
        self.delete_sent(batch, outcome)
        return outcome

    def send(self, target: Sink, address: str, batch: list[Outgoing]) -> BatchOutcome:
        """The send half of `move`: its outcome is to be finished by `delete_sent`."""
        outcome = BatchOutcome()
        self._send(target, address, {item.entry_id: item for item in batch}, outcome)
        return outcome

    def delete_sent(self, batch: list[Outgoing], outcome: BatchOutcome) -> None:
        """Delete from the source what the target confirmed, even when a later attempt
        failed for good: a copy left behind in both queues would be an uncounted
        duplicate."""
        if outcome.sent and self.source:
            by_id = {item.entry_id: item for item in batch}
            self.delete({i: by_id[i] for i in outcome.sent}, outcome)

    def _send(
        self, target: Sink, url: str, by_id: dict[str, Outgoing], outcome: BatchOutcome
    ) -> None:
        pending = dict(by_id)
        ambiguous: Counter[str] = Counter()  # entry id -> attempts whose answer was lost

        def attempt() -> None:
            try:
                result = target.send_batch(
                    url, [{"Id": i, **item.send_entry} for i, item in pending.items()]
                )
            except DlqctlError as exc:
                _count_lost(ambiguous, pending, exc.lost_answers)
                raise
            if result.lost_by_entry is not None:  # one call an entry: each entry's own
                ambiguous.update(result.lost_by_entry)
            else:
                _count_lost(ambiguous, pending, result.lost_answers)  # botocore's own retries
            outcome.sent.update(result.succeeded)
            _settle(pending, result, outcome, stage="send", by_id=by_id)

        last_error = self._run(attempt, pending, outcome)
        for entry_id in pending:
            outcome.failed.append(
                FailedEntry(message_id=by_id[entry_id].message_id, stage="send", reason=last_error)
            )
        # Each lost answer may have delivered a copy. On a standard queue every one of them
        # can be an extra copy; on FIFO the deduplication id folds retries into one, so only
        # a message left unconfirmed (still in the source) can exist twice.
        for entry_id, lost in ambiguous.items():
            if entry_id not in outcome.sent:  # unconfirmed: the original stays in the source
                outcome.possible_duplicates += 1 if self.fifo else lost
            elif not self.fifo:
                outcome.possible_duplicates += lost

    def delete(self, sent: dict[str, Outgoing], outcome: BatchOutcome) -> None:
        """Delete from the source, with retries; what stays is reported, never dropped."""
        assert self.source is not None
        sqs, url = self.source
        pending = dict(sent)
        lost: Counter[str] = Counter()  # entry id -> delete attempts whose answer was lost
        failed_before = len(outcome.failed)

        def attempt() -> None:
            try:
                result = sqs.delete_batch(
                    url, [(i, item.receipt_handle) for i, item in pending.items()]
                )
            except DlqctlError as exc:
                _count_lost(lost, pending, exc.lost_answers)
                raise
            _count_lost(lost, pending, result.lost_answers)
            outcome.deleted.update(result.succeeded)
            _settle(pending, result, outcome, stage="delete", by_id=sent)

        last_error = self._run(attempt, pending, outcome)
        for entry_id in pending:
            outcome.failed.append(
                FailedEntry(
                    message_id=sent[entry_id].message_id,
                    stage="delete",
                    reason=f"copied to the target but still in the source: {last_error}",
                )
            )
        outcome.possible_duplicates += len(pending)
        # A delete whose answer was lost may have deleted: say so, the journal keeps it.
        uncertain = {sent[i].message_id for i, n in lost.items() if n and i not in outcome.deleted}
        outcome.failed[failed_before:] = [
            f.model_copy(update={"reason": f"{f.reason} ({MAY_BE_GONE})"})
            if f.message_id in uncertain
            else f
            for f in outcome.failed[failed_before:]
        ]

    def _run(
        self, attempt: Callable[[], None], pending: dict[str, Outgoing], outcome: BatchOutcome
    ) -> str:
        """Retry `attempt` while entries are pending; the last error, for the report."""
        try:
            for retry in self.retry.retrying():
                with retry:
                    attempt()
                    if pending:
                        raise _Pending
        except RetryError as exc:
            error = exc.last_attempt.exception()
            if isinstance(error, DlqctlError):
                return error.message
            return "still failing after retries"
        except DlqctlError as exc:
            outcome.fatal = exc
            return exc.message
        return ""


def _count_lost(lost: Counter[str], entries: dict[str, Outgoing], attempts: int) -> None:
    if attempts:
        for entry_id in entries:
            lost[entry_id] += attempts


def _settle(
    pending: dict[str, Outgoing],
    result: BatchResult,
    outcome: BatchOutcome,
    *,
    stage: Literal["send", "delete"],
    by_id: dict[str, Outgoing],
) -> None:
    """Drop what succeeded or failed for good from `pending`; keep what may succeed later."""
    for entry_id in result.succeeded:
        pending.pop(entry_id, None)
    for failure in result.failed:
        if _retryable(failure):
            continue
        pending.pop(failure.entry_id, None)
        reason = f"{failure.code}: {failure.message}".rstrip(": ")
        if failure.failed_again:  # the function ran and failed: it stays in the DLQ
            outcome.failed.append(
                FailedEntry(
                    message_id=by_id[failure.entry_id].message_id,
                    stage="failed-again",
                    reason=failure.message,
                )
            )
            continue
        if stage == "delete":
            reason = f"copied to the target but still in the source: {reason}"
            outcome.possible_duplicates += 1
        outcome.failed.append(
            FailedEntry(message_id=by_id[failure.entry_id].message_id, stage=stage, reason=reason)
        )


def _retryable(failure: BatchFailure) -> bool:
    return not failure.sender_fault or failure.code in _RETRYABLE_CODES
