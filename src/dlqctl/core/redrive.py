"""Redrive: select (scan + filters) → plan (= the dry run) → execute, safely (design §2).

The selection stays held in the DLQ from the scan until each message is either deleted
after its copy was accepted by the target, or released. Nothing is deleted first.
"""

from __future__ import annotations

import functools
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dlqctl.aws.sqs import SQS_BATCH_MAX, RawMessage
from dlqctl.core.classify import TIMEOUT
from dlqctl.core.filters import MessageFilter
from dlqctl.core.journal import Journal
from dlqctl.core.moving import BatchOutcome, Mover, Outgoing, RetryPolicy
from dlqctl.core.pacing import MAX_DELAY_S, TokenBucket, jitter_delays
from dlqctl.core.returns import ReturnDetector
from dlqctl.core.scan import ProgressCallback, Scan
from dlqctl.core.select import Selected
from dlqctl.core.targets import Target, TargetResolver, message_size
from dlqctl.errors import ExitCode, RefusedError, UsageError
from dlqctl.models import (
    CanaryResult,
    Coverage,
    DlqMessage,
    FailedEntry,
    PlannedMessage,
    PredictedOutcome,
    QueueInfo,
    RedriveReport,
)
from dlqctl.pipeline import spec

REDRIVE_COUNT_ATTRIBUTE = "dlqctl-redrive-count"
MAX_MESSAGE_ATTRIBUTES = 10
DEFAULT_MAX_MESSAGES = 100
MAX_MESSAGES_WITHOUT_FORCE = 1000
# The breaker looks for returns every so many batches or seconds, whichever comes first:
# each look is a scan of the DLQ, so not after every batch.
BREAKER_CHECK_BATCHES = 10
BREAKER_CHECK_INTERVAL_S = 30.0
CANARY_POLL_S = 5.0
CONFIRMATION_HOLD_S = 900

_OUTCOMES: dict[str | None, PredictedOutcome] = {
    spec.STATUS_COMPLETED: "no-op (already COMPLETED)",
    spec.STATUS_INFLIGHT: "may collide (INFLIGHT)",
}


def check_selection(
    action: str, message_filter: MessageFilter, select_all: bool, max_messages: int, force: bool
) -> None:
    """The guardrails of every destructive command: a filter or --all, and a size cap."""
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
    to: str | None = None
    select_all: bool = False
    max_messages: int = DEFAULT_MAX_MESSAGES
    force: bool = False
    batch_size: int = SQS_BATCH_MAX
    rate: float | None = None
    jitter_s: float = 0.0
    max_redrives: int | None = None
    canary: int = 0
    canary_wait_s: float = 60.0
    stop_after_failures: int | None = None
    dry_run: bool = False

    def check(self, message_filter: MessageFilter) -> None:
        """The guardrails that need no AWS call: usage errors (2) and refusals (4)."""
        if not 1 <= self.batch_size <= SQS_BATCH_MAX:
            raise UsageError(f"--batch-size must be 1 to {SQS_BATCH_MAX}")
        if self.rate is not None and self.rate <= 0:
            raise UsageError("--rate must be a positive number of messages a second")
        if not 0 <= self.jitter_s <= MAX_DELAY_S:
            raise UsageError("--jitter must be between 0s and 15m (SQS's longest delay)")
        if self.max_redrives is not None and self.max_redrives < 1:
            raise UsageError("--max-redrives must be at least 1")
        if self.canary < 0 or (self.canary and self.canary >= self.max_messages):
            raise UsageError("--canary must be smaller than --max-messages")
        check_selection("redrive", message_filter, self.select_all, self.max_messages, self.force)


@dataclass
class _Entry:
    """A selected message and its place in the plan."""

    selected: Selected
    target: Target | None
    redrive_count: int
    delay_s: int
    refused: str | None = None

    @property
    def message_id(self) -> str:
        return self.selected.message.message_id

    @property
    def raw(self) -> RawMessage:
        return self.selected.raw


@dataclass
class _Tally:
    sent: int = 0
    deleted: int = 0
    failed: list[FailedEntry] = field(default_factory=list)
    possible_duplicates: int = 0
    sent_digests: list[str] = field(default_factory=list)
    sent_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Origin:
    """Where the selection comes from: a DLQ whose scan holds it (the messages are deleted
    there once copied), or an export file being replayed (nothing to hold or delete)."""

    label: str  # the DLQ's ARN, or the file's path
    fifo: bool
    depth: int
    scan: Scan | None = None

    @classmethod
    def queue(cls, info: QueueInfo, scan: Scan) -> Origin:
        return cls(info.arn, info.fifo, info.depth, scan)

    def coverage(self, read: int, stopped_because: str) -> Coverage:
        if self.scan is None:
            return Coverage(
                scanned=read,
                approximate_depth=self.depth,
                complete=read >= self.depth,
                stopped_because=stopped_because,
            )
        return Coverage(
            scanned=self.scan.scanned,
            approximate_depth=self.depth,
            complete=self.scan.complete,
            stopped_because=self.scan.stopped_because,
        )


class Redrive:
    """One run over a selection: from a held DLQ (redrive) or from a file (replay)."""

    def __init__(
        self,
        *,
        origin: Origin,
        selection: list[Selected],
        options: RedriveOptions,
        message_filter: MessageFilter,
        resolver: TargetResolver,
        detector: ReturnDetector | None,
        journal: Journal | None,
        command: str = "redrive",
        lanes: int = 1,
        read: int = 0,
        stopped_reading: str = "end of file",
        run_id: str | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.origin = origin
        self.scan = origin.scan
        self.command = command
        self.lanes = max(1, lanes)
        self.coverage = origin.coverage(read, stopped_reading)
        self.options = options
        self.message_filter = message_filter
        self.detector = detector
        self.journal = journal
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        source = (self.scan.sqs, self.scan.url) if self.scan else None
        self.mover = Mover(source, fifo=origin.fifo, retry=retry)
        self.started = clock()
        self.warnings: list[str] = []
        self.entries = self._plan_entries(selection, resolver)

    # -- plan ------------------------------------------------------------------------

    @property
    def plan(self) -> RedriveReport:
        """The dry run: what would move where, with which delay, and what would not."""
        return self.report(dry_run=True)

    def check_movable(self) -> None:
        """Refuse a run whose every selected message was refused by a safety check."""
        refused = [e for e in self.entries if e.refused]
        if refused and len(refused) == len(self.entries):
            raise RefusedError(
                f"all {len(refused)} selected messages were refused, e.g. "
                f"{refused[0].message_id}: {refused[0].refused}"
            )

    def hold_for_confirmation(self) -> None:
        """A person may take a while to answer: hold the selection long enough."""
        if self.scan:
            self.scan.renew_hold(max(self.scan.hold_s, CONFIRMATION_HOLD_S))

    def _plan_entries(self, selection: list[Selected], resolver: TargetResolver) -> list[_Entry]:
        delays = jitter_delays(
            len(selection), 0 if self.origin.fifo else self.options.jitter_s, self.rng
        )
        entries = []
        uncounted = young = 0
        for chosen, delay in zip(selection, delays, strict=True):
            target = resolver.for_message(chosen.message.source_queue_arn)
            count = _redrive_count(chosen.raw)
            entry = _Entry(chosen, target, count, delay)
            if self.options.max_redrives is not None and count >= self.options.max_redrives:
                entry.refused = (
                    f"already redriven {count} times (--max-redrives {self.options.max_redrives})"
                )
            elif (size := _size_with_counter(chosen.raw, count)) > target.info.max_message_size:
                entry.refused = (
                    f"{size} bytes (with the redrive counter) exceed {target.info.name}'s "
                    f"MaximumMessageSize ({target.info.max_message_size})"
                )
            if _attribute_count(chosen.raw) >= MAX_MESSAGE_ATTRIBUTES:
                uncounted += 1
            if chosen.message.age_s < target.info.visibility_timeout_s:
                young += 1
            entries.append(entry)
        if uncounted:
            self.warnings.append(
                f"{uncounted} messages already carry {MAX_MESSAGE_ATTRIBUTES} attributes: their "
                f"redrives cannot be counted ({REDRIVE_COUNT_ATTRIBUTE}), so --max-redrives "
                "cannot protect them"
            )
        if young:
            self.warnings.append(
                f"{young} messages are younger than their target's visibility timeout: they may "
                "still be valid or be retried by the pipeline itself"
            )
        if self.origin.fifo and self.options.jitter_s:
            self.warnings.append(
                "FIFO has no per-message delay: --jitter paces the run by sleeping between batches"
            )
        return entries

    def report(self, *, dry_run: bool, tally: _Tally | None = None, **extra: Any) -> RedriveReport:
        tally = tally or _Tally()
        refused = [
            FailedEntry(message_id=e.message_id, stage="refused", reason=e.refused)
            for e in self.entries
            if e.refused
        ]
        targets = {e.target.info.arn for e in self.entries if e.target}
        return RedriveReport(
            run_id=self.run_id,
            kind="replay" if self.scan is None else "redrive",
            dry_run=dry_run,
            source=self.origin.label,
            target=next(iter(targets)) if len(targets) == 1 else None,
            selected=len(self.entries),
            sent=tally.sent,
            deleted=tally.deleted,
            failed=refused + tally.failed,
            possible_duplicates=tally.possible_duplicates,
            planned=self._planned_messages,
            duration_s=round(self.clock() - self.started, 3),
            coverage=self.coverage if self.scan is None else self.origin.coverage(0, ""),
            warnings=self.warnings,
            **extra,
        )

    @functools.cached_property
    def _planned_messages(self) -> list[PlannedMessage]:
        """Built once: the dry run and the final report list the same plan."""
        return [self._planned(e) for e in self.entries if not e.refused]

    def _planned(self, entry: _Entry) -> PlannedMessage:
        message = entry.selected.message
        assert entry.target is not None
        return PlannedMessage.model_construct(  # typed values from this module: no re-validation
            message_id=message.message_id,
            error_type=message.error_type,
            age_s=message.age_s,
            delay_s=entry.delay_s,
            target=entry.target.info.arn,
            body_sha256=message.body_sha256,
            body_bytes=message.body_bytes,
            idempotency_key=message.idempotency_key,
            redrive_count=entry.redrive_count,
            message_group_id=message.message_group_id,
            predicted_outcome=_predict(message) if self.detector and self.detector.ledger else None,
        )

    # -- execute ---------------------------------------------------------------------

    def run(
        self,
        *,
        confirm: Callable[[RedriveReport], bool] | None = None,
        stop: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> RedriveReport:
        """The plan for a dry run; else confirm (if asked to) and execute."""
        plan = self.plan
        if self.options.dry_run:
            return plan
        self.check_movable()
        if not plan.planned:
            return plan
        if confirm is not None:
            self.hold_for_confirmation()
            if not confirm(plan):
                raise RefusedError("not confirmed: nothing was changed")
        return self.execute(stop=stop, on_progress=on_progress)

    def execute(
        self, *, stop: threading.Event | None = None, on_progress: ProgressCallback | None = None
    ) -> RedriveReport:
        if self.options.dry_run:
            raise UsageError("this run is a dry run: open it without dry_run to move messages")
        stop = stop or threading.Event()
        movable = [e for e in self.entries if not e.refused]
        tally = _Tally()
        if self.journal:
            self.journal.start(
                self.command,
                source=self.origin.label,
                target=sorted({e.target.info.arn for e in movable if e.target}),
                filters=self.message_filter.describe(),
                options={k: v for k, v in vars(self.options).items()},
                planned=len(movable),
            )
        bucket = (
            TokenBucket(self.options.rate, self.options.batch_size, sleep=self._pause)
            if self.options.rate
            else None
        )
        progress = _Progress(len(movable), on_progress)
        canary_size = min(self.options.canary, len(movable))
        extra: dict[str, Any] = {}
        stopped: str | None = "error"  # until the run says otherwise
        try:
            stopped = self._run(movable[:canary_size], tally, bucket, stop, progress)
            if not stopped and canary_size:
                canary = self._canary(tally, canary_size, stop)
                extra["canary"] = canary
                if not canary.passed:
                    stopped = f"canary failed: {canary.detail}"
            if not stopped:
                stopped = self._run(
                    movable[canary_size:], tally, bucket, stop, progress, breaker=True
                )
        finally:
            report = self.report(
                dry_run=False,
                tally=tally,
                stopped_because=stopped,
                interrupted=stop.is_set(),
                **extra,
            )
            if self.journal:
                self.journal.record("end", outcome=_outcome(report), summary=_summary(report))
        return report

    def _run(
        self,
        entries: list[_Entry],
        tally: _Tally,
        bucket: TokenBucket | None,
        stop: threading.Event,
        progress: _Progress,
        *,
        breaker: bool = False,
    ) -> str | None:
        """Move `entries` in rounds of up to `lanes` batches sent at once; the reason it
        stopped early, if it did. Pauses (rate, FIFO pacing) happen between rounds, in this
        thread, so holds are renewed right before anything is sent."""
        broken_groups: set[str] = set()
        batches = list(self._batches(entries))
        lanes = 1 if self.origin.fifo else self.lanes  # FIFO: one batch at a time, in order
        if self.options.rate:
            # A round sends all its batches at once: keep it to about a second of --rate.
            lanes = max(1, min(lanes, int(self.options.rate // self.options.batch_size)))
        last_check, since_check = self.clock(), 0
        with ThreadPoolExecutor(lanes, thread_name_prefix="redrive") as pool:
            for start in range(0, len(batches), lanes):
                if stop.is_set():
                    return "interrupted"
                round_ = [
                    kept
                    for batch in batches[start : start + lanes]
                    if (kept := self._skip_broken_groups(batch, broken_groups, tally))
                ]
                if not round_:
                    continue
                if bucket:
                    bucket.acquire(sum(len(batch) for batch in round_))
                if self.origin.fifo and self.options.jitter_s:
                    # Spread the run over about --jitter: FIFO cannot delay messages.
                    self._pause(self.rng.uniform(0, 2 * self.options.jitter_s / len(batches)))
                if stop.is_set():  # Ctrl-C during the pause: nothing of this round went out
                    return "interrupted"
                if self.scan:
                    self.scan.renew_hold_if_due()
                self._move_round(pool, round_, tally, broken_groups, progress)
                since_check += len(round_)
                due = (
                    since_check >= BREAKER_CHECK_BATCHES
                    or self.clock() - last_check >= BREAKER_CHECK_INTERVAL_S
                )
                watching = breaker and self.detector and self.options.stop_after_failures
                if watching and due and start + lanes < len(batches):
                    assert self.detector is not None
                    assert self.options.stop_after_failures is not None
                    last_check, since_check = self.clock(), 0
                    returns = self.detector.check(tally.sent_digests, tally.sent_keys[-100:])
                    if returns.failures >= self.options.stop_after_failures:
                        return f"circuit breaker: {returns.failures} redriven messages failed again"
        return None

    def _move_round(
        self,
        pool: ThreadPoolExecutor,
        round_: list[list[_Entry]],
        tally: _Tally,
        broken_groups: set[str],
        progress: _Progress,
    ) -> None:
        """Send the round's batches in parallel; record each outcome here, in order."""
        prepared = [
            (batch, [self._outgoing(i, e) for i, e in enumerate(batch)]) for batch in round_
        ]
        if self.journal:
            for batch, _ in prepared:  # intent first: a crash mid-send is still on record
                self.journal.record("sending", message_ids=[e.message_id for e in batch])
        futures = [
            pool.submit(self.mover.move, batch[0].target.sqs, batch[0].target.info.url, outgoing)  # type: ignore[union-attr]
            for batch, outgoing in prepared
        ]
        fatal = None
        for (batch, outgoing), future in zip(prepared, futures, strict=True):
            outcome = future.result()
            self._record(batch, outgoing, outcome, tally, broken_groups)
            progress.advance(len(batch))
            fatal = fatal or outcome.fatal
        if fatal:
            raise fatal

    def _record(
        self,
        batch: list[_Entry],
        outgoing: list[Outgoing],
        outcome: BatchOutcome,
        tally: _Tally,
        broken_groups: set[str],
    ) -> None:
        target = batch[0].target
        assert target is not None
        by_id = {o.entry_id: e for o, e in zip(outgoing, batch, strict=True)}
        for entry_id in outcome.deleted:
            if self.scan:
                self.scan.forget(by_id[entry_id].message_id)
        for entry_id in outcome.sent:
            message = by_id[entry_id].selected.message
            tally.sent_digests.append(message.body_sha256)
            tally.sent_keys.append(message.idempotency_key)
        tally.sent += len(outcome.sent)
        tally.deleted += len(outcome.deleted)
        tally.failed.extend(outcome.failed)
        tally.possible_duplicates += outcome.possible_duplicates
        failed_ids = {f.message_id for f in outcome.failed if f.stage == "send"}
        broken_groups.update(o.group for o in outgoing if o.group and o.message_id in failed_ids)
        if self.journal:
            self.journal.record(
                "batch",
                target=target.info.arn,
                sent=[
                    {
                        "message_id": by_id[i].message_id,
                        "new_message_id": new_id,
                        "body_sha256": by_id[i].selected.message.body_sha256,
                    }
                    for i, new_id in outcome.sent.items()
                ],
                deleted=[by_id[i].message_id for i in outcome.deleted],
                failed=[f.model_dump() for f in outcome.failed],
            )

    def _pause(self, seconds: float) -> None:
        """Sleep, renewing the holds often enough that none lapses meanwhile."""
        slice_s = max(1.0, self.scan.hold_s * 0.3) if self.scan else max(seconds, 0.0)
        remaining = seconds
        while remaining > 0:
            step = min(slice_s, remaining)
            self.sleep(step)
            remaining -= step
            if self.scan:
                self.scan.renew_hold_if_due()

    def _outgoing(self, index: int, entry: _Entry) -> Outgoing:
        raw = entry.raw
        system = raw.get("Attributes", {})
        attributes = {
            name: _copy_attribute(value)
            for name, value in raw.get("MessageAttributes", {}).items()
            if name != REDRIVE_COUNT_ATTRIBUTE
        }
        if len(attributes) < MAX_MESSAGE_ATTRIBUTES:
            attributes[REDRIVE_COUNT_ATTRIBUTE] = {
                "DataType": "Number",
                "StringValue": str(entry.redrive_count + 1),
            }
        send: dict[str, Any] = {"MessageBody": raw["Body"]}
        if attributes:
            send["MessageAttributes"] = attributes
        if "AWSTraceHeader" in system:
            send["MessageSystemAttributes"] = {
                "AWSTraceHeader": {"DataType": "String", "StringValue": system["AWSTraceHeader"]}
            }
        group = system.get("MessageGroupId")
        if self.origin.fifo:
            send["MessageGroupId"] = group
            # Fresh per run and stable across this run's retries: a retried send is
            # deduplicated, while an old deduplication id could make SQS drop the copy.
            send["MessageDeduplicationId"] = f"dlqctl-{self.run_id}-{entry.message_id}"[:128]
        elif entry.delay_s:
            send["DelaySeconds"] = entry.delay_s
        return Outgoing(str(index), entry.message_id, raw["ReceiptHandle"], send, group)

    def _batches(self, entries: list[_Entry]) -> Iterator[list[_Entry]]:
        """Consecutive runs for one target, at most --batch-size and one payload limit each."""
        batch: list[_Entry] = []
        payload = 0
        for entry in entries:
            assert entry.target is not None
            size = message_size(entry.raw)
            limit = entry.target.info.max_message_size
            if batch and (
                len(batch) >= self.options.batch_size
                or batch[0].target is not entry.target
                or payload + size > limit
            ):
                yield batch
                batch, payload = [], 0
            batch.append(entry)
            payload += size
        if batch:
            yield batch

    def _skip_broken_groups(
        self, batch: list[_Entry], broken: set[str], tally: _Tally
    ) -> list[_Entry]:
        """FIFO: after a message of a group failed, the rest of that group stays, in order."""
        kept = []
        for entry in batch:
            group = entry.selected.message.message_group_id
            if group and group in broken:
                tally.failed.append(
                    FailedEntry(
                        message_id=entry.message_id,
                        stage="skipped",
                        reason=f"an earlier message of group {group} was not moved; order is kept",
                    )
                )
            else:
                kept.append(entry)
        return kept

    def _canary(self, tally: _Tally, size: int, stop: threading.Event) -> CanaryResult:
        """Wait, then look for the canaries back in the DLQ (and in the ledger).
        Ctrl-C ends the wait early; the canary then counts as not passed."""
        detector = self.detector
        assert detector is not None, "a canary needs a DLQ to watch"
        digests, keys = tally.sent_digests[:size], tally.sent_keys[:size]
        waited = 0.0
        while waited < self.options.canary_wait_s and not stop.is_set():
            pause = min(CANARY_POLL_S, self.options.canary_wait_s - waited)
            self._pause(pause)
            waited += pause
            if detector.ledger is None:
                continue
            early = detector.check((), keys)
            if early.failures or early.completed_in_ledger == len(set(keys)):
                break  # the ledger has decided: no need to wait out the rest
        returns = detector.check(digests, keys)
        completed = returns.completed_in_ledger
        passed = (
            returns.failures == 0
            and (completed is None or completed >= len(set(keys)))
            and not stop.is_set()
        )
        if stop.is_set():
            detail = "interrupted before the canary could pass"
        elif returns.failures:
            detail = f"{returns.failures} of {size} canaries failed again"
        elif not passed:
            detail = f"only {completed} of {size} canaries reached COMPLETED in the ledger"
        else:
            detail = f"none of {size} canaries came back"
        return CanaryResult(
            size=size,
            waited_s=round(waited, 3),
            came_back=returns.came_back,
            ledger_completed=completed,
            passed=passed,
            detail=detail,
        )


class _Progress:
    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self.callback = callback

    def advance(self, n: int) -> None:
        self.done += n
        if self.callback:
            self.callback(self.done, self.total)


def _predict(message: DlqMessage) -> PredictedOutcome:
    """What the pipeline's worker will do with the copy, judging by the ledger."""
    stale = message.error_source == "ledger" and message.error_type == TIMEOUT
    if message.ledger_status == spec.STATUS_INFLIGHT and stale:
        return "will run"  # the claim outlived the worker timeout: the next worker takes over
    return _OUTCOMES.get(message.ledger_status, "will run")


def _size_with_counter(raw: RawMessage, count: int) -> int:
    """The size of the copy as sent: the original plus the counter attribute dlqctl sets."""
    if _attribute_count(raw) >= MAX_MESSAGE_ATTRIBUTES:
        return message_size(raw)
    counted = {
        k: v for k, v in raw.get("MessageAttributes", {}).items() if k != REDRIVE_COUNT_ATTRIBUTE
    }
    counter = {"DataType": "Number", "StringValue": str(count + 1)}
    return message_size({**raw, "MessageAttributes": {**counted, REDRIVE_COUNT_ATTRIBUTE: counter}})


def _redrive_count(raw: RawMessage) -> int:
    value = raw.get("MessageAttributes", {}).get(REDRIVE_COUNT_ATTRIBUTE, {}).get("StringValue")
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def _attribute_count(raw: RawMessage) -> int:
    return sum(1 for name in raw.get("MessageAttributes", {}) if name != REDRIVE_COUNT_ATTRIBUTE)


def _copy_attribute(attribute: dict[str, Any]) -> dict[str, Any]:
    copied = {"DataType": attribute["DataType"]}
    if "BinaryValue" in attribute:
        copied["BinaryValue"] = attribute["BinaryValue"]
    else:
        copied["StringValue"] = attribute.get("StringValue", "")
    return copied


def _outcome(report: RedriveReport) -> str:
    if report.interrupted:
        return "interrupted"
    if report.stopped_because:
        return "error" if report.stopped_because == "error" else "stopped"
    return "complete" if report.moved_all else "partial"


def exit_code(report: RedriveReport) -> ExitCode:
    """The exit status a finished run deserves (design §3)."""
    if report.dry_run:
        return ExitCode.OK
    if report.interrupted:
        return ExitCode.INTERRUPTED
    if report.stopped_because and report.stopped_because.startswith(("canary", "circuit")):
        return ExitCode.REFUSED
    if report.failed and report.sent == 0 and all(f.stage == "refused" for f in report.failed):
        return ExitCode.REFUSED
    return ExitCode.OK if report.moved_all else ExitCode.PARTIAL


def _summary(report: RedriveReport) -> dict[str, Any]:
    return {
        "selected": report.selected,
        "sent": report.sent,
        "deleted": report.deleted,
        "failed": len(report.failed),
        "possible_duplicates": report.possible_duplicates,
        "stopped_because": report.stopped_because,
    }


def take(selection: Iterable[Selected], limit: int, scan: Scan | None = None) -> list[Selected]:
    """The first `limit` matches; the scan, if any, stops there."""
    taken: list[Selected] = []
    for chosen in selection:
        taken.append(chosen)
        if len(taken) >= limit:
            if scan:
                scan.stop(f"reached --max-messages ({limit})")
            break
    return taken
