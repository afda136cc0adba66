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
from dlqctl.aws.sqs import SQS_BATCH_MAX, RawMessage, SqsGateway
from dlqctl.config import Settings, load_settings
from dlqctl.core import move_tasks
from dlqctl.core.archive import ExportWriter, check_new_file, read_export, to_raw
from dlqctl.core.classify import Classifier
from dlqctl.core.engine import abandon_event
from dlqctl.core.feed import FileFeed, QueueFeed
from dlqctl.core.filters import MessageFilter
from dlqctl.core.guardrails import DEFAULT_MAX_MESSAGES, RedriveOptions, check_selection
from dlqctl.core.iam import policy_for
from dlqctl.core.inspect import InspectTally
from dlqctl.core.journal import Journal, default_journal_path, recent_runs
from dlqctl.core.kinds import KindOverride
from dlqctl.core.looks import ReceiveCounts, check_looks
from dlqctl.core.moving import Mover, RetryPolicy
from dlqctl.core.outcome import all_refused, refused_error
from dlqctl.core.plan import first, movable
from dlqctl.core.powertools import PowertoolsLedger, PowertoolsLedgerSpec
from dlqctl.core.purge import plan_archive, run_archive
from dlqctl.core.queue_ref import parse_queue_ref
from dlqctl.core.queues import describe, list_queues, oldest_ages, open_queue
from dlqctl.core.redact import Redactor
from dlqctl.core.redrive import Origin, Redrive
from dlqctl.core.returns import ReturnDetector
from dlqctl.core.scan import ProgressCallback, Scan, ScanLimits, in_flight_room
from dlqctl.core.select import RunReport, Selected, SelectionNotes, select
from dlqctl.core.targets import TargetResolver
from dlqctl.core.warnings import scan_warnings
from dlqctl.errors import DlqctlError, RefusedError, UsageError
from dlqctl.models import (
    ArchiveReport,
    Coverage,
    DlqKind,
    DlqMessage,
    History,
    InspectReport,
    MoveTask,
    MoveTaskCancelled,
    MoveTaskStarted,
    PeekResult,
    PlannedDeletion,
    PlannedMessage,
    QueueInfo,
    QueueRef,
    RedriveReport,
)

SortOrder = Literal["oldest", "newest"]
# How long a run holds what it leaves in the DLQ between renewals (renewed at 60 %): short
# enough that messages come back soon if dlqctl is killed, long enough for a slow round.
RUN_HOLD_S = 120


class Dlqctl:
    """One entry point over the core. Pass settings, or any of boto3's usual knobs.

    Without `settings`, they are read as the CLI reads them: DLQCTL_* variables, then the
    config files (~/.config/dlqctl/config.toml with ./dlqctl.toml merged over it), then
    defaults.

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
        self.receive_counts = ReceiveCounts()
        self.clock = clock
        self.sleep = sleep

    # -- reading ---------------------------------------------------------------------

    def queues(self, *, all_queues: bool = False, prefix: str | None = None) -> list[QueueInfo]:
        """DLQs (or every queue), deepest first."""
        named: dict[str, DlqKind] = {}
        if self.settings.dlq:
            named[parse_queue_ref(self.settings.dlq).name] = self.settings.kind or "unknown"
        return list_queues(self.aws, dlqs_only=not all_queues, prefix=prefix, named=named)

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
        force: bool = False,
        sample: int | None = None,
    ) -> InspectReport:
        """Depth, coverage and a summary by error type, age and source. Consumes nothing.
        `force` looks even where the look would move messages on (the DLQ's own DLQ).
        `sample` looks at that many messages only; then, as whenever a look of a standard
        queue sees only part of it, `estimate` gives shares with 95 % intervals."""
        if sample is not None and sample < 1:
            raise UsageError("--sample must be at least 1 message")
        sqs, url = open_queue(self.aws, queue)
        info = describe(sqs, url)
        tally = InspectTally(info.retention_s)
        notes = SelectionNotes(message_filter or MessageFilter())
        with self._scan(sqs, info, sample or max_scan, on_progress, force=force) as scan:
            for selected in self._select(scan, message_filter, notes):
                tally.add(selected.message)
        warnings = scan_warnings(info, scan) + notes.warnings()
        coverage = notes.coverage(_coverage(scan, info))
        report = tally.report(info, coverage, warnings, sampled=sample is not None)
        if report.estimate is not None:
            report.warnings.append(
                f"an estimate: {coverage.scanned} of ~{coverage.approximate_depth} messages "
                "seen; shares are given with 95 % intervals (`estimate` in JSON)"
            )
        return report

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
        force: bool = False,
        on_message: Callable[[DlqMessage], None] | None = None,
    ) -> PeekResult:
        """The `limit` oldest (or newest) matching messages. Consumes nothing. `force` as
        for `inspect`. With `on_message`, each matching message goes there as soon as it
        is seen, in the order the scan meets it (unsorted), and the look stops at `limit`:
        the result then lists no messages, only the counts."""
        redactor = Redactor(redact)
        sqs, url = open_queue(self.aws, queue)
        info = describe(sqs, url)
        matched = 0
        kept: list[tuple[float, int, DlqMessage]] = []
        sign = 1 if sort == "oldest" else -1
        notes = SelectionNotes(message_filter or MessageFilter())
        with self._scan(sqs, info, max_scan, on_progress, force=force) as scan:
            for order, selected in enumerate(self._select(scan, message_filter, notes)):
                message = selected.message
                matched += 1
                if on_message is not None:
                    if limit:
                        on_message(_shown(message, with_body, redactor))
                    if matched == limit:
                        scan.stop(f"reached --limit ({limit})")
                        break
                    continue
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
            coverage=notes.coverage(_coverage(scan, info)),
            matched=matched,
            messages=messages,
            warnings=scan_warnings(info, scan) + notes.warnings(),
        )

    def watch(self, queues: Iterable[str | QueueRef]) -> list[QueueInfo]:
        """One refresh of depth, in-flight and oldest age for each queue."""
        infos = [self.describe(queue, with_sources=False) for queue in queues]
        ages = oldest_ages(self.aws, [q.name for q in infos])
        return [q.model_copy(update={"oldest_age_s": ages.get(q.name)}) for q in infos]

    # -- changing ------------------------------------------------------------------------

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
        on_planned: Callable[[PlannedMessage], None] | None = None,
    ) -> RedriveReport:
        """Plan and, unless it is a dry run, move. With `confirm`, the plan (a look that
        releases everything) is shown to it first and it may refuse (RefusedError,
        nothing changed); the run then re-selects with the same filters and caps.
        `on_planned` receives a dry run's planned messages one by one, as they are
        planned (the report then keeps only their aggregates)."""
        message_filter = message_filter or MessageFilter()
        options = options or RedriveOptions()
        options.check(message_filter)
        sqs, url = open_queue(self.aws, queue)
        info = describe(sqs, url)
        looks = check_looks(info, self.receive_counts.highest(info.arn), force=options.force)
        run = self._redrive(sqs, info, message_filter, options, journal, stop, looks)
        run.preflight()
        if options.dry_run or confirm is not None:
            notes = SelectionNotes(message_filter)
            with self._scan(sqs, info, None, on_progress, force=options.force) as scan:
                selection = first(
                    self._select(scan, message_filter, notes), options.max_messages, scan
                )
                plan = run.plan(
                    selection, lambda: _coverage(scan, info), _streamed(on_planned, options)
                )
            plan = notes.noted(plan)
            if options.dry_run or not movable(plan):
                return _refuse_if_all_refused(plan, options)
            if confirm is not None:
                if not confirm(plan):
                    raise RefusedError("not confirmed: nothing was changed")
                run.cap(plan.selected)  # never more than the person agreed to
        check_looks(info, self.receive_counts.highest(info.arn), force=options.force)
        return self._counted(info, lambda: run.execute(stop=stop, on_progress=on_progress))

    def _counted(self, info: QueueInfo, run: Callable[[], RunReport]) -> RunReport:
        """A run's report; the highest receive count it saw is kept (also when raised)."""
        try:
            report = run()
        except DlqctlError as exc:
            if isinstance(exc.report, RedriveReport | ArchiveReport):
                self._note_counts(info, exc.report.coverage.highest_receive_count)
            raise
        self._note_counts(info, report.coverage.highest_receive_count)
        return report

    def _redrive(
        self,
        sqs: SqsGateway,
        info: QueueInfo,
        message_filter: MessageFilter,
        options: RedriveOptions,
        journal: Path | None,
        stop: threading.Event | None,
        looks: str | None,
    ) -> Redrive:
        resolver = TargetResolver(
            self.aws, info, options.to, fan_out=options.fan_out, invoke=options.invoke
        )
        run_id = uuid.uuid4().hex[:12]
        return Redrive(
            origin=Origin(info.arn, info.fifo),
            options=options,
            message_filter=message_filter,
            resolver=resolver,
            new_feed=lambda: self._feed(sqs, info, options.max_messages),
            select=lambda raws, notes: self._select_raws(raws, message_filter, notes),
            mover=Mover((sqs, info.url), fifo=info.fifo, retry=self._retry(stop)),
            detector=ReturnDetector(
                sqs,
                info.url,
                ledger=self._ledger(),
                since=self.clock(),
                scan_limit=self.settings.max_scan,
                wait_s=self.settings.receive_wait_s,
            ),
            journal=None if options.dry_run else Journal(journal, run_id=run_id),
            lanes=self.settings.concurrency,
            held_room=_held_room(info, self.settings.concurrency),
            batching_window_s=self.settings.batching_window_s,
            notes=([looks] if looks else []) + self._ledger_warnings(),
            run_id=run_id,
            sleep=self.sleep,
        )

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
        1000 needs `force=True`). `dry_run=True` returns the plan of a look (counts by
        error type and age, and the messages; `on_planned` streams them instead);
        `confirm(plan)` sees the same plan before the run and may refuse. Also:
        `journal`, `stop`, `max_scan`, `on_progress`.
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
        dry_run: bool = False,
        confirm: Callable[[ArchiveReport], bool] | None = None,
        journal: Path | None = None,
        stop: threading.Event | None = None,
        max_scan: int | None = None,
        on_progress: ProgressCallback | None = None,
        on_planned: Callable[[PlannedDeletion], None] | None = None,
    ) -> ArchiveReport:
        """Stream the selected messages to `out` (JSONL); with `delete`, delete each batch
        once it is on disk. Deleting needs a filter or `select_all` and is capped by
        `max_messages` (default 100; above 1000 needs `force`). `out=None` with `delete`
        deletes without an archive (purge --no-archive). `dry_run` returns the plan of a
        look (nothing written, nothing deleted; `on_planned` streams its messages).
        `confirm` sees that plan and may refuse; the run then re-selects with the same
        filters and cap.
        """
        message_filter = message_filter or MessageFilter()
        if delete:
            cap = DEFAULT_MAX_MESSAGES if max_messages is None else max_messages
            check_selection("delete", message_filter, select_all, cap, force)
        else:
            cap = sys.maxsize if max_messages is None else max_messages
            if cap < 1:
                raise UsageError("--max-messages must be at least 1")
        sqs, url = open_queue(self.aws, queue)
        info = describe(sqs, url)
        check_new_file(out)
        if dry_run or (delete and confirm is not None):
            looked = SelectionNotes(message_filter)
            with self._scan(sqs, info, max_scan, on_progress, force=force) as scan:
                plan = plan_archive(
                    first(self._select(scan, message_filter, looked), cap, scan),
                    source=info.arn,
                    out=out,
                    coverage=lambda: _coverage(scan, info),
                    on_planned=on_planned if dry_run else _discard,
                )
            plan = looked.noted(plan)
            if dry_run:
                return plan
            if not plan.selected:
                nothing = {"dry_run": False, "file": None, "stopped_because": "no message matched"}
                return plan.model_copy(update=nothing)
            if confirm is not None:
                if not confirm(plan):
                    raise RefusedError("not confirmed: nothing was deleted")
                cap = min(cap, plan.selected)  # never more than the person agreed to
        # Created before the first receive: an existing file is refused before anything.
        check_looks(info, self.receive_counts.highest(info.arn), force=force)
        writer = ExportWriter(out) if out is not None else None
        run_id = uuid.uuid4().hex[:12]
        notes = SelectionNotes(message_filter)
        return self._counted(
            info,
            lambda: run_archive(
                command=command,
                source=info.arn,
                feed=self._feed(sqs, info, cap if delete else 0, max_scan),
                select=lambda raws: self._select_raws(raws, message_filter, notes),
                notes=notes,
                writer=writer,
                mover=Mover((sqs, info.url), fifo=info.fifo, retry=self._retry(stop))
                if delete
                else None,
                message_filter=message_filter,
                max_messages=cap,
                lanes=self.settings.concurrency,
                journal=Journal(journal, run_id=run_id) if delete else None,
                stop=stop or threading.Event(),
                held_room=_held_room(info, self.settings.concurrency),
                run_id=run_id,
                on_progress=on_progress,
            ),
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
        on_planned: Callable[[PlannedMessage], None] | None = None,
    ) -> RedriveReport:
        """Send messages from an export file to `options.to`, with redrive's safety levers.
        Nothing is held and nothing deleted; the file is read twice (checked whole first,
        then streamed), never kept in memory."""
        message_filter = message_filter or MessageFilter()
        options = options or RedriveOptions()
        if not options.to:
            raise UsageError("pass --to QUEUE: a file does not say where its messages go")
        if options.canary or options.stop_after_failures:
            raise UsageError(
                "--canary and --stop-after-failures watch a DLQ: use them with redrive"
            )
        options.check(message_filter)
        resolver = TargetResolver(self.aws, None, options.to)
        target = resolver.for_message(None)
        fifo = target.info.fifo if target.info is not None else False
        for record in read_export(file):  # the whole file is checked before anything moves
            if fifo and not record.message_group_id:
                raise RefusedError(
                    f"{target.name} is FIFO but {file} has records without a message "
                    f"group id (e.g. {record.message_id})"
                )
        run_id = uuid.uuid4().hex[:12]

        def new_feed() -> FileFeed:
            raws = (to_raw(record) for record in read_export(file))
            return FileFeed(raws, fifo=fifo, label=str(file))

        run = Redrive(
            origin=Origin(str(file), fifo, kind="replay"),
            options=options,
            message_filter=message_filter,
            resolver=resolver,
            new_feed=new_feed,
            select=lambda raws, notes: self._select_raws(raws, message_filter, notes),
            mover=Mover(None, fifo=fifo, retry=self._retry(stop)),
            detector=None,
            journal=None if options.dry_run else Journal(journal, run_id=run_id),
            lanes=self.settings.concurrency,
            run_id=run_id,
            sleep=self.sleep,
        )
        if options.dry_run or confirm is not None:
            feed = new_feed()
            notes = SelectionNotes(message_filter)
            selection = first(
                self._select_raws(feed.messages(), message_filter, notes), options.max_messages
            )
            plan = notes.noted(run.plan(selection, feed.coverage, _streamed(on_planned, options)))
            if options.dry_run or not movable(plan):
                return _refuse_if_all_refused(plan, options)
            if confirm is not None:
                if not confirm(plan):
                    raise RefusedError("not confirmed: nothing was changed")
                run.cap(plan.selected)  # never more than the person agreed to
        return run.execute(stop=stop, on_progress=on_progress)

    # -- SQS's move tasks, the journal --------------------------------------------------

    def start_move_task(
        self,
        queue: str | QueueRef,
        *,
        to: str | None = None,
        rate: int | None = None,
        confirm: Callable[[QueueInfo], bool] | None = None,
        journal: Path | None = None,
        force: bool = False,
        warn: Callable[[str], None] | None = None,
    ) -> MoveTaskStarted:
        """Start SQS's server-side move of EVERY message of the DLQ (no filter), to `to`
        or back to each message's source; `confirm` sees the DLQ first and may refuse.
        On a FIFO DLQ, `warn` hears about the 5-minute deduplication window first, and a
        DLQ a message entered inside it is refused (RefusedError) unless `force`."""
        return move_tasks.start(
            self.aws,
            queue,
            to=to,
            rate=rate,
            confirm=confirm,
            journal=journal,
            force=force,
            warn=warn,
            clock=self.clock,
        )

    def move_tasks(self, queue: str | QueueRef) -> tuple[QueueInfo, list[MoveTask]]:
        """The DLQ and its recent move tasks."""
        return move_tasks.tasks(self.aws, queue)

    def cancel_move_task(
        self, queue: str | QueueRef, *, task: str | None = None
    ) -> MoveTaskCancelled:
        """Cancel `task`, or the DLQ's only running task."""
        return move_tasks.cancel(self.aws, queue, task)

    def iam_policy(
        self,
        queue: str,
        *,
        targets: Sequence[str] = (),
        ledger_table: str | None = None,
        read_only: bool = False,
        lookup: bool = True,
    ) -> dict[str, Any]:
        """The least-privilege IAM policy for running dlqctl on this DLQ (see `iam-policy`)."""
        settings = self.settings
        # A DLQ whose kind's target the config names (a function, a topic): that is where
        # its messages go back to.
        named = list(targets) or ([settings.original_target] if settings.original_target else [])
        return policy_for(
            self.aws,
            queue,
            targets=named,
            ledger_table=ledger_table,
            read_only=read_only,
            lookup=lookup,
            find_function=settings.kind == "lambda-async" and not settings.original_target,
        )

    def history(self, journal: Path | None = None, *, limit: int = 10) -> History:
        """Recent destructive runs from the audit journal, newest first."""
        path = journal or default_journal_path()
        runs, unreadable = recent_runs(path, limit)
        return History(journal=str(path), runs=runs, unreadable_lines=unreadable)

    # -- shared steps ----------------------------------------------------------------

    def _ledger(self) -> LedgerGateway | None:
        """The pipeline's own failure ledger (dlqctl's format), if it has one."""
        table = self.settings.ledger_table
        if not table or self.settings.ledger_format != "dlqctl":
            return None
        return self.aws.ledger(table)

    def powertools_spec(self) -> PowertoolsLedgerSpec | None:
        """The Powertools idempotency table the config names as the ledger, if any."""
        s = self.settings
        if not s.ledger_table or s.ledger_format != "powertools":
            return None
        return PowertoolsLedgerSpec(
            table=s.ledger_table,
            function_name=s.ledger_function,
            handler=s.ledger_handler,
            key_jmespath=s.ledger_key_jmespath,
            key_prefix=s.ledger_key_prefix,
            hash_function=s.ledger_hash_function,
            sort_key_attribute=s.ledger_sort_key,
            payload=s.ledger_payload,
        )

    def _ledger_warnings(self) -> list[str]:
        spec = self.powertools_spec()
        return spec.warnings() if spec else []

    def _powertools(self) -> PowertoolsLedger | None:
        spec = self.powertools_spec()
        if spec is None:
            return None
        checked = self.aws.ledger(spec.table)  # refuses a local SQS with a table on AWS
        return PowertoolsLedger(
            spec, LedgerGateway(checked.client, spec.table, spec.schema), clock=self.clock
        )

    def classifier(self) -> Classifier:
        ledger = self._ledger()
        return Classifier(
            attribute=self.settings.error_type_attribute,
            rules=self.settings.rules,
            ledger=ledger,
            worker_timeout_s=self.settings.worker_timeout_s,
            powertools=self._powertools(),
            kind=(
                KindOverride(self.settings.kind, self.settings.original_target)
                if self.settings.kind
                else None
            ),
            clock=self.clock,
        )

    @contextmanager
    def _scan(
        self,
        sqs: SqsGateway,
        info: QueueInfo,
        max_scan: int | None,
        on_progress: ProgressCallback | None,
        *,
        force: bool = False,
    ) -> Iterator[Scan]:
        """A look: refused when it would move messages on (unless `force`), released at
        the end, and the highest receive count it saw kept for the next look."""
        warning = check_looks(info, self.receive_counts.highest(info.arn), force=force)
        scan = self._new_scan(sqs, info, max_scan, on_progress)
        scan.look_warning = warning
        try:
            with scan:
                yield scan
        finally:
            self._note_counts(info, scan.highest_receive_count)

    def _note_counts(self, info: QueueInfo, highest: int | None) -> None:
        if info.redrive_policy is not None and highest is not None:
            self.receive_counts.record(info.arn, highest)

    def _new_scan(
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

    def _retry(self, stop: threading.Event | None) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, give_up=abandon_event(stop))

    def _feed(
        self, sqs: SqsGateway, info: QueueInfo, selecting: int, max_scan: int | None = None
    ) -> QueueFeed:
        """A run's receives: up to --max-scan messages looked at and left, plus what it
        selects; holds renewed while it runs."""
        looked_at = max_scan or self.settings.max_scan
        return QueueFeed(
            sqs,
            info.url,
            fifo=info.fifo,
            visible_at_start=info.visible,
            depth=info.depth,
            max_receive=looked_at + selecting,
            hold_s=self.settings.hold_s or RUN_HOLD_S,
            wait_s=self.settings.receive_wait_s,
            lanes=self.settings.concurrency,
        )

    def _select_raws(
        self, raws: Iterable[RawMessage], message_filter: MessageFilter, notes: SelectionNotes
    ) -> Iterator[Selected]:
        return select(
            raws,
            classifier=self.classifier(),
            message_filter=message_filter,
            notes=notes,
            clock=self.clock,
        )

    def _select(
        self, scan: Scan, message_filter: MessageFilter | None, notes: SelectionNotes
    ) -> Iterable[Selected]:
        return self._select_raws(scan.messages(), message_filter or MessageFilter(), notes)


def _streamed(
    on_planned: Callable[[PlannedMessage], None] | None, options: RedriveOptions
) -> Callable[[PlannedMessage], None] | None:
    """Where a plan's messages go: the caller's stream for a dry run; none at all before
    a prompt, which shows only the aggregates (so a big plan keeps no list)."""
    if options.dry_run:
        return on_planned
    return _discard


def _discard(planned: PlannedMessage | PlannedDeletion) -> None:
    pass


def _refuse_if_all_refused(plan: RedriveReport, options: RedriveOptions) -> RedriveReport:
    """A run (not a dry run) whose every selected message a safety check refused."""
    if not options.dry_run and all_refused(plan):
        raise refused_error(plan)
    return plan


def _held_room(info: QueueInfo, lanes: int) -> int:
    """How many messages a run may leave held: the in-flight room, less a round."""
    return max(0, in_flight_room(info) - lanes * SQS_BATCH_MAX)


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
        highest_receive_count=scan.highest_receive_count,
    )
