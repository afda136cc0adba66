"""Deleting selected messages from a DLQ — only after they were archived, unless told not to.

Used by `purge` and by `export --delete`. The export file is fsynced before the first
delete, so a crash between the two leaves a copy on disk and the message in the queue.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from dlqctl.aws.sqs import SQS_BATCH_MAX
from dlqctl.core.journal import Journal
from dlqctl.core.moving import BatchOutcome, Mover, Outgoing
from dlqctl.core.scan import Scan
from dlqctl.core.select import Selected
from dlqctl.models import FailedEntry


@dataclass
class PurgeOutcome:
    deleted: int = 0
    failed: list[FailedEntry] = field(default_factory=list)
    interrupted: bool = False


def delete_selection(
    selection: list[Selected],
    *,
    scan: Scan,
    mover: Mover,
    journal: Journal | None,
    stop: threading.Event | None = None,
) -> PurgeOutcome:
    """Delete the selection from the scanned queue in batches of ten, journaling each."""
    outcome = PurgeOutcome()
    for start in range(0, len(selection), SQS_BATCH_MAX):
        if stop is not None and stop.is_set():
            outcome.interrupted = True
            break
        chunk = selection[start : start + SQS_BATCH_MAX]
        items = {
            str(i): Outgoing(str(i), s.message.message_id, str(s.raw["ReceiptHandle"]), {})
            for i, s in enumerate(chunk)
        }
        batch = BatchOutcome()
        mover.delete(items, batch)
        for entry_id in batch.deleted:
            scan.forget(items[entry_id].message_id)
        outcome.deleted += len(batch.deleted)
        # A failed delete here copied nothing anywhere: the message simply stays.
        failed = [
            f.model_copy(update={"reason": f.reason.replace("copied to the target but ", "")})
            for f in batch.failed
        ]
        outcome.failed.extend(failed)
        if journal:
            journal.record(
                "batch",
                deleted=[items[i].message_id for i in batch.deleted],
                body_sha256=[s.message.body_sha256 for s in chunk],
                failed=[f.model_dump() for f in failed],
            )
        if batch.fatal:
            raise batch.fatal
    return outcome
