"""Selection: scanned messages → decoded → filtered → classified, streaming."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from dlqctl.aws.ledger import BATCH_GET_MAX
from dlqctl.aws.sqs import RawMessage
from dlqctl.core.classify import Classifier
from dlqctl.core.filters import MessageFilter
from dlqctl.core.messages import Received, receive
from dlqctl.models import DlqMessage


@dataclass(frozen=True, slots=True)
class Selected:
    """A matching message: what is shown, and the raw message a redrive needs to copy."""

    message: DlqMessage
    raw: RawMessage


def select(
    raws: Iterable[RawMessage],
    *,
    classifier: Classifier,
    message_filter: MessageFilter,
    clock: Callable[[], float] = time.time,
) -> Iterator[Selected]:
    """The matching messages, classified in chunks so the ledger is read 100 keys at a time.

    Conditions that need no error type are checked first, so the ledger is only asked
    about messages that can still match.
    """
    chunk_size = BATCH_GET_MAX if classifier.ledger else 1
    pending: list[Received] = []
    now = clock()  # one "now" per selection, so ages compare across a long scan
    for raw in raws:
        message = receive(raw, now)
        if not message_filter.matches_message(message):
            continue
        pending.append(message)
        if len(pending) >= chunk_size:
            yield from _classified(pending, classifier, message_filter)
            pending = []
    yield from _classified(pending, classifier, message_filter)


def _classified(
    batch: list[Received], classifier: Classifier, message_filter: MessageFilter
) -> Iterator[Selected]:
    if not batch:
        return
    for message, found in zip(batch, classifier.classify(batch), strict=True):
        if message_filter.matches_error_type(found.error_type):
            shown = message.to_message(found.error_type, found.source, found.ledger_status)
            yield Selected(shown, message.raw)
