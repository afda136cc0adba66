"""The streaming engine behind every destructive command (design §2, "Redrive").

One pass: receive → classify → filter → act, round after round. A matching message is
acted on (copied then deleted, or archived then deleted) before the next receive; one
that does not match stays held until the end of the run and is then released. Receives
are sized to what the cap still allows, so `--max-messages 1` receives one message.
Memory grows only with what is held and left (ids and receipt handles), never with what
was moved.

FIFO: SQS hides a group's later messages while any of its messages is held, so the
engine moves a group's head before it can see the tail, and a whole FIFO DLQ goes in one
run. Within a group, a message is sent only once the one before it was accepted: a
SendMessageBatch carries at most one message of a group, batches of different groups go
out in parallel, and a group whose message failed, lost its hold or stays in the DLQ
stops for the run (Powertools' skip-group rule). The rest of that group stays held, so
it cannot be received again, and is released at the end.

Accounting: every batch of a round is recorded (report and journal) once all lanes of
the round have answered, before any error one of them met is raised, and the run's
stop reason is always set.

In-flight room: what a run leaves held (messages that do not match, failed, or exported
without --delete) counts against the DLQ's in-flight quota, and what it moves does not.
So a run goes through a DLQ of any depth while what it leaves fits, and stops before
the receive that could overfill it (`held_room`, the room less one round), or when SQS
says the queue is full: a stop reason and a report, never an error mid-round.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from dlqctl.aws.errors import InFlightLimitError
from dlqctl.aws.sqs import SQS_BATCH_MAX, RawMessage
from dlqctl.core.feed import FileFeed, QueueFeed, Round
from dlqctl.core.journal import Journal
from dlqctl.core.lanes import wait_for
from dlqctl.core.moving import BatchOutcome, Outgoing
from dlqctl.core.pacing import TokenBucket
from dlqctl.core.select import Selected
from dlqctl.errors import DlqctlError
from dlqctl.models import Coverage, FailedEntry

# Copies remembered by message id, to tell a redriven message that failed again from
# one that was in the DLQ already: enough for the newest runs' returns, in bounded memory.
SENT_IDS_REMEMBERED = 200_000
# Ledger keys the breaker asks about at each check (BatchGetItem takes 100).
RECENT_KEYS = 100

Select = Callable[[list[RawMessage]], Iterator[Selected]]


@dataclass(slots=True)
class Work:
    """A selected message on its way: how it leaves, and by which receipt handle."""

    selected: Selected
    outgoing: Outgoing
    target_key: str  # batches go to one target each
    size: int
    key: str  # idempotency key, for the ledger
    done: bool = False  # recorded: moved, failed, or left in the DLQ

    @property
    def message_id(self) -> str:
        return self.selected.message.message_id

    @property
    def group(self) -> str | None:
        return self.outgoing.group


class Action(Protocol):
    """What a run does to each selected message: copy it somewhere, or archive it."""

    verb: str
    ordered: bool  # FIFO order must be kept (copies), or need not (deletes)

    def prepare(self, selected: Selected, handle: str) -> Work | str:
        """The message's work, or why it is refused (it then stays in the DLQ)."""

    def payload_limit(self, work: Work) -> int:
        """Bytes one batch for this work's target may carry."""

    def move(self, batch: list[Work]) -> BatchOutcome:
        """Act on one batch (thread-safe): send then delete, or archive then delete."""

    def journal_fields(self, batch: list[Work], outcome: BatchOutcome) -> dict[str, Any]:
        """What the journal's `batch` record says about this batch."""


class OrderedAction(Action, Protocol):
    """An action whose order matters (FIFO copies): it sends wave after wave, and
    deletes all that was sent once the round's last wave is out."""

    def send(self, batch: list[Work]) -> BatchOutcome:
        """Send one batch (thread-safe); `finish` deletes what it sent."""

    def finish(self, batch: list[Work], outcome: BatchOutcome) -> None:
        """Delete from the source what `send` confirmed (thread-safe)."""


@dataclass
class Tally:
    """What the run did: the report's counts."""

    selected: int = 0
    sent: int = 0
    deleted: int = 0
    failed: list[FailedEntry] = field(default_factory=list)
    possible_duplicates: int = 0
    came_back: int = 0
    failed_again: int = 0  # the target took the copy and failed on it (sync invoke)
    holds_lost: int = 0


class SentIds:
    """The newest copies' message ids, in bounded memory: each kept as its 64-bit hash
    (a third of the string's footprint). A collision could only make a message of the
    DLQ look like a copy that came back, which leaves it in the DLQ: the safe side."""

    def __init__(self, limit: int = SENT_IDS_REMEMBERED) -> None:
        self.limit = limit
        self._hashes: set[int] = set()
        self._order: deque[int] = deque()

    def add(self, message_id: str) -> None:
        key = hash(message_id)
        if key in self._hashes:
            return
        self._hashes.add(key)
        self._order.append(key)
        if len(self._order) > self.limit:
            self._hashes.discard(self._order.popleft())

    def __contains__(self, message_id: object) -> bool:
        return hash(message_id) in self._hashes


@dataclass
class Pace:
    """--rate, --jitter on FIFO (which has no per-message delay) and the lanes."""

    lanes: int = 1
    batch_size: int = SQS_BATCH_MAX
    bucket: TokenBucket | None = None
    fifo_spread_s: float = 0.0  # FIFO: sleep up to this between rounds


class StopSignal(threading.Event):
    """Set to end a run after the round in hand; `abandon` also ends the retries of that
    round (a second Ctrl-C). `reason` names who asked: "interrupted" (SIGINT) or
    "terminated" (SIGTERM)."""

    def __init__(self) -> None:
        super().__init__()
        self.abandon = threading.Event()
        self.reason = "interrupted"

    def request(self, reason: str) -> None:
        if self.is_set():
            self.abandon.set()
        else:
            self.reason = reason
            self.set()


def stop_reason(stop: threading.Event) -> str:
    return stop.reason if isinstance(stop, StopSignal) else "interrupted"


def abandon_event(stop: threading.Event | None) -> threading.Event:
    return stop.abandon if isinstance(stop, StopSignal) else threading.Event()


class Engine:
    def __init__(
        self,
        *,
        feed: QueueFeed | FileFeed,
        select: Select,
        action: Action,
        pace: Pace,
        journal: Journal | None,
        stop: threading.Event,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        held_room: int | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        progress_total: int = 0,
    ) -> None:
        self.feed = feed
        self.select = select
        self.action = action
        self.pace = pace
        self.journal = journal
        self.stop = stop
        self.rng = rng or random.Random()
        self.sleep = sleep
        self.held_room = held_room
        self.on_progress = on_progress
        self.progress_total = progress_total
        self.tally = Tally()
        self.batches = 0  # batches acted on, for the breaker's pace
        self.processed = 0  # messages acted on (moved, exported, or failed): the progress
        self.stopped_because: str | None = None
        self.warnings: list[str] = []  # for the run's report
        self.sent_ids = SentIds()
        self.recent_keys: deque[str] = deque(maxlen=RECENT_KEYS)
        self.sent_order: list[tuple[str, str]] = []  # (new id, key) of the first copies
        self.remember_first = 0  # how many first copies to keep in sent_order (canary)
        self.broken_groups: set[str] = set()
        # Copied but not deleted: if seen again, never copy twice.
        self._copied_not_deleted: set[str] = set()
        self._pool = ThreadPoolExecutor(max(1, pace.lanes), thread_name_prefix="lane")
        # `batch` journal records of the round, written together (one fsync) by _flush.
        self._recorded: list[dict[str, Any]] = []
        self._not_moved: list[dict[str, str]] = []
        # FIFO: batches sent in this round's waves, deleted once its last wave is out.
        self._unfinished: list[tuple[list[Work], BatchOutcome]] = []
        self._pending: Round | None = None  # the next round's receives, already sent
        self.watch: Callable[[], str | None] = lambda: None  # the breaker, between rounds

    @property
    def queue(self) -> QueueFeed | None:
        return self.feed if isinstance(self.feed, QueueFeed) else None

    def coverage(self) -> Coverage:
        return self.feed.coverage(self.stopped_because)

    # -- the loop --------------------------------------------------------------------

    def run_until(self, limit: int) -> bool:
        """Select and act until `limit` messages were selected in all, or the feed ends;
        False when the run must stop (`stopped_because` says why). A round received
        ahead that the run does not take is the feed's to release (`close`)."""
        while self.tally.selected < limit:
            if self.stop.is_set():
                self.stopped_because = stop_reason(self.stop)
                return False
            queue = self.queue
            if queue and self.held_room is not None and queue.held >= self.held_room:
                self._stop_at_room(by_sqs=False)
                return False
            try:
                raws = self._next_round(limit - self.tally.selected)
            except InFlightLimitError:
                # Other readers filled the quota since the run began (OverLimit, or empty
                # receives from a full queue): the same stop as the one above, found by
                # SQS instead of by the run's own count.
                self._stop_at_room(by_sqs=True)
                return False
            if not raws:
                if self.feed.ended_because is not None:
                    return True
                continue
            self._lose(self.queue.renew_if_due() if self.queue else set())
            work, waiting = self._sort(raws)
            self._prefetch(limit)
            try:
                self._act(work)
            finally:
                # Only now: this round's earlier messages of those groups were sent first.
                self.broken_groups |= waiting
            # The breaker also after a round with nothing to move (all of it came back).
            self.stopped_because = self.stopped_because or self.watch()
            if self.stopped_because is not None:
                return False
        return True

    def _next_round(self, wanted: int) -> list[RawMessage]:
        pending, self._pending = self._pending, None
        if pending is not None and self.queue is not None:
            return self.queue.collect(pending)
        return self.feed.receive(wanted)

    def _prefetch(self, limit: int) -> None:
        """Send the next round's receives before acting on this one, so their round trip
        overlaps this round's sends and deletes (a round then costs about the moves alone,
        not a receive plus the moves). Standard queues only: a FIFO group's next messages
        are hidden until this round's are deleted. Not under --rate, which sets the pace
        itself. Sized as the next receive would be, and only while what is held now plus
        one round fits in the in-flight room. The feed tracks the round until it is
        collected, so a run that ends first still releases what it brought."""
        queue = self.queue
        if (
            queue is None
            or self.pace.lanes < 2  # one lane: one request at a time
            or self.feed.fifo  # a held group hides the rest of it: nothing to gain
            or self.pace.bucket is not None  # --rate sets the pace, not the round trips
            or self.action.ordered
            or self.stop.is_set()
            or self.stopped_because is not None
            or limit - self.tally.selected <= 0
            or (self.held_room is not None and queue.held >= self.held_room)
        ):
            return
        self._pending = queue.start(limit - self.tally.selected)

    def _stop_at_room(self, *, by_sqs: bool) -> None:
        """Stop before the next receive: what the run leaves held (messages that do not
        match, failed, or exported without --delete) would not fit in the DLQ's in-flight
        room. Each round is recorded already; the rest is released by `close`."""
        held = self.queue.held if self.queue else 0
        if by_sqs:
            why = f"SQS hands out no more (its in-flight quota is full), {held} held by this run"
        elif held:
            why = f"{held} messages left in the DLQ are held"
        else:
            why = "other readers hold the DLQ's in-flight room"
        self.stopped_because = (
            f"in-flight limit: {why}; run again to go on (what moved has left the DLQ), "
            "first move what it leaves out of the way (`dlqctl export --delete` with a "
            "filter that matches it), or move everything with `dlqctl move-task start`"
        )
        self.warnings.append(
            "the run stopped at the DLQ's in-flight limit: the messages it left held are "
            "released (visible in the DLQ again), and matches it did not reach are still there"
        )

    def close(self) -> None:
        """Release what is still held, and journal what stayed; safe to call twice."""
        self._pool.shutdown(wait=True)
        try:
            if self.queue:
                self.queue.release()
        finally:
            self._flush()

    # -- sorting a round -------------------------------------------------------------

    def _sort(self, raws: list[RawMessage]) -> tuple[list[Work], set[str]]:
        """The round's matching messages, as work; the rest stays held until the end.
        And the FIFO groups with a message that stays in the DLQ: what comes before it in
        the round is work (in order), what comes after is skipped, and later rounds skip
        the group."""
        fresh = []
        for raw in raws:
            message_id = raw["MessageId"]
            if message_id in self.sent_ids:
                self.tally.came_back += 1  # a copy of this run failed again: leave it
            elif message_id in self._copied_not_deleted:
                continue  # copied already; its failed delete was reported
            elif self.feed.fifo and raw.get("Attributes", {}).get("MessageGroupId") in (
                self.broken_groups
            ):
                continue  # its group stopped earlier in this run
            else:
                fresh.append(raw)
        matched = {s.message.message_id: s for s in self.select(fresh)}
        work: list[Work] = []
        stopped_here: set[str] = set()  # FIFO groups that stop in this round
        for raw in fresh:
            group = raw.get("Attributes", {}).get("MessageGroupId") if self.feed.fifo else None
            selected = matched.get(raw["MessageId"])
            if selected is None:
                if group:
                    stopped_here.add(group)  # an earlier message stays: the group waits
                continue
            self.tally.selected += 1
            if group and group in stopped_here:
                self._fail(
                    selected.message.message_id,
                    "skipped",
                    f"an earlier message of group {group} stays in the DLQ; order is kept",
                )
                continue
            try:
                prepared = self.action.prepare(selected, str(raw.get("ReceiptHandle", "")))
            except DlqctlError as exc:  # e.g. a target refused by preflight: nothing sent
                why = f"not sent: {exc.message}"
                self._fail(selected.message.message_id, "skipped", why)
                self._leave(work, why=why)
                raise
            if isinstance(prepared, str):
                self._fail(selected.message.message_id, "refused", prepared)
                if group:
                    stopped_here.add(group)
                continue
            work.append(prepared)
        return work, stopped_here

    # -- acting ----------------------------------------------------------------------

    def _act(self, work: list[Work]) -> None:
        try:
            for wave in self._waves(work):
                for round_ in _chunks(list(self._batches(wave)), self._lanes()):
                    if self.stop.is_set():
                        self.stopped_because = stop_reason(self.stop)
                    if self.stopped_because is not None:
                        break
                    self._move_round(round_)
                    self.stopped_because = self.stopped_because or self.watch()
                if self.stopped_because is not None:
                    break
        except BaseException:
            self._finish_round()  # what went out is deleted and recorded, then the error
            raise
        else:
            fatal = self._finish_round()
            if fatal is not None:
                self.stopped_because = self.stopped_because or f"error: {fatal.message}"
                raise fatal
        finally:
            self._leave(item for item in work if not item.done)

    def _waves(self, work: list[Work]) -> Iterator[list[Work]]:
        """Standard: one wave. FIFO: the i-th message of every group, i = 0, 1, …, so a
        message goes only once its group's previous one was accepted."""
        if not self.action.ordered:
            yield work
            return
        chains: dict[str | None, list[Work]] = {}
        for item in work:
            chains.setdefault(item.group, []).append(item)
        depth = max((len(chain) for chain in chains.values()), default=0)
        for i in range(depth):
            wave = []
            for group, chain in chains.items():
                if i >= len(chain):
                    continue
                if group in self.broken_groups:
                    self._fail(
                        chain[i],
                        "skipped",
                        f"an earlier message of group {group} was not moved; order is kept",
                    )
                else:
                    wave.append(chain[i])
            if wave:
                yield wave

    def _lanes(self) -> int:
        return max(1, self.pace.lanes)

    def _batches(self, wave: list[Work]) -> Iterator[list[Work]]:
        """Runs for one target, at most --batch-size and one payload limit each; a FIFO
        wave holds one message per group already."""
        open_batches: dict[str, tuple[list[Work], int]] = {}
        for item in wave:
            batch, payload = open_batches.get(item.target_key, ([], 0))
            if batch and (
                len(batch) >= self.pace.batch_size
                or payload + item.size > self.action.payload_limit(item)
            ):
                yield batch
                batch, payload = [], 0
            batch.append(item)
            open_batches[item.target_key] = (batch, payload + item.size)
        for batch, _ in open_batches.values():
            if batch:
                yield batch

    def _move_round(self, round_: list[list[Work]]) -> None:
        if self.pace.bucket:
            self.pause(self.pace.bucket.reserve(sum(len(batch) for batch in round_)))
        if self.pace.fifo_spread_s:
            self.pause(self.rng.uniform(0, self.pace.fifo_spread_s))
        if self.stop.is_set():  # Ctrl-C during a pause: nothing of this round went out
            self.stopped_because = stop_reason(self.stop)
            self._leave([w for batch in round_ for w in batch])
            return
        round_ = self._still_holding(round_)
        if not round_:
            return
        if self.journal:  # intent first, one fsync a round: a crash mid-send is on record
            self.journal.record_all(
                "sending", [{"message_ids": [w.message_id for w in batch]} for batch in round_]
            )
        ordered = cast(OrderedAction, self.action) if self.action.ordered else None
        call = ordered.send if ordered else self.action.move
        outcomes, interrupted = self._gather([self._pool.submit(call, batch) for batch in round_])
        fatal: DlqctlError | None = None
        unexpected: BaseException | None = None
        for batch, outcome in zip(round_, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                unexpected = unexpected or outcome
                self._leave(batch, why=f"its outcome is unknown (it may have been sent): {outcome}")
                continue
            if ordered:
                # The next wave must know now which groups stopped; the batch is recorded
                # once its delete is done, at the end of the round.
                for failure in outcome.failed:
                    self._break(by_entry_group(batch, failure.message_id))
                self._unfinished.append((batch, outcome))
            else:
                self._record(batch, outcome)
            fatal = fatal or outcome.fatal
        self._flush()
        if interrupted is not None:
            raise interrupted
        if unexpected is not None:
            raise unexpected
        if fatal is not None:
            self.stopped_because = f"error: {fatal.message}"
            raise fatal

    def _gather(
        self, futures: list[Future[BatchOutcome]]
    ) -> tuple[list[BatchOutcome | BaseException], BaseException | None]:
        """Every lane's outcome (or its own error), waiting for all of them; and what was
        raised here meanwhile (Ctrl-C), to raise once every lane is recorded."""
        outcomes: list[BatchOutcome | BaseException] = []
        interrupted: BaseException | None = None
        for future in futures:
            # A lane's own error is recorded and raised later; the wait goes on through
            # a Ctrl-C, since the lane's batch is in the air.
            interrupted = interrupted or wait_for(future)
            error = future.exception()
            outcomes.append(future.result() if error is None else error)
        return outcomes, interrupted

    def _finish_round(self) -> DlqctlError | None:
        """FIFO: delete what this round's waves sent (in parallel), record each batch;
        the first fatal error a delete met."""
        unfinished, self._unfinished = self._unfinished, []
        if not unfinished:
            return None
        ordered = cast(OrderedAction, self.action)
        results, interrupted = self._gather(
            [self._pool.submit(_finished, ordered, batch, outcome) for batch, outcome in unfinished]
        )
        fatal: DlqctlError | None = None
        for (batch, outcome), result in zip(unfinished, results, strict=True):
            if isinstance(result, BaseException):
                self._leave(batch, why=f"sent, but its delete's outcome is unknown: {result}")
                continue
            self._record(batch, outcome)
            fatal = fatal or outcome.fatal
        self._flush()
        if interrupted is not None:
            raise interrupted
        return fatal

    def _flush(self) -> None:
        """Make the round's batch records durable, before anything else is sent; and the
        selected messages that stay in the DLQ (refused, skipped, hold lost), in one
        `not_moved` record."""
        records, self._recorded = self._recorded, []
        stayed, self._not_moved = self._not_moved, []
        if self.journal:
            self.journal.record_all("batch", records)
            if stayed:
                self.journal.record("not_moved", messages=stayed)

    def _still_holding(self, round_: list[list[Work]]) -> list[list[Work]]:
        """Renew the holds if due; what lost its hold is not sent (SQS may hand it to
        someone else, and a copy would be a duplicate nobody counted)."""
        queue = self.queue
        if queue is None:
            return round_
        self._lose(queue.renew_if_due())
        kept = []
        for batch in round_:
            holding = []
            for item in batch:
                handle = queue.handle(item.message_id)
                if handle is None:
                    self._fail(item, "hold-lost", "its hold lapsed before it was sent")
                    self._break(item.group)
                else:
                    item.outgoing = item.outgoing.with_handle(handle)
                    holding.append(item)
            if holding:
                kept.append(holding)
        return kept

    def _lose(self, lost: set[str]) -> None:
        """Holds SQS refused to renew: those messages are visible again, not ours."""
        self.tally.holds_lost += len(lost)

    def _record(self, batch: list[Work], outcome: BatchOutcome) -> None:
        by_entry = {w.outgoing.entry_id: w for w in batch}
        for entry_id, new_id in outcome.sent.items():
            item = by_entry[entry_id]
            if new_id:
                self.sent_ids.add(new_id)
            self.recent_keys.append(item.key)
            if len(self.sent_order) < self.remember_first:
                self.sent_order.append((new_id, item.key))
        self.batches += 1
        self.processed += len(batch)
        for item in batch:
            item.done = True
        for entry_id in outcome.deleted:
            if self.queue:
                self.queue.forget(by_entry[entry_id].message_id)
        for entry_id in set(outcome.sent) - outcome.deleted:
            if self.queue and self.queue.handle(by_entry[entry_id].message_id):
                self._copied_not_deleted.add(by_entry[entry_id].message_id)
        self.tally.sent += len(outcome.sent)
        self.tally.deleted += len(outcome.deleted)
        self.tally.failed.extend(outcome.failed)
        self.tally.possible_duplicates += outcome.possible_duplicates
        for failure in outcome.failed:
            if failure.stage in ("send", "failed-again"):
                self._break(by_entry_group(batch, failure.message_id))
            self.tally.failed_again += failure.stage == "failed-again"
        if self.journal:
            self._recorded.append(self.action.journal_fields(batch, outcome))
        if self.on_progress:
            self.on_progress(self.processed, self.progress_total)

    def _break(self, group: str | None) -> None:
        if group and self.feed.fifo:
            self.broken_groups.add(group)

    def _fail(self, item: Work | str, stage: Any, reason: str) -> None:
        if isinstance(item, Work):
            item.done = True
            message_id = item.message_id
        else:
            message_id = item
        self.tally.failed.append(FailedEntry(message_id=message_id, stage=stage, reason=reason))
        # The journal names every selected message that stayed, and why, not only counts.
        self._not_moved.append({"message_id": message_id, "stage": stage, "reason": reason})

    def _leave(self, work: Iterable[Work], *, why: str | None = None) -> None:
        """Selected work the run did not get to: it stays in the DLQ, and is reported."""
        for item in list(work):
            reason = why or (
                f"not sent: the run stopped ({self.stopped_because})"
                if self.stopped_because
                else "not sent: the run stopped before it got there"
            )
            self._fail(item, "skipped", reason)
            self._break(item.group)

    # -- waiting ---------------------------------------------------------------------

    def pause(self, seconds: float) -> None:
        """Sleep, renewing the holds often enough that none lapses meanwhile; a stop ends
        the sleep at once (Ctrl-C during a --rate wait or a canary wait)."""
        queue = self.queue
        slice_s = max(1.0, queue.hold_s * 0.3) if queue else max(seconds, 0.0)
        # Real time waits on the stop signal itself; an injected sleep (tests) is called.
        wait = self.stop.wait if self.sleep is time.sleep else self.sleep
        remaining = seconds
        while remaining > 0 and not self.stop.is_set():
            step = min(slice_s, remaining)
            wait(step)
            remaining -= step
            if queue:
                self._lose(queue.renew_if_due())


def _finished(action: OrderedAction, batch: list[Work], outcome: BatchOutcome) -> BatchOutcome:
    action.finish(batch, outcome)
    return outcome


def by_entry_group(batch: list[Work], message_id: str) -> str | None:
    return next((w.group for w in batch if w.message_id == message_id), None)


def _chunks(items: list[list[Work]], size: int) -> list[list[list[Work]]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
