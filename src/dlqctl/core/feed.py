"""Where a destructive run's messages come from: a DLQ it holds, or an export file.

A `QueueFeed` receives in rounds of up to `lanes` receives at once, each sized to what the
run still wants, and keeps a book of what it holds: message id → latest receipt handle.
The book holds only what the run has not finished with (matched messages in hand, and
the ones it leaves in the queue), so its size never grows with what was moved. Holds are
renewed before they lapse; a renewal SQS refuses means the hold is gone, and the engine
must not act on that message. Everything still held is released when the run ends.
A receive at a queue whose in-flight quota is full raises InFlightLimitError (OverLimit,
or empty rounds while messages are visible), which the engine turns into a stop.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from dlqctl.aws.sqs import RawMessage, SqsGateway
from dlqctl.core.scan import check_not_full, gather, highest_count, lane_sizes
from dlqctl.errors import DlqctlError
from dlqctl.models import Coverage

ROUNDS_OF_EMPTY_RECEIVES_TO_STOP = 2
RENEW_AT = 0.6  # of the hold: renew before the hold lapses, with time for a slow answer


@dataclass
class Round:
    """One round of receives in the air: a future per lane (none once the feed ended),
    and when it was sent (its holds run from then)."""

    futures: list[Future[list[RawMessage]]] = field(default_factory=list)
    sent_at: float = 0.0


class QueueFeed:
    fifo: bool

    def __init__(
        self,
        sqs: SqsGateway,
        url: str,
        *,
        fifo: bool,
        visible_at_start: int,
        depth: int,
        max_receive: int,
        hold_s: int,
        wait_s: int,
        lanes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sqs = sqs
        self.url = url
        self.fifo = fifo
        self.visible_at_start = visible_at_start
        self.depth = depth
        self.max_receive = max_receive
        self.hold_s = hold_s
        self.wait_s = wait_s
        self.lanes = max(1, lanes)
        self.clock = clock
        self.received = 0  # distinct messages received
        self.redelivered = 0  # a message received again while held (at-least-once)
        self.release_refused = 0
        self.release_failed = 0  # could not be released: visible again when the hold lapses
        self.highest_receive_count: int | None = None
        self.ended_because: str | None = None
        self._held: dict[str, str] = {}
        self._renewed_at = clock()
        self._empty_rounds = 0
        self._pool: ThreadPoolExecutor | None = None
        self._in_air: Round | None = None  # receives sent and not yet collected

    @property
    def held(self) -> int:
        return len(self._held)

    def receive(self, wanted: int) -> list[RawMessage]:
        """One round: up to `wanted` new messages (fewer lanes for a small want), each held.
        Empty once the feed has ended (`ended_because` says why)."""
        return self.collect(self.start(wanted))

    def start(self, wanted: int) -> Round:
        """Send one round's receives and return at once, so the caller can do other work
        while they are in the air (the engine acts on the previous round meanwhile).
        Nothing is booked until `collect`, on the caller's thread: the book is never
        written by two threads."""
        if self.ended_because is None:
            self.ended_because = self._end_reason()
        if self.ended_because is not None or wanted <= 0:
            return Round()
        sizes = lane_sizes(min(wanted, self.max_receive - self.received), self.lanes)
        if self._pool is None:  # kept across rounds: starting 16 threads a round costs
            self._pool = ThreadPoolExecutor(self.lanes, thread_name_prefix="receive")
        # Tracked before the first lane goes out, so that whatever happens next (Ctrl-C
        # between two lanes, a run that ends before it takes the round), `release`
        # finds the round and books what it brings.
        round_ = self._in_air = Round(sent_at=self.clock())
        for size in sizes:
            round_.futures.append(self._pool.submit(self._receive, size))
        return round_

    def collect(self, round_: Round, *, seen: bool = True) -> list[RawMessage]:
        """The round's new messages, booked as held. Waits for every lane, also when
        interrupted meanwhile (Ctrl-C), which it raises afterwards: a message received and
        not booked would stay hidden until its hold lapsed. When a lane failed (its error
        is raised), when interrupted, or with `seen=False` (a round the run ends before
        looking at), the other lanes' messages are booked for the release only: the run
        did not look at them, and its report does not count them as received."""
        batches, error = gather(round_.futures)
        raws = [raw for batch in batches for raw in batch]
        if error is not None or not seen:
            self._held.update((raw["MessageId"], raw["ReceiptHandle"]) for raw in raws)
        if self._in_air is round_:
            self._in_air = None
        if error is not None:
            raise error
        if not seen or not round_.futures:
            return []
        # Its holds began when it was sent, maybe before the last renewal: renew by then.
        self._renewed_at = min(self._renewed_at, round_.sent_at)
        fresh = list(self._hold(raws))
        self._empty_rounds = 0 if any(batches) else self._empty_rounds + 1
        if self._empty_rounds >= ROUNDS_OF_EMPTY_RECEIVES_TO_STOP:
            check_not_full(self.sqs, self.url)
            self.ended_because = "end of queue"
        return fresh

    def _receive(self, size: int) -> list[RawMessage]:
        return self.sqs.receive(
            self.url, max_messages=size, wait_s=self.wait_s, visibility_s=self.hold_s
        )

    def _hold(self, batch: list[RawMessage]) -> Iterator[RawMessage]:
        for raw in batch:
            self.highest_receive_count = highest_count(self.highest_receive_count, raw)
            message_id = raw["MessageId"]
            again = message_id in self._held
            self._held[message_id] = raw["ReceiptHandle"]  # the latest handle is the one
            if again:
                self.redelivered += 1
            else:
                self.received += 1
                yield raw

    def _end_reason(self) -> str | None:
        if self.received >= self.max_receive:
            return f"scan ceiling ({self.max_receive} messages; raise --max-scan)"
        return None

    def handle(self, message_id: str) -> str | None:
        """The receipt handle the run holds the message by; None once the hold is gone."""
        return self._held.get(message_id)

    def renew_if_due(self) -> set[str]:
        """Renew every hold that would lapse soon; the ids whose hold SQS refused (lost)."""
        if self.clock() - self._renewed_at < self.hold_s * RENEW_AT or not self._held:
            return set()
        return self.renew()

    def renew(self, hold_s: int | None = None) -> set[str]:
        self.hold_s = hold_s or self.hold_s
        by_handle = {handle: message_id for message_id, handle in self._held.items()}
        refused = self.sqs.change_visibility(
            self.url, list(by_handle), self.hold_s, lanes=self.lanes
        )
        self._renewed_at = self.clock()
        lost = {by_handle[handle] for handle in refused if handle in by_handle}
        for message_id in lost:
            del self._held[message_id]
        return lost

    def forget(self, message_id: str) -> None:
        """The message left the queue: nothing to hold or release any more."""
        self._held.pop(message_id, None)

    def release(self) -> None:
        """Make every held message visible again. Safe to call twice. A release that
        fails is reported, never raised: the run's report matters more, and SQS makes
        those messages visible by itself when their hold lapses. A round still in the
        air (the run ended before it took it) is waited for and booked first; a Ctrl-C
        meanwhile is raised once everything is released."""
        interrupted: BaseException | None = None
        try:
            with contextlib.suppress(Exception):  # booked before raised; the run is over
                if self._in_air is not None:
                    self.collect(self._in_air, seen=False)
        except BaseException as exc:  # Ctrl-C while waiting: raised once all is released
            interrupted = exc
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        handles = list(self._held.values())
        self._held.clear()
        try:
            if handles:
                self.release_refused += len(
                    self.sqs.change_visibility(self.url, handles, 0, lanes=self.lanes)
                )
        except DlqctlError:
            self.release_failed += len(handles)
        if interrupted is not None:
            raise interrupted

    def coverage(self, run_stopped_because: str | None = None) -> Coverage:
        stopped = self.ended_because or run_stopped_because or "the run stopped first"
        return Coverage(
            scanned=self.received,
            approximate_depth=self.depth,
            complete=stopped == "end of queue",
            stopped_because=stopped,
            highest_receive_count=self.highest_receive_count,
        )


class FileFeed:
    """An export file being replayed: nothing to hold, nothing to delete."""

    def __init__(self, raws: Iterator[RawMessage], *, fifo: bool, label: str) -> None:
        self._raws = raws
        self.fifo = fifo
        self.label = label
        self.received = 0
        self.ended_because: str | None = None

    def messages(self) -> Iterator[RawMessage]:
        """Every record, one at a time (a plan reads as far as it needs)."""
        while batch := self.receive(1):
            yield from batch

    def receive(self, wanted: int) -> list[RawMessage]:
        batch: list[RawMessage] = []
        while len(batch) < wanted and self.ended_because is None:
            raw = next(self._raws, None)
            if raw is None:
                self.ended_because = "end of file"
            else:
                batch.append(raw)
        self.received += len(batch)
        return batch

    def coverage(self, run_stopped_because: str | None = None) -> Coverage:
        stopped = self.ended_because or run_stopped_because or "the run stopped first"
        return Coverage(
            scanned=self.received,
            approximate_depth=self.received,
            complete=self.ended_because == "end of file",
            stopped_because=stopped,
        )
