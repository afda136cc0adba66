"""Hold-and-release scanning: SQS has no peek (design §2).

Each receive holds what it returns (a visibility timeout), so the next receive returns
new messages. When the scan ends — normally, on an error or on Ctrl-C — everything still
held is released (visibility 0). Should dlqctl die, SQS releases it when the hold ends.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from dlqctl.aws.errors import in_flight_limit
from dlqctl.aws.sqs import SQS_BATCH_MAX, RawMessage, SqsGateway
from dlqctl.core.lanes import wait_for
from dlqctl.models import QueueInfo

ProgressCallback = Callable[[int, int], None]

# SQS's in-flight quota per queue, standard and FIFO alike (the standard and FIFO quotas
# pages: "approximately 120,000" and 120,000). A scan holds what it sees, so it must stay
# under it, with room for the queue's consumers. Past it SQS answers a short poll with
# OverLimit, and a long poll (and any receive on a FIFO queue) with nothing at all.
IN_FLIGHT_QUOTA = 120_000
IN_FLIGHT_HEADROOM = 0.9

MIN_HOLD_S = 30
MAX_HOLD_S = 43_200  # SQS's ceiling for a visibility timeout
# A conservative single-lane receive rate; holds are sized so a scan finishes inside one.
ASSUMED_SCAN_RATE = 100


@dataclass(frozen=True)
class ScanLimits:
    max_scan: int = 10_000
    wait_s: int = 1
    empty_receives_to_stop: int = 2
    hold_s: int | None = None
    lanes: int = 1  # receives in flight at once

    def hold_for(self, expected: int) -> int:
        if self.hold_s is not None:
            return self.hold_s
        return min(MAX_HOLD_S, MIN_HOLD_S + math.ceil(expected / ASSUMED_SCAN_RATE))


def in_flight_room(queue: QueueInfo) -> int:
    """How many more messages may be held in `queue` without nearing SQS's quota."""
    return room_left(queue.in_flight)


def room_left(in_flight: int) -> int:
    """The in-flight room of a queue with `in_flight` messages in flight (its
    ApproximateNumberOfMessagesNotVisible): the quota, less a tenth for the queue's other
    readers, less those. Read at call time, so a test can scale the quota down."""
    return int(IN_FLIGHT_QUOTA * IN_FLIGHT_HEADROOM) - in_flight


def check_not_full(sqs: SqsGateway, url: str) -> None:
    """After receives that came back empty: raise if that was the in-flight quota, not
    the end of the queue. SQS answers a long poll on a full queue with nothing (the
    standard quotas page) and a FIFO queue never answers OverLimit (the FIFO quotas page),
    so only its counts tell "empty" from "full": messages visible, yet no room left."""
    attributes = sqs.attributes(url)
    visible = int(attributes.get("ApproximateNumberOfMessages", 0))
    if visible and room_left(int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))) <= 0:
        raise in_flight_limit(url)


def highest_count(highest: int | None, raw: RawMessage) -> int | None:
    """The higher of `highest` and the message's ApproximateReceiveCount."""
    count = raw.get("Attributes", {}).get("ApproximateReceiveCount")
    if count is None or not str(count).isdigit():
        return highest
    return max(highest or 0, int(count))


def lane_sizes(wanted: int, lanes: int) -> list[int]:
    """A round's receive sizes: full batches, as many lanes as `wanted` needs (at most
    `lanes`), the last one for the remainder; one message at least."""
    used = max(1, min(lanes, math.ceil(wanted / SQS_BATCH_MAX)))
    return [max(1, min(SQS_BATCH_MAX, wanted - i * SQS_BATCH_MAX)) for i in range(used)]


def gather(
    futures: list[Future[list[RawMessage]]],
) -> tuple[list[list[RawMessage]], BaseException | None]:
    """Every lane's messages, once all have answered, and the first error: a lane's own,
    or one raised here while waiting (Ctrl-C), which does not end the wait — a message
    received and not booked would stay hidden until its hold lapsed."""
    batches: list[list[RawMessage]] = []
    failure: BaseException | None = None
    interrupted: BaseException | None = None
    for future in futures:
        interrupted = interrupted or wait_for(future)
        error = future.exception()
        if error is None:
            batches.append(future.result())
        else:
            failure = failure or error
    return batches, interrupted or failure


class Scan:
    """Receive-and-hold every message once; release on exit. Use as a context manager."""

    def __init__(
        self,
        sqs: SqsGateway,
        url: str,
        *,
        visible_at_start: int,
        limits: ScanLimits | None = None,
        on_progress: ProgressCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sqs = sqs
        self.url = url
        self.limits = limits or ScanLimits()
        # A FIFO queue hands a group's messages to one receive at a time; two receives in
        # flight race for the same group (on LocalStack a scan of one group of 15 saw 10,
        # or only 5, messages). So one receive at a time on FIFO.
        self.lanes = 1 if url.endswith(".fifo") else max(1, self.limits.lanes)
        self.visible_at_start = visible_at_start
        self.expected = min(visible_at_start, self.limits.max_scan)
        self.hold_s = self.limits.hold_for(self.expected)
        self.on_progress = on_progress
        self.clock = clock
        self.scanned = 0
        self.duplicates = 0
        self.stopped_because = "not started"
        self.release_refused = 0
        self.highest_receive_count: int | None = None
        self.look_warning: str | None = None  # about the DLQ's own redrive policy
        self._held: dict[str, str] = {}  # message id -> latest receipt handle
        self._hold_renewed_at = 0.0
        self._stop_requested: str | None = None
        self._ahead: list[Future[list[RawMessage]]] | None = None  # the next round, sent

    def __enter__(self) -> Scan:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.release()
            return
        if exc_type is KeyboardInterrupt:
            self.stopped_because = "interrupted"
        # The original error matters more than a failed release: SQS releases these
        # messages by itself when the hold ends.
        with contextlib.suppress(Exception):
            self.release()

    def stop(self, reason: str) -> None:
        """End the scan after the batch in hand (e.g. a limit was reached)."""
        self._stop_requested = reason
        self.stopped_because = reason

    @property
    def complete(self) -> bool:
        if self.stopped_because == "reached approximate depth":
            return True
        # A FIFO queue runs dry early when held messages block the rest of their groups.
        fifo_blocked = self.url.endswith(".fifo") and self.scanned < self.visible_at_start
        return self.stopped_because == "end of queue" and not fifo_blocked

    def messages(self) -> Iterator[RawMessage]:
        """Each message once, in the order SQS returns them.

        Receives go out in rounds of up to `lanes` at once (one on FIFO): SQS answers
        each in tens of milliseconds, so parallel receives, not a faster client, make a
        scan fast. With several lanes the next round goes out before this one is handed
        over, so its round trip overlaps the caller's work on this one.
        """
        empty = 0
        self._hold_renewed_at = self.clock()
        with ThreadPoolExecutor(self.lanes, thread_name_prefix="scan") as pool:
            try:
                while True:
                    if self._ahead is None:
                        reason = self._stop_reason(empty)
                        if reason:
                            self.stopped_because = reason
                            return
                        self.renew_hold_if_due()
                        self._send_round(pool, self.scanned)
                    elif self._stop_requested:  # asked while a round was out: it is released
                        return
                    batches, error = gather(self._ahead or [])
                    if error is not None:
                        # What the other lanes received is held: book it before the error
                        # ends the scan, so the release at the end covers it.
                        self._settle_ahead()
                        raise error
                    batch = [raw for lane in batches for raw in lane]
                    fresh = self._book(batch)
                    self._ahead = None
                    empty = 0 if batch else empty + 1
                    if batch and self.lanes > 1 and self._wants_more(self.scanned + len(fresh)):
                        self.renew_hold_if_due()
                        self._send_round(pool, self.scanned + len(fresh))
                    yield from self._hand_over(fresh)
            finally:
                self._settle_ahead()

    def _settle_ahead(self) -> None:
        """The scan ended with a round out (sent ahead): book what it received, for the
        release only (nobody looked at it). Also from `release`, since the generator may
        be closed only after the scan's context ends. A lane's error does not matter any
        more (the scan is over); a Ctrl-C while waiting is raised once it is booked."""
        ahead = self._ahead
        if ahead is None:
            return
        batches, error = gather(ahead)
        self._held.update((raw["MessageId"], raw["ReceiptHandle"]) for b in batches for raw in b)
        self._ahead = None
        if error is not None and not isinstance(error, Exception):
            raise error

    def _send_round(self, pool: ThreadPoolExecutor, scanned: int) -> None:
        """Send a round's receives; tracked (`_ahead`) before the first lane goes out, so
        whatever happens next, `release` finds the round and books what it brings."""
        round_: list[Future[list[RawMessage]]] = []
        self._ahead = round_
        for size in self._round_sizes(scanned):
            round_.append(pool.submit(self._receive, size))

    def _round_sizes(self, scanned: int) -> list[int]:
        """How many to ask for in each lane: no more than the scan still needs."""
        wanted = self.limits.max_scan - scanned
        if self.visible_at_start:
            wanted = min(wanted, max(SQS_BATCH_MAX, self.visible_at_start - scanned))
        return lane_sizes(wanted, self.lanes)

    def _wants_more(self, scanned: int) -> bool:
        """Whether, with `scanned` messages seen, the scan goes on (the limits only; an
        empty round's check is made when it comes)."""
        if self._stop_requested or scanned >= self.limits.max_scan:
            return False
        return not (self.visible_at_start and scanned >= self.visible_at_start)

    def _receive(self, size: int) -> list[RawMessage]:
        return self.sqs.receive(
            self.url, max_messages=size, wait_s=self.limits.wait_s, visibility_s=self.hold_s
        )

    def _book(self, batch: list[RawMessage]) -> list[RawMessage]:
        """Record every handle of the round before any is handed over: if the consumer
        stops mid-round, the rest of it must still be released. The round's new
        messages; one received again while held is held by its latest handle, shown once."""
        fresh = []
        for raw in batch:
            self.highest_receive_count = highest_count(self.highest_receive_count, raw)
            if raw["MessageId"] not in self._held:
                fresh.append(raw)
            self._held[raw["MessageId"]] = raw["ReceiptHandle"]  # the latest handle counts
        self.duplicates += len(batch) - len(fresh)  # at-least-once: hold, show once
        return fresh

    def _hand_over(self, fresh: list[RawMessage]) -> Iterator[RawMessage]:
        for raw in fresh:
            self.scanned += 1
            yield raw
        if self.on_progress:
            self.on_progress(self.scanned, self.expected)

    def _stop_reason(self, empty_receives: int) -> str | None:
        if self._stop_requested:
            return self._stop_requested
        if self.scanned >= self.limits.max_scan:
            return f"scan ceiling ({self.limits.max_scan} messages; raise --max-scan)"
        if self.visible_at_start and self.scanned >= self.visible_at_start:
            return "reached approximate depth"
        if empty_receives >= self.limits.empty_receives_to_stop:
            check_not_full(self.sqs, self.url)
            return "end of queue"
        return None

    def renew_hold_if_due(self) -> None:
        """Extend the hold before it lapses, so early messages do not come back mid-scan
        and a redrive's selection stays its own."""
        now = self.clock()
        if now - self._hold_renewed_at < self.hold_s * 0.6:
            return
        self.renew_hold(self.hold_s)

    def renew_hold(self, hold_s: int) -> None:
        """Hold everything still held for `hold_s` more seconds from now."""
        self.hold_s = hold_s
        if self._held:
            self.sqs.change_visibility(
                self.url, list(self._held.values()), hold_s, lanes=self.limits.lanes
            )
        self._hold_renewed_at = self.clock()

    def release(self) -> None:
        """Make every held message visible again. Safe to call twice. A Ctrl-C while a
        round sent ahead is waited for is raised once everything is released."""
        interrupted: BaseException | None = None
        try:
            self._settle_ahead()
        except BaseException as exc:
            interrupted = exc
        handles = list(self._held.values())
        self._held.clear()
        if handles:
            self.release_refused += len(
                self.sqs.change_visibility(self.url, handles, 0, lanes=self.limits.lanes)
            )
        if interrupted is not None:
            raise interrupted
