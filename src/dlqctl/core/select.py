"""Selection: scanned messages → decoded → filtered → classified, streaming."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from dlqctl.aws.ledger import BATCH_GET_MAX
from dlqctl.aws.sqs import RawMessage
from dlqctl.core.classify import Classifier
from dlqctl.core.filters import MessageFilter
from dlqctl.core.jmes import Unevaluable
from dlqctl.core.kinds import UNREAD, Reading
from dlqctl.core.messages import Received, receive
from dlqctl.core.wording import counted
from dlqctl.models import ArchiveReport, Coverage, DlqMessage, PredictedOutcome, RedriveReport

RunReport = TypeVar("RunReport", RedriveReport, ArchiveReport)


@dataclass(frozen=True, slots=True)
class Selected:
    """A matching message: what is shown, and the raw message a redrive needs to copy."""

    message: DlqMessage
    raw: RawMessage
    reading: Reading = UNREAD
    predicted: PredictedOutcome | None = None  # from a Powertools ledger


class SelectionNotes:
    """What one look or run must tell besides its messages: which message ids asked for
    (--message-id) it never found, and how many messages a --query or config rule could
    not be evaluated on, and why (they count as not matching). Lanes share it."""

    def __init__(self, message_filter: MessageFilter) -> None:
        self.asked = message_filter.message_ids
        self.found: set[str] = set()
        self.unevaluated: Counter[str] = Counter()
        self._lock = threading.Lock()

    def selected(self, message: DlqMessage) -> None:
        if self.asked:
            with self._lock:
                self.found.add(message.message_id)

    def could_not_evaluate(self, reason: str) -> None:
        with self._lock:
            self.unevaluated[reason] += 1

    def warnings(self) -> list[str]:
        said = []
        if self.unevaluated:
            total = sum(self.unevaluated.values())
            reason, count = self.unevaluated.most_common(1)[0]
            others = len(self.unevaluated) - 1
            more = f"; {counted(others, 'other reason')}" if others else ""
            said.append(
                f"{counted(total, 'message')} could not be evaluated: a --query does not "
                f"match them, a config rule does not type them ({count}× {reason}{more})"
            )
        missing = sorted(self.asked - self.found)
        if missing:
            shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
            said.append(
                f"{len(missing)} of the {counted(len(self.asked), 'message id')} asked for "
                f"{'was' if len(missing) == 1 else 'were'} not found (not in the DLQ, not "
                f"reached, or filtered out): {shown}"
            )
        return said

    def coverage(self, coverage: Coverage) -> Coverage:
        return coverage.model_copy(
            update={
                "unevaluated": sum(self.unevaluated.values()),
                "unevaluated_because": dict(self.unevaluated.most_common()),
            }
        )

    def noted(self, report: RunReport) -> RunReport:
        """A run's report with these notes: its coverage counts and its warnings."""
        return report.model_copy(
            update={
                "coverage": self.coverage(report.coverage),
                "warnings": [*report.warnings, *self.warnings()],
            }
        )


def select(
    raws: Iterable[RawMessage],
    *,
    classifier: Classifier,
    message_filter: MessageFilter,
    notes: SelectionNotes,
    clock: Callable[[], float] = time.time,
) -> Iterator[Selected]:
    """The matching messages, classified in chunks so the ledger is read 100 keys at a time.

    Conditions that need no error type are checked first, so the ledger is only asked
    about messages that can still match. A message the filter or a rule cannot be
    evaluated on does not match, and `notes` counts it.
    """
    chunk_size = BATCH_GET_MAX if classifier.ledger or classifier.powertools else 1
    pending: list[Received] = []
    now = clock()  # one "now" per selection, so ages compare across a long scan
    for raw in raws:
        message = receive(raw, now)
        try:
            if not message_filter.matches_message(message):
                continue
        except Unevaluable as exc:
            notes.could_not_evaluate(exc.reason)
            continue
        pending.append(message)
        if len(pending) >= chunk_size:
            yield from _classified(pending, classifier, message_filter, notes)
            pending = []
    yield from _classified(pending, classifier, message_filter, notes)


def _classified(
    batch: list[Received],
    classifier: Classifier,
    message_filter: MessageFilter,
    notes: SelectionNotes,
) -> Iterator[Selected]:
    if not batch:
        return
    for message, found in zip(batch, classifier.classify(batch), strict=True):
        if found.unevaluated:
            notes.could_not_evaluate(found.unevaluated)
        if message_filter.matches_error_type(found.error_type, found.reading.kind):
            reading = found.reading
            shown = message.to_message(
                found.error_type, found.source, found.ledger_status, reading.kind, reading.target
            )
            notes.selected(shown)
            yield Selected(shown, message.raw, reading, found.predicted)
