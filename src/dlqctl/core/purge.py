"""Export, `export --delete` and purge, on the streaming engine.

Each batch is written to the export file and fsynced before any of it is deleted, so a
crash between the two leaves a copy on disk and the message in the queue. Without
--delete nothing is deleted: what was exported stays held until the end of the run (so
the file holds each message once) and is then released.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dlqctl.core.archive import ExportWriter, to_record
from dlqctl.core.engine import Engine, Pace, Work, stop_reason
from dlqctl.core.feed import QueueFeed
from dlqctl.core.filters import MessageFilter
from dlqctl.core.journal import Journal
from dlqctl.core.moving import BatchOutcome, Mover, Outgoing
from dlqctl.core.outcome import journal_outcome
from dlqctl.core.plan import PlanTally
from dlqctl.core.select import Selected, SelectionNotes
from dlqctl.errors import DlqctlError
from dlqctl.models import ArchiveReport, Coverage, FailedEntry, PlannedDeletion

_NO_PAYLOAD_LIMIT = 1 << 62


class ArchiveAction:
    """Write each selected message to the file; with `delete`, then delete it."""

    verb = "delete"
    ordered = False  # deletes need no order, even on FIFO

    def __init__(self, writer: ExportWriter | None, mover: Mover | None, *, source: str) -> None:
        self.writer = writer
        self.mover = mover
        self.source = source
        self.exported = 0
        self._lock = threading.Lock()
        self._entry_ids = itertools.count()

    def prepare(self, selected: Selected, handle: str) -> Work | str:
        message = selected.message
        outgoing = Outgoing(f"e{next(self._entry_ids)}", message.message_id, handle, {})
        return Work(selected, outgoing, self.source, 0, message.idempotency_key)

    def payload_limit(self, work: Work) -> int:
        return _NO_PAYLOAD_LIMIT

    def move(self, batch: list[Work]) -> BatchOutcome:
        if self.writer is not None:
            with self._lock:  # lanes share one file
                for item in batch:
                    self.writer.write(to_record(item.selected, self.source))
                self.writer.sync()
                self.exported += len(batch)
        outcome = BatchOutcome()
        if self.mover is not None:
            self.mover.delete({w.outgoing.entry_id: w.outgoing for w in batch}, outcome)
            # A failed delete here copied nothing anywhere: the message simply stays.
            outcome.failed = [
                f.model_copy(update={"reason": f.reason.replace("copied to the target but ", "")})
                for f in outcome.failed
            ]
            outcome.possible_duplicates = 0
        return outcome

    def journal_fields(self, batch: list[Work], outcome: BatchOutcome) -> dict[str, Any]:
        by_entry = {w.outgoing.entry_id: w for w in batch}
        return {
            "deleted": [by_entry[i].message_id for i in outcome.deleted],
            "body_sha256": [w.selected.message.body_sha256 for w in batch],
            "failed": [f.model_dump() for f in outcome.failed],
        }


def run_archive(
    *,
    command: str,
    source: str,
    feed: QueueFeed,
    select: Callable[[list[Any]], Iterable[Selected]],
    notes: SelectionNotes,
    writer: ExportWriter | None,
    mover: Mover | None,
    message_filter: MessageFilter,
    max_messages: int,
    lanes: int,
    journal: Journal | None,
    stop: threading.Event,
    held_room: int,
    run_id: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ArchiveReport:
    """Export (and with `mover`, delete) up to `max_messages` selected messages."""
    started = time.monotonic()
    run_id = run_id or uuid.uuid4().hex[:12]
    action = ArchiveAction(writer, mover, source=source)
    engine = Engine(
        feed=feed,
        select=lambda raws: iter(select(raws)),
        action=action,
        pace=Pace(lanes=lanes),
        journal=journal,
        stop=stop,
        held_room=held_room,
        on_progress=on_progress,
        progress_total=max_messages,
    )
    if journal:
        journal.start(
            command,
            source=action.source,
            archive=str(writer.path) if writer else None,
            filters=message_filter.describe(),
            max_messages=max_messages,
        )
    error: BaseException | None = None
    try:
        if engine.run_until(max_messages):
            engine.stopped_because = (
                f"reached --max-messages ({max_messages})"
                if engine.tally.selected >= max_messages
                else feed.ended_because
            )
    except (DlqctlError, KeyboardInterrupt) as exc:
        engine.stopped_because = engine.stopped_because or (
            f"error: {exc.message}" if isinstance(exc, DlqctlError) else stop_reason(stop)
        )
        error = exc
    finally:
        try:
            engine.close()
            if writer:
                writer.close()
        finally:
            report = notes.noted(
                _report(run_id, engine, action, writer, started, stop, deleting=bool(mover))
            )
            if journal and mover:
                journal.record(
                    "end",
                    outcome=journal_outcome(report),
                    summary={
                        "selected": engine.tally.selected,
                        "deleted": report.deleted,
                        "stopped_because": report.stopped_because,
                    },
                )
    if isinstance(error, DlqctlError):
        error.report = report
    if error is not None:
        raise error
    return report


def _report(
    run_id: str,
    engine: Engine,
    action: ArchiveAction,
    writer: ExportWriter | None,
    started: float,
    stop: threading.Event,
    *,
    deleting: bool,
) -> ArchiveReport:
    tally = engine.tally
    stopped = engine.stopped_because or "the run stopped"
    failed: list[FailedEntry] = list(tally.failed)
    return ArchiveReport(
        run_id=run_id,
        source=action.source,
        file=str(writer.path) if writer else None,
        exported=action.exported,
        deleted=tally.deleted,
        failed=failed if deleting else [],
        coverage=engine.coverage(),
        duration_s=round(time.monotonic() - started, 3),
        interrupted=stop.is_set() or stopped in ("interrupted", "terminated"),
        stopped_because=stopped,
        warnings=list(engine.warnings),
    )


def plan_archive(
    selection: Iterable[Selected],
    *,
    source: str,
    out: Path | None,
    coverage: Callable[[], Coverage],
    on_planned: Callable[[PlannedDeletion], None] | None = None,
) -> ArchiveReport:
    """What an export or purge would do over a look's selection (the dry run, and what a
    prompt shows): counts by error type and age, and each message unless `on_planned`
    takes them one by one (then the report keeps only the aggregates)."""
    started = time.monotonic()
    tally = PlanTally()
    planned: list[PlannedDeletion] = []
    where = str(out) if out else "deleted without an archive"
    for chosen in selection:
        message = chosen.message
        tally.add_touched(message.error_type, message.age_s, where)
        one = PlannedDeletion(
            message_id=message.message_id,
            error_type=message.error_type,
            age_s=message.age_s,
            body_sha256=message.body_sha256,
            body_bytes=message.body_bytes,
            message_group_id=message.message_group_id,
        )
        if on_planned is None:
            planned.append(one)
        else:
            on_planned(one)
    return ArchiveReport(
        run_id=uuid.uuid4().hex[:12],
        source=source,
        file=str(out) if out else None,
        exported=0,
        deleted=0,
        failed=[],
        coverage=coverage(),
        duration_s=round(time.monotonic() - started, 3),
        dry_run=True,
        selected=tally.count,
        summary=tally.summary(),
        planned=planned,
        stopped_because=coverage().stopped_because,
    )
