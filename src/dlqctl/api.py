"""The Python API: what the CLI does, for runbook scripts.

from dlqctl import Dlqctl, build_filter
dlq = Dlqctl(region="eu-west-1")
report = dlq.inspect("orders-dlq")
for message in dlq.peek("orders-dlq", build_filter(error_types=["Timeout"])).messages:
    ...
"""

from __future__ import annotations

import heapq
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from dlqctl.aws.ledger import LedgerGateway
from dlqctl.aws.session import AwsSession
from dlqctl.aws.sqs import SqsGateway
from dlqctl.config import Settings, load_settings
from dlqctl.core.archive import ExportWriter, read_export, to_raw, to_record
from dlqctl.core.classify import Classifier
from dlqctl.core.filters import MessageFilter
from dlqctl.core.inspect import InspectTally
from dlqctl.core.journal import Journal
from dlqctl.core.moving import Mover, RetryPolicy
from dlqctl.core.purge import PurgeOutcome, delete_selection
from dlqctl.core.queues import describe, list_queues, oldest_ages, open_queue
from dlqctl.core.redact import Redactor
from dlqctl.core.redrive import (
    DEFAULT_MAX_MESSAGES,
    Origin,
    Redrive,
    RedriveOptions,
    check_selection,
    take,
)
from dlqctl.core.returns import ReturnDetector
from dlqctl.core.scan import ProgressCallback, Scan, ScanLimits, in_flight_room
from dlqctl.core.select import Selected, select
from dlqctl.core.targets import TargetResolver
from dlqctl.core.warnings import scan_warnings
from dlqctl.errors import RefusedError, UsageError
from dlqctl.models import (
    ArchiveReport,
    Coverage,
    DlqMessage,
    InspectReport,
    PeekResult,
    QueueInfo,
    QueueRef,
    RedriveReport,
)

SortOrder = Literal["oldest", "newest"]


class Dlqctl:
    """One entry point over the core. Pass settings, or any of boto3's usual knobs.

    Without `settings`, they are read as the CLI reads them: DLQCTL_* variables, then the
    config file (./dlqctl.toml or ~/.config/dlqctl/config.toml), then defaults.

    `session` is a ready boto3.Session; `clients` maps service names ("sqs", "dynamodb",
    "cloudwatch") to ready clients, e.g. with a botocore Stubber attached.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        session: Any = None,
        clients: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        base = settings or load_settings()
        overrides = {"region": region, "profile": profile, "endpoint_url": endpoint_url}
        self.settings = base.model_copy(update={k: v for k, v in overrides.items() if v})
        self.aws = AwsSession(self.settings, session=session, clients=clients)
        self.clock = clock
        self.sleep = sleep

    # -- reading ---------------------------------------------------------------------

    def queues(self, *, all_queues: bool = False, prefix: str | None = None) -> list[QueueInfo]:
        """DLQs (or every queue), deepest first."""
        return list_queues(self.aws, dlqs_only=not all_queues, prefix=prefix)

    def describe(self, queue: str | QueueRef, *, with_sources: bool = True) -> QueueInfo:
        sqs, url = open_queue(self.aws, queue)
        return describe(sqs, url, with_sources=with_sources)

    def inspect(
        self,
        queue: str | QueueRef,
        message_filter: MessageFilter | None = None,
        *,
        max_scan: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> InspectReport:
        """Depth, coverage and a summary by error type, age and source. Consumes nothing."""
        sqs, url = open_queue(self.aws, queue)
        info = describe(sqs, url)
        tally = InspectTally(info.retention_s)
        with self._scan(sqs, info, max_scan, on_progress) as scan:
            for selected in self._select(scan, message_filter):
                tally.add(selected.message)
        return tally.report(info, _coverage(scan, info), scan_warnings(info, scan))

    def peek(
        self,
        queue: str | QueueRef,
        message_filter: MessageFilter | None = None,
        *,
        limit: int = 20,
        sort: SortOrder = "oldest",
        with_body: bool = True,
        redact: Sequence[str] = (),
        max_scan: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> PeekResult:
        """The `limit` oldest (or newest) matching messages. Consumes nothing."""
        redactor = Redactor(redact)
        sqs, url = open_queue(self.aws, queue)
        info = describe(sqs, url)
        matched = 0
        kept: list[tuple[float, int, DlqMessage]] = []
        sign = 1 if sort == "oldest" else -1
        with self._scan(sqs, info, max_scan, on_progress) as scan:
            for order, selected in enumerate(self._select(scan, message_filter)):
                message = selected.message
                matched += 1
                # Rank by send time (older = earlier); ties keep the order seen.
                sent_at = message.sent_at.timestamp()
                entry = (-sign * sent_at, -order, _shown(message, with_body, redactor))
                if len(kept) < limit:
                    heapq.heappush(kept, entry)
                elif limit:
                    heapq.heappushpop(kept, entry)
        messages = [entry[2] for entry in sorted(kept, reverse=True)]
        return PeekResult(
            queue=info,
            coverage=_coverage(scan, info),
            matched=matched,
            messages=messages,
            warnings=scan_warnings(info, scan),
        )

    def watch(self, queues: Iterable[str | QueueRef]) -> list[QueueInfo]:
        """One refresh of depth, in-flight and oldest age for each queue."""
        infos = [self.describe(queue, with_sources=False) for queue in queues]
        ages = oldest_ages(self.aws, [q.name for q in infos])
        return [q.model_copy(update={"oldest_age_s": ages.get(q.name)}) for q in infos]

    # -- changing ------------------------------------------------------------------------

    @contextmanager
    def redrive_session(
        self,
        queue: str | QueueRef,
        message_filter: MessageFilter | None = None,
        options: RedriveOptions | None = None,
        *,
        journal: Path | None = None,
        max_scan: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[Redrive]:
        """Select and hold the messages to move; yields the run, whose `plan` is the dry run.

        Call `execute()` inside the block to move them; on leaving it, whatever was not
        moved is released.
        """
        message_filter = message_filter or MessageFilter()
        options = options or RedriveOptions()
        options.check(message_filter)
        sqs, url = open_queue(self.aws, queue)
        info = describe(sqs, url)
        ledger = self._ledger()
        with self._scan(sqs, info, max_scan, on_progress) as scan:
            selection = take(self._select(scan, message_filter), options.max_messages, scan)
            scan.release_except({chosen.message.message_id for chosen in selection})
            detector = ReturnDetector(
                sqs,
                url,
                ledger=ledger,
                since=self.clock(),
                scan_limit=self.settings.max_scan,
                wait_s=self.settings.receive_wait_s,
            )
            run_id = uuid.uuid4().hex[:12]
            yield Redrive(
                origin=Origin.queue(info, scan),
                selection=selection,
                options=options,
                message_filter=message_filter,
                resolver=TargetResolver(self.aws, info, options.to),
                detector=detector,
                journal=None if options.dry_run else Journal(journal, run_id=run_id),
                run_id=run_id,
                retry=RetryPolicy(sleep=self.sleep),
                sleep=self.sleep,
                lanes=self.settings.concurrency,
            )

    def redrive(
        self,
        queue: str | QueueRef,
        message_filter: MessageFilter | None = None,
        options: RedriveOptions | None = None,
        *,
        confirm: Callable[[RedriveReport], bool] | None = None,
        journal: Path | None = None,
        stop: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> RedriveReport:
        """Plan and, unless it is a dry run, move. `confirm` sees the plan first and may
        refuse it (RefusedError, nothing changed)."""
        with self.redrive_session(queue, message_filter, options, journal=journal) as run:
            return run.run(confirm=confirm, stop=stop, on_progress=on_progress)

    def export(
        self,
        queue: str | QueueRef,
        out: Path | None,
        message_filter: MessageFilter | None = None,
        *,
        delete: bool = False,
        **kwargs: Any,
    ) -> ArchiveReport:
        """Write the selected messages to `out` (JSONL); with `delete`, then delete them
        from the queue (with `out=None`, without writing any file). Keyword arguments as
        for `purge`."""
        return self._archive("export --delete", queue, out, message_filter, delete=delete, **kwargs)

    def purge(
        self,
        queue: str | QueueRef,
        archive: Path | None,
        message_filter: MessageFilter | None = None,
        **kwargs: Any,
    ) -> ArchiveReport:
        """Delete the selected messages, after writing them to `archive` (None: no copy).

        Needs a filter or `select_all=True`; at most `max_messages` (default 100; above
        1000 needs `force=True`); `confirm(count)` may refuse. Also: `journal`, `stop`,
        `max_scan`, `on_progress`.
        """
        return self._archive("purge", queue, archive, message_filter, delete=True, **kwargs)

    def _archive(
        self,
        command: str,
        queue: str | QueueRef,
        out: Path | None,
        message_filter: MessageFilter | None = None,
        *,
        delete: bool = False,
        select_all: bool = False,
        max_messages: int | None = None,
        force: bool = False,
        confirm: Callable[[int], bool] | None = None,
        journal: Path | None = None,
        stop: threading.Event | None = None,
        max_scan: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ArchiveReport:
        """Write the selected messages to `out` (JSONL); with `delete`, then delete them.

        Deleting needs a filter or `select_all`, is capped by `max_messages` (default 100;
        above 1000 needs `force`), and happens only once the file is on disk. `out=None`
        with `delete` deletes without an archive (purge --no-archive). `confirm` sees how
        many would be deleted and may refuse.
        """
        message_filter = message_filter or MessageFilter()
        if delete:
            max_messages = max_messages or DEFAULT_MAX_MESSAGES
            check_selection("delete", message_filter, select_all, max_messages, force)
        started = time.monotonic()
        run_id = uuid.uuid4().hex[:12]
        sqs, url = open_queue(self.aws, queue)
        info = describe(sqs, url)
        # Created first: an existing file is refused before anything is scanned.
        writer = ExportWriter(out) if out is not None else None
        with self._scan(sqs, info, max_scan, on_progress) as scan:
            try:
                selection = take(
                    self._select(scan, message_filter), max_messages or sys.maxsize, scan
                )
                if writer:
                    for chosen in selection:
                        writer.write(to_record(chosen, info.arn))
            finally:
                if writer:
                    writer.close()  # fsynced before anything is deleted
            scan.release_except(
                {chosen.message.message_id for chosen in selection} if delete else set()
            )
            outcome = PurgeOutcome()
            if delete and selection:
                if confirm is not None and not confirm(len(selection)):
                    raise RefusedError(
                        "not confirmed: nothing was deleted"
                        + (f" (the export {out} was written)" if out else "")
                    )
                log = Journal(journal, run_id=run_id)
                log.start(
                    command,
                    source=info.arn,
                    archive=str(out) if out else None,
                    filters=message_filter.describe(),
                    planned=len(selection),
                )
                mover = Mover((sqs, url), fifo=info.fifo, retry=RetryPolicy(sleep=self.sleep))
                try:
                    outcome = delete_selection(
                        selection, scan=scan, mover=mover, journal=log, stop=stop
                    )
                finally:
                    log.record(
                        "end",
                        outcome="interrupted"
                        if outcome.interrupted
                        else ("complete" if outcome.deleted == len(selection) else "partial"),
                        summary={"selected": len(selection), "deleted": outcome.deleted},
                    )
            return ArchiveReport(
                run_id=run_id,
                source=info.arn,
                file=str(out) if out else None,
                exported=len(selection) if out else 0,
                deleted=outcome.deleted,
                failed=outcome.failed,
                coverage=_coverage(scan, info),
                duration_s=round(time.monotonic() - started, 3),
                warnings=scan_warnings(info, scan),
                interrupted=outcome.interrupted,
            )

    def replay(
        self,
        file: Path,
        message_filter: MessageFilter | None = None,
        options: RedriveOptions | None = None,
        *,
        confirm: Callable[[RedriveReport], bool] | None = None,
        journal: Path | None = None,
        stop: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> RedriveReport:
        """Send messages from an export file to `options.to`, with redrive's safety levers."""
        with self.replay_session(file, message_filter, options, journal=journal) as run:
            return run.run(confirm=confirm, stop=stop, on_progress=on_progress)

    @contextmanager
    def replay_session(
        self,
        file: Path,
        message_filter: MessageFilter | None = None,
        options: RedriveOptions | None = None,
        *,
        journal: Path | None = None,
    ) -> Iterator[Redrive]:
        """Like `redrive_session`, from a file: nothing is held and nothing deleted."""
        message_filter = message_filter or MessageFilter()
        options = options or RedriveOptions()
        if not options.to:
            raise UsageError("pass --to QUEUE: a file does not say where its messages go")
        if options.canary or options.stop_after_failures:
            raise UsageError(
                "--canary and --stop-after-failures watch a DLQ: use them with redrive"
            )
        options.check(message_filter)
        records = list(read_export(file))
        resolver = TargetResolver(self.aws, None, options.to)
        target = resolver.for_message(None)
        raws = [to_raw(record) for record in records]
        selection = take(
            select(
                raws, classifier=self.classifier(), message_filter=message_filter, clock=self.clock
            ),
            options.max_messages,
        )
        run_id = uuid.uuid4().hex[:12]
        if target.info.fifo and any(not s.message.message_group_id for s in selection):
            raise RefusedError(
                f"{target.info.name} is FIFO but some records have no message group id"
            )
        yield Redrive(
            origin=Origin(str(file), target.info.fifo, len(records)),
            selection=selection,
            options=options,
            message_filter=message_filter,
            resolver=resolver,
            detector=None,
            journal=None if options.dry_run else Journal(journal, run_id=run_id),
            command="replay",
            read=len(records),
            stopped_reading="end of file"
            if len(selection) < options.max_messages
            else f"reached --max-messages ({options.max_messages})",
            run_id=run_id,
            retry=RetryPolicy(sleep=self.sleep),
            sleep=self.sleep,
            lanes=self.settings.concurrency,
        )

    # -- shared steps ----------------------------------------------------------------

    def _ledger(self) -> LedgerGateway | None:
        table = self.settings.ledger_table
        return self.aws.ledger(table) if table else None

    def classifier(self) -> Classifier:
        ledger = self._ledger()
        return Classifier(
            attribute=self.settings.error_type_attribute,
            rules=self.settings.rules,
            ledger=ledger,
            worker_timeout_s=self.settings.worker_timeout_s,
            clock=self.clock,
        )

    def _scan(
        self,
        sqs: SqsGateway,
        info: QueueInfo,
        max_scan: int | None,
        on_progress: ProgressCallback | None,
    ) -> Scan:
        room = in_flight_room(info)
        if room <= 0:
            raise RefusedError(
                f"{info.name} has {info.in_flight} messages in flight, near SQS's quota: a scan "
                "would hold more; wait for them to be processed"
            )
        limits = ScanLimits(
            max_scan=min(max_scan or self.settings.max_scan, room),
            wait_s=self.settings.receive_wait_s,
            hold_s=self.settings.hold_s,
            lanes=self.settings.concurrency,
        )
        return Scan(
            sqs, info.url, visible_at_start=info.visible, limits=limits, on_progress=on_progress
        )

    def _select(self, scan: Scan, message_filter: MessageFilter | None) -> Iterable[Selected]:
        return select(
            scan.messages(),
            classifier=self.classifier(),
            message_filter=message_filter or MessageFilter(),
            clock=self.clock,
        )


def _shown(message: DlqMessage, with_body: bool, redactor: Redactor) -> DlqMessage:
    if not with_body:
        return message.model_copy(update={"body": None})
    if redactor and message.body_encoding == "json":
        return message.model_copy(update={"body": redactor.apply(message.body)})
    return message


def _coverage(scan: Scan, info: QueueInfo) -> Coverage:
    return Coverage(
        scanned=scan.scanned,
        approximate_depth=info.depth,
        complete=scan.complete,
        stopped_because=scan.stopped_because,
    )
