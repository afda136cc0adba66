"""Redrive and replay: the plan (= the dry run), then the run on the streaming engine.

The plan is a look: it selects with the run's filters and caps, says what would move
where, and releases everything. The run re-selects with the same filters and caps as it
goes (core/engine.py), so what it moves can differ from the plan when the DLQ changed
in between; the prompt says so.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from dlqctl.core.classify import TIMEOUT
from dlqctl.core.copy import redrive_count
from dlqctl.core.engine import Engine, Pace, Work, stop_reason
from dlqctl.core.feed import FileFeed, QueueFeed
from dlqctl.core.filters import MessageFilter
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.core.journal import Journal
from dlqctl.core.moving import BatchOutcome, Mover, Outgoing, Sink
from dlqctl.core.outcome import all_refused, journal_outcome, refused_error
from dlqctl.core.pacing import TokenBucket
from dlqctl.core.plan import PlanTally
from dlqctl.core.resend import entry_for
from dlqctl.core.returns import ReturnDetector
from dlqctl.core.scan import ProgressCallback
from dlqctl.core.select import Selected, SelectionNotes
from dlqctl.core.targets import MessageRefused, Target, TargetResolver
from dlqctl.core.wording import counted
from dlqctl.errors import DlqctlError, RefusedError, UsageError
from dlqctl.models import (
    CanaryResult,
    Coverage,
    DlqMessage,
    FailedEntry,
    PlannedMessage,
    PredictedOutcome,
    RedriveReport,
)
from dlqctl.pipeline import spec

# The breaker asks the ledger about recent copies every so many batches or seconds.
BREAKER_CHECK_BATCHES = 10
BREAKER_CHECK_INTERVAL_S = 30.0
CANARY_POLL_S = 5.0
# Without a redrive policy on the target a failed copy never comes back to the DLQ.
CANARY_WAIT_WITHOUT_POLICY_S = 60.0

_OUTCOMES: dict[str | None, PredictedOutcome] = {
    spec.STATUS_COMPLETED: "no-op (already COMPLETED)",
    spec.STATUS_INFLIGHT: "may collide (INFLIGHT)",
}


def return_time_s(target: Target, batching_window_s: int) -> float | None:
    """How long a failed copy takes to come back to the DLQ: every allowed receive
    waits out the visibility timeout. None when the target is not a queue with a
    redrive policy."""
    policy = target.info.redrive_policy if target.info else None
    if target.info is None or policy is None:
        return None
    return policy.max_receive_count * target.info.visibility_timeout_s + batching_window_s


class CopyAction:
    """Send each selected message to its target, then delete it from the DLQ (none for a
    replay: `mover` has no source)."""

    verb = "redrive"

    def __init__(
        self,
        resolver: TargetResolver,
        mover: Mover,
        *,
        fifo: bool,
        run_id: str,
        options: RedriveOptions,
        rng: random.Random,
        on_new_target: Callable[[Target], None] = lambda target: None,
    ) -> None:
        self.resolver = resolver
        self.mover = mover
        self.fifo = fifo
        self.ordered = fifo
        self.run_id = run_id
        self.options = options
        self.rng = rng
        self.on_new_target = on_new_target
        self.targets: dict[str, Target] = {}
        self.uncounted = 0
        self.young = 0
        self.undelayed = 0
        self._invoked: set[str] = set()  # request ids of this run's invocations
        self._entry_ids = itertools.count()

    def prepare(self, selected: Selected, handle: str) -> Work | str:
        message, raw = selected.message, selected.raw
        try:
            target = self.resolver.for_message(message.source_queue_arn, selected.reading)
        except MessageRefused as exc:
            return exc.reason
        if target.key not in self.targets:
            self.on_new_target(target)
            self.targets[target.key] = target
        request = raw.get("MessageAttributes", {}).get("RequestID", {}).get("StringValue")
        if selected.reading.kind == "lambda-async" and request in self._invoked:
            # Lambda puts a failed invocation in the DLQ with a new message id, no redrive
            # counter, and the RequestID this run's Invoke got: it failed again.
            return "a copy this run invoked failed again and came back: left for a person"
        count = redrive_count(raw)
        limit = self.options.max_redrives
        if limit is not None and count >= limit:
            return f"already redriven {count} times (--max-redrives {limit})"
        jitter = int(self.options.jitter_s)
        copy = entry_for(
            target,
            raw,
            selected.reading,
            as_is=self.resolver.explicit is not None,
            fifo=self.fifo,
            # Fresh per run and stable across its retries: a retried send is deduplicated,
            # while the message's old deduplication id could make SQS drop the copy.
            deduplication_id=f"dlqctl-{self.run_id}-{message.message_id}",
            delay_s=self.rng.randint(0, jitter) if jitter and target.delays else 0,
            invoke=self.options.invoke,
        )
        if isinstance(copy, str):
            return copy
        if copy.size > target.max_size:
            what = "MaximumMessageSize" if target.info else "largest accepted copy"
            return f"{copy.size} bytes exceed {target.name}'s {what} ({target.max_size})"
        self.uncounted += not copy.counted
        self.undelayed += bool(jitter) and not target.delays and not self.fifo
        if target.info is not None:
            self.young += message.age_s < target.info.visibility_timeout_s
        group = raw.get("Attributes", {}).get("MessageGroupId") if self.fifo else None
        outgoing = Outgoing(
            f"e{next(self._entry_ids)}", message.message_id, handle, copy.entry, group
        )
        return Work(selected, outgoing, target.key, copy.size, message.idempotency_key)

    def payload_limit(self, work: Work) -> int:
        return self.targets[work.target_key].batch_size_limit

    def move(self, batch: list[Work]) -> BatchOutcome:
        return self._remember(batch, self.mover.move)

    def send(self, batch: list[Work]) -> BatchOutcome:
        return self._remember(batch, self.mover.send)

    def _remember(
        self, batch: list[Work], call: Callable[[Sink, str, list[Outgoing]], BatchOutcome]
    ) -> BatchOutcome:
        target = self.targets[batch[0].target_key]
        outcome = call(target.sink, target.address, [w.outgoing for w in batch])
        if target.service == "lambda":
            self._invoked.update(outcome.sent.values())  # the invocations' request ids
        return outcome

    def finish(self, batch: list[Work], outcome: BatchOutcome) -> None:
        self.mover.delete_sent([w.outgoing for w in batch], outcome)

    def journal_fields(self, batch: list[Work], outcome: BatchOutcome) -> dict[str, Any]:
        by_entry = {w.outgoing.entry_id: w for w in batch}
        return {
            "target": batch[0].target_key,
            "sent": [
                {
                    "message_id": by_entry[i].message_id,
                    "new_message_id": new_id,
                    "body_sha256": by_entry[i].selected.message.body_sha256,
                    "delay_s": by_entry[i].outgoing.send_entry.get("DelaySeconds", 0),
                    "idempotency_key": by_entry[i].key,
                }
                for i, new_id in outcome.sent.items()
            ],
            "deleted": [by_entry[i].message_id for i in outcome.deleted],
            "failed": [f.model_dump() for f in outcome.failed],
        }

    def warnings(self) -> list[str]:
        warnings = []
        if self.uncounted:
            warnings.append(
                f"{counted(self.uncounted, 'copy', 'copies')} went without dlqctl's redrive "
                "counter (10 attributes already, no room under the target's size limit, or a target "
                "that takes no attributes: a function or a bus): --max-redrives cannot "
                "protect them"
            )
        if self.undelayed:
            warnings.append(
                f"{counted(self.undelayed, 'copy', 'copies')} went to a function, topic or bus, "
                "which has no per-message delay: --jitter did not spread them"
            )
        if self.young:
            warnings.append(
                f"{counted(self.young, 'message')} {'is' if self.young == 1 else 'are'} "
                "younger than their target's visibility timeout: "
                "they may still be valid or be retried by the pipeline itself"
            )
        if self.fifo and self.options.jitter_s:
            warnings.append(
                "FIFO has no per-message delay: --jitter paces the run by sleeping between batches"
            )
        return warnings


def planned_message(work: Work, predicted: PredictedOutcome | None) -> PlannedMessage:
    message = work.selected.message
    return PlannedMessage.model_construct(  # typed values from this module: no re-validation
        message_id=message.message_id,
        error_type=message.error_type,
        age_s=message.age_s,
        delay_s=int(work.outgoing.send_entry.get("DelaySeconds", 0)),
        target=work.target_key,
        body_sha256=message.body_sha256,
        body_bytes=message.body_bytes,
        idempotency_key=message.idempotency_key,
        redrive_count=redrive_count(work.selected.raw),
        message_group_id=message.message_group_id,
        predicted_outcome=predicted,
    )


def predict(message: DlqMessage) -> PredictedOutcome:
    """What the pipeline's worker will do with the copy, judging by the ledger."""
    stale = message.error_source == "ledger" and message.error_type == TIMEOUT
    if message.ledger_status == spec.STATUS_INFLIGHT and stale:
        return "will run"  # the claim outlived the worker timeout: the next worker takes over
    return _OUTCOMES.get(message.ledger_status, "will run")


@dataclass(frozen=True)
class Origin:
    """Where the messages come from: a DLQ (its ARN) or an export file (its path)."""

    label: str
    fifo: bool
    kind: str = "redrive"  # or "replay"


class Redrive:
    """One redrive or replay: `plan(selection)` is the dry run, `execute()` the run."""

    def __init__(
        self,
        *,
        origin: Origin,
        options: RedriveOptions,
        message_filter: MessageFilter,
        resolver: TargetResolver,
        new_feed: Callable[[], QueueFeed | FileFeed],
        select: Callable[[list[Any], SelectionNotes], Iterator[Selected]],
        mover: Mover,
        detector: ReturnDetector | None,
        journal: Journal | None,
        lanes: int,
        held_room: int | None = None,
        batching_window_s: int = 0,
        notes: Iterable[str] = (),
        run_id: str | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.origin = origin
        self.options = options
        self.message_filter = message_filter
        self.resolver = resolver
        self.new_feed = new_feed
        self.select = select
        self.mover = mover
        self.detector = detector
        self.journal = journal
        self.lanes = max(1, lanes)
        self.held_room = held_room
        self.batching_window_s = batching_window_s
        self.notes = list(notes)  # said before anything is seen (e.g. looks left)
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.rng = rng or random.Random()
        self.clock = clock
        self.sleep = sleep
        self.canary_wait_s: float | None = options.canary_wait_s
        self._canary_note: str | None = None

    def cap(self, count: int) -> None:
        """After a confirmed plan: the run (which re-selects) takes no more than the
        `count` messages the person agreed to, whatever arrived since the look."""
        self.options = dataclasses.replace(
            self.options, max_messages=min(self.options.max_messages, count)
        )

    def preflight(self) -> None:
        """What can be refused before anything is received: the target known up front
        (--to, or the DLQ's only source) and, with a canary, how long it must wait."""
        known = self.resolver.default()
        if known is not None and self.options.canary:
            self._check_canary_wait(known)

    # -- the plan --------------------------------------------------------------------

    def plan(
        self,
        selection: Iterable[Selected],
        coverage: Callable[[], Coverage],
        on_planned: Callable[[PlannedMessage], None] | None = None,
    ) -> RedriveReport:
        """The dry run over a look's selection: what would move where, and what would not.
        With `on_planned`, each planned message goes there as it is planned, and the
        report keeps only the aggregates (a plan of any size in bounded memory)."""
        started = self.clock()
        action = self._action()
        tally = PlanTally()
        planned: list[PlannedMessage] = []
        refused: list[FailedEntry] = []
        ledger = self.detector is not None and self.detector.ledger is not None
        for chosen in selection:
            work = action.prepare(chosen, "")
            if isinstance(work, str):
                tally.refused += 1
                refused.append(
                    FailedEntry(message_id=chosen.message.message_id, stage="refused", reason=work)
                )
                continue
            predicted = chosen.predicted or (predict(chosen.message) if ledger else None)
            message = planned_message(work, predicted)
            tally.add(message)
            if on_planned is None:
                planned.append(message)
            else:
                on_planned(message)
        targets = list(tally.targets)
        return RedriveReport(
            run_id=self.run_id,
            kind="replay" if self.origin.kind == "replay" else "redrive",
            dry_run=True,
            source=self.origin.label,
            target=targets[0] if len(targets) == 1 else None,
            selected=tally.count + tally.refused,
            sent=0,
            deleted=0,
            failed=refused,
            possible_duplicates=0,
            planned=planned,
            duration_s=round(self.clock() - started, 3),
            coverage=coverage(),
            summary=tally.summary(),
            warnings=self.notes + action.warnings() + self._canary_warnings(),
        )

    # -- the run ---------------------------------------------------------------------

    def execute(
        self,
        *,
        stop: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> RedriveReport:
        if self.options.dry_run:
            raise UsageError("this run is a dry run: open it without dry_run to move messages")
        stop = stop or threading.Event()
        self.preflight()  # before the journal and the first receive
        started = self.clock()
        action = self._action()
        feed = self.new_feed()
        notes = SelectionNotes(self.message_filter)
        engine = Engine(
            feed=feed,
            select=lambda raws: self.select(raws, notes),
            action=action,
            pace=self._pace(),
            journal=self.journal,
            stop=stop,
            rng=self.rng,
            sleep=self.sleep,
            on_progress=on_progress,
            progress_total=self.options.max_messages,
            held_room=self.held_room,
        )
        engine.remember_first = self.options.canary
        known = self.resolver.default()
        if self.journal:
            self.journal.start(
                self.origin.kind,
                source=self.origin.label,
                target=[known.key] if known else [],
                filters=self.message_filter.describe(),
                options=dict(vars(self.options)),
                max_messages=self.options.max_messages,
            )
        canary: CanaryResult | None = None
        error: BaseException | None = None
        try:
            going = True
            if self.options.canary:
                going = engine.run_until(self.options.canary)
                if going and engine.tally.selected:
                    canary = self._canary(engine, stop)
                    if not canary.passed:
                        engine.stopped_because = (
                            stop_reason(stop)  # Ctrl-C or SIGTERM ended the wait
                            if stop.is_set()
                            else f"canary failed: {canary.detail}"
                        )
                        going = False
            if going:
                engine.watch = self._breaker(engine)
                going = engine.run_until(self.options.max_messages)
            if going:
                engine.stopped_because = (
                    f"reached --max-messages ({self.options.max_messages})"
                    if engine.tally.selected >= self.options.max_messages
                    else feed.ended_because
                )
        except DlqctlError as exc:
            engine.stopped_because = engine.stopped_because or f"error: {exc.message}"
            error = exc
        except KeyboardInterrupt as exc:
            engine.stopped_because = stop_reason(stop)
            error = exc
        finally:
            try:
                engine.close()
            finally:
                report = self._report(engine, action, notes, canary, started, stop)
                if self.journal:
                    self.journal.record(
                        "end", outcome=journal_outcome(report), summary=_summary(report)
                    )
        if error is None and all_refused(report):
            error = refused_error(report)
        if isinstance(error, DlqctlError):
            error.report = report
            raise error
        if error is not None:
            raise error
        return report

    def _action(self) -> CopyAction:
        return CopyAction(
            self.resolver,
            self.mover,
            fifo=self.origin.fifo,
            run_id=self.run_id,
            options=self.options,
            rng=self.rng,
            on_new_target=self._check_canary_wait if self.options.canary else _ignore,
        )

    def _pace(self) -> Pace:
        options = self.options
        lanes = self.lanes
        if options.rate:
            # A round sends all its batches at once: keep it to about a second of --rate.
            lanes = max(1, min(lanes, int(options.rate // options.batch_size)))
        spread = 0.0
        if self.origin.fifo and options.jitter_s:
            rounds = max(1, options.max_messages // (options.batch_size * lanes))
            spread = 2 * options.jitter_s / rounds  # spread the run over about --jitter
        return Pace(
            lanes=lanes,
            # A synchronous invoke waits for the function: one a batch, so the holds are
            # renewed between invokes however long the function runs.
            batch_size=1 if options.invoke == "sync" else options.batch_size,
            bucket=TokenBucket(options.rate, options.batch_size) if options.rate else None,
            fifo_spread_s=spread,
        )

    # -- canary and breaker ----------------------------------------------------------

    def _check_canary_wait(self, target: Target) -> None:
        """The canary must wait as long as a failed copy takes to come back."""
        if target.service == "lambda" and self.options.invoke == "sync":
            # Each synchronous invoke answers with the function's verdict: the canary's
            # outcome is known when its invokes return.
            self.canary_wait_s = self.canary_wait_s or 0.0
            return
        needed = return_time_s(target, self.batching_window_s)
        if needed is None:
            self._canary_note = (
                f"{target.name} has no redrive policy: a failed canary never comes back "
                "to the DLQ, so only the ledger (if any) can fail it"
                if target.info is not None
                else f"a copy that fails in {target.name} reaches the DLQ only after the "
                "service's own retries: only the ledger (if any) can fail the canary in time"
            )
            if self.canary_wait_s is None:
                self.canary_wait_s = CANARY_WAIT_WITHOUT_POLICY_S
            return
        explicit = self.options.canary_wait_s
        if explicit is not None and explicit < needed and not self.options.force:
            raise RefusedError(
                f"--canary-wait {explicit:g}s is shorter than a failed copy needs to come back "
                f"to the DLQ ({needed:g}s: maxReceiveCount × VisibilityTimeout of "
                f"{target.name}): wait longer, or add --force to accept a canary that "
                "cannot fail without a ledger"
            )
        self.canary_wait_s = max(self.canary_wait_s or 0.0, explicit or needed)

    def _canary_warnings(self) -> list[str]:
        return [self._canary_note] if self._canary_note else []

    def _canary(self, engine: Engine, stop: threading.Event) -> CanaryResult:
        """Wait, holding the rest, then look for the canaries back in the DLQ (by message
        id) and in the ledger. Ctrl-C ends the wait early; the canary then fails."""
        detector = self.detector
        assert detector is not None, "a canary needs a DLQ to watch"
        ids = [new_id for new_id, _ in engine.sent_order]
        keys = [key for _, key in engine.sent_order]
        size = len(engine.sent_order)
        wait_s = self.canary_wait_s or 0.0
        waited = 0.0
        while waited < wait_s and not stop.is_set():
            pause = min(CANARY_POLL_S, wait_s - waited)
            engine.pause(pause)
            waited += pause
            if detector.ledger is None:
                continue
            early = detector.check((), keys)
            if early.failures or early.completed_in_ledger == len(set(keys)):
                break  # the ledger has decided: no need to wait out the rest
        returns = detector.check(ids, keys)
        came_back = returns.came_back + engine.tally.came_back
        failures = max(came_back, returns.failed_in_ledger) + engine.tally.failed_again
        completed = returns.completed_in_ledger
        passed = (
            failures == 0
            and (completed is None or completed >= len(set(keys)))
            and not stop.is_set()
            and size > 0
        )
        if stop.is_set():
            detail = "interrupted before the canary could pass"
        elif size == 0:
            detail = "no canary was sent"
        elif failures:
            detail = f"{failures} of {size} canaries failed again"
        elif not passed:
            detail = f"only {completed} of {size} canaries reached COMPLETED in the ledger"
        elif wait_s == 0 and self.options.invoke == "sync":
            detail = f"the function's verdict: it took every canary ({size})"
        else:
            detail = f"none of {size} canaries came back"
        return CanaryResult(
            size=size,
            waited_s=round(waited, 3),
            came_back=came_back,
            ledger_completed=completed,
            passed=passed,
            detail=detail,
        )

    def _breaker(self, engine: Engine) -> Callable[[], str | None]:
        """Stop when too many copies failed again: seen back in the DLQ by this run's own
        receives, or FAILED in the ledger since the run started."""
        threshold = self.options.stop_after_failures
        detector = self.detector
        if threshold is None:
            return _no_stop
        state = {"batches": 0, "checked_at": self.clock(), "ledger_failures": 0}

        def check() -> str | None:
            due = (
                engine.batches - state["batches"] >= BREAKER_CHECK_BATCHES
                or self.clock() - state["checked_at"] >= BREAKER_CHECK_INTERVAL_S
            )
            if due and detector is not None and detector.ledger is not None:
                state["batches"], state["checked_at"] = engine.batches, self.clock()
                returns = detector.check((), list(engine.recent_keys))
                state["ledger_failures"] = max(
                    int(state["ledger_failures"]), returns.failed_in_ledger
                )
            failures = max(engine.tally.came_back, int(state["ledger_failures"]))
            failures += engine.tally.failed_again
            if failures >= threshold:
                return f"circuit breaker: {failures} redriven messages failed again"
            return None

        return check

    # -- the report ------------------------------------------------------------------

    def _report(
        self,
        engine: Engine,
        action: CopyAction,
        notes: SelectionNotes,
        canary: CanaryResult | None,
        started: float,
        stop: threading.Event,
    ) -> RedriveReport:
        tally = engine.tally
        targets = list(action.targets)
        stopped = engine.stopped_because or "the run stopped"
        warnings = self.notes + action.warnings() + self._canary_warnings()
        warnings += notes.warnings() + engine.warnings
        if tally.came_back:
            warnings.append(
                f"{tally.came_back} copies this run sent came back to the DLQ while it ran: "
                "they failed again and were left there"
            )
        queue = engine.queue
        if queue is not None and queue.release_failed:
            warnings.append(
                f"{queue.release_failed} messages could not be released at the end: they "
                f"become visible again when their hold lapses (at most {queue.hold_s}s)"
            )
        if tally.failed_again:
            warnings.append(
                f"{tally.failed_again} invokes failed again (the function's verdict): those "
                "messages stayed in the DLQ"
            )
        if tally.holds_lost:
            warnings.append(
                f"{tally.holds_lost} holds lapsed during the run: those messages were not "
                "sent (they are visible in the DLQ again)"
            )
        return RedriveReport(
            run_id=self.run_id,
            kind="replay" if self.origin.kind == "replay" else "redrive",
            dry_run=False,
            source=self.origin.label,
            target=targets[0] if len(targets) == 1 else None,
            selected=tally.selected,
            sent=tally.sent,
            deleted=tally.deleted,
            failed=tally.failed,
            possible_duplicates=tally.possible_duplicates,
            planned=[],
            duration_s=round(self.clock() - started, 3),
            coverage=notes.coverage(engine.coverage()),
            stopped_because=stopped,
            interrupted=stop.is_set() or stopped in ("interrupted", "terminated"),
            canary=canary,
            came_back=tally.came_back,
            failed_again=tally.failed_again,
            holds_lost=tally.holds_lost,
            warnings=warnings,
        )


def _ignore(target: Target) -> None:
    pass


def _no_stop() -> str | None:
    return None


def _summary(report: RedriveReport) -> dict[str, Any]:
    return {
        "target": report.target,
        "selected": report.selected,
        "sent": report.sent,
        "deleted": report.deleted,
        "failed": len(report.failed),
        "possible_duplicates": report.possible_duplicates,
        "came_back": report.came_back,
        "failed_again": report.failed_again,
        "holds_lost": report.holds_lost,
        "stopped_because": report.stopped_because,
    }
