"""The queues themselves: messages, visibility, counts — with no work that grows with depth.

moto's SQS walks every message of a queue on each receive (design §6), which is why it
cannot hold the 100,000-message DLQs that issue 6 measures. Here each queue keeps:

- a deque of visible messages, taken from the left (receive) and appended on the right
  (sent, released, or hold expired), so a receive of 10 touches about 10 messages;
- one heap of "invisible until" times (holds and delays), drained lazily at each request,
  so each expiry costs O(log n) once, whatever the depth;
- exact counters per state, so GetQueueAttributes is O(1).

Stale entries (a deleted message still in the deque, a hold that was extended) are left
in place and skipped when reached, instead of being searched for.

Semantics follow SQS's documentation where moto differs: a receipt handle belongs to one
receive, so an older handle no longer changes visibility (ReceiptHandleIsInvalid) and
deleting with it succeeds without deleting (SQS: "the request succeeds, but the message
might not be deleted"); releasing a message whose hold already lapsed is refused
(MessageNotInflight). Standard queues only: FIFO groups and deduplication are not modelled.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"
MAX_VISIBILITY_S = 43_200
MAX_DELAY_S = 900
MAX_RECEIVE = 10

VISIBLE, IN_FLIGHT, DELAYED, DELETED = range(4)

# Real receipt handles are a few hundred opaque characters, and a client serialises them
# back in every release and delete: pad ours to that length so its cost is realistic.
_HANDLE_PADDING = "A" * 300

# What CreateQueue gives a queue when it is not told otherwise (as SQS and moto 5.2.5 do).
DEFAULT_ATTRIBUTES = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}

Attributes = dict[str, dict[str, Any]]  # message attributes, as the JSON protocol carries them


class SqsError(Exception):
    """An error answer. `code` is the JSON protocol's __type, `query_code` the older name
    SQS sends beside it (x-amzn-query-error), which botocore reports as Error.Code."""

    def __init__(
        self, code: str, message: str, *, query_code: str | None = None, status: int = 400
    ) -> None:
        super().__init__(message)
        self.code = code
        self.query_code = query_code or code
        self.message = message
        self.status = status

    @property
    def sender_fault(self) -> bool:
        return self.status < 500


def invalid_parameter(message: str) -> SqsError:
    return SqsError("InvalidParameterValue", message)


def queue_missing() -> SqsError:
    return SqsError(
        "QueueDoesNotExist",
        "The specified queue does not exist.",
        query_code="AWS.SimpleQueueService.NonExistentQueue",
    )


class Message:
    """One message. Seeded messages keep no body: it is rebuilt from `index` when received,
    so a 100,000-message queue costs a few MiB of the benchmark process, not 100+."""

    __slots__ = (
        "attributes",
        "body",
        "first_receive_ms",
        "generation",
        "index",
        "receive_count",
        "sent_ms",
        "state",
        "system",
        "visible_at",
    )

    def __init__(
        self,
        index: int,
        body: str | None,
        attributes: Attributes,
        system: Mapping[str, str],
        sent_ms: int,
        receive_count: int = 0,
    ) -> None:
        self.index = index
        self.body = body
        self.attributes = attributes  # may be shared between seeded messages: never mutated
        self.system = system
        self.sent_ms = sent_ms
        self.receive_count = receive_count
        self.first_receive_ms = 0
        self.generation = 0  # bumped by each receive: a receipt handle names one generation
        self.state = VISIBLE
        self.visible_at = 0.0


@dataclass(frozen=True)
class Seed:
    """How to rebuild the content of seeded messages from their index."""

    body: Callable[[int], str]
    attributes: Callable[[int], Attributes]
    system: Mapping[str, str]


class Queue:
    def __init__(
        self, service: SqsService, name: str, attributes: Mapping[str, str], created: float
    ) -> None:
        self.service = service
        self.name = name
        self.url = f"https://sqs.{service.region}.amazonaws.com/{ACCOUNT}/{name}"
        self.arn = f"arn:aws:sqs:{service.region}:{ACCOUNT}:{name}"
        self.attributes = {**DEFAULT_ATTRIBUTES, **attributes}
        self.created = created
        self.changed = service.condition()  # long polls wait on it; sends and releases wake it
        self.waiting = 0  # long polls waiting: notify only then (notify_all is not free)
        # Message ids are a per-queue random prefix and the index: unique, uuid-shaped, and
        # derived on demand instead of stored.
        self._salt = service.rng.getrandbits(96) << 32
        self._tag = f"{self._salt >> 96:08x}"
        self._messages: list[Message | None] = []  # by index; None once deleted
        self._visible: deque[Message] = deque()
        self._timers: list[tuple[float, int, int, Message]] = []  # (at, seq, generation, msg)
        self._seq = itertools.count()
        self._seeds: list[tuple[int, Seed]] = []  # (first index, how to rebuild)
        self.counts = [0, 0, 0]  # visible, in flight, delayed

    # -- reading ---------------------------------------------------------------------

    @property
    def visibility_timeout_s(self) -> int:
        return int(self.attributes["VisibilityTimeout"])

    @property
    def max_message_size(self) -> int:
        return int(self.attributes["MaximumMessageSize"])

    def attribute_values(self, now: float) -> dict[str, str]:
        self.tick(now)
        return {
            "ApproximateNumberOfMessages": str(self.counts[VISIBLE]),
            "ApproximateNumberOfMessagesDelayed": str(self.counts[DELAYED]),
            "ApproximateNumberOfMessagesNotVisible": str(self.counts[IN_FLIGHT]),
            "CreatedTimestamp": str(int(self.created)),
            "LastModifiedTimestamp": str(int(self.created)),
            "QueueArn": self.arn,
            **self.attributes,
        }

    def redrive_target(self) -> str | None:
        policy = self.attributes.get("RedrivePolicy")
        if not policy:
            return None
        return str(json.loads(policy).get("deadLetterTargetArn", "")) or None

    def message_id(self, message: Message) -> str:
        return str(uuid.UUID(int=self._salt | message.index, version=4))

    def body(self, message: Message) -> str:
        if message.body is not None:
            return message.body
        return self._seed_of(message.index).body(message.index)

    def receipt_handle(self, message: Message) -> str:
        return f"{self._tag}.{message.index}.{message.generation}.{_HANDLE_PADDING}"

    def _seed_of(self, index: int) -> Seed:
        for first, seed in reversed(self._seeds):
            if index >= first:
                return seed
        raise AssertionError(f"message {index} has neither a body nor a seed")

    # -- changing --------------------------------------------------------------------

    def send(
        self,
        body: str,
        attributes: Attributes,
        system: Mapping[str, str],
        delay_s: int,
        now: float,
        now_ms: int,
    ) -> Message:
        message = Message(len(self._messages), body, attributes, system, now_ms)
        self._messages.append(message)
        self._enqueue(message, delay_s, now)
        return message

    def seed(
        self, count: int, seed: Seed, sent_ms: Callable[[int], int], receive_count: int
    ) -> None:
        """Add `count` messages at once, bodies rebuilt on demand (no requests, no latency)."""
        first = len(self._messages)
        self._seeds.append((first, seed))
        for index in range(first, first + count):
            message = Message(
                index, None, seed.attributes(index), seed.system, sent_ms(index), receive_count
            )
            self._messages.append(message)
            self._visible.append(message)
        self.counts[VISIBLE] += count
        if self.waiting:
            self.changed.notify_all()

    def _enqueue(self, message: Message, delay_s: int, now: float) -> None:
        if delay_s:
            message.state = DELAYED
            self.counts[DELAYED] += 1
            self._set_timer(message, now + delay_s)
        else:
            self._make_visible(message)

    def _make_visible(self, message: Message) -> None:
        if message.state != VISIBLE:
            self.counts[message.state] -= 1
        message.state = VISIBLE
        self.counts[VISIBLE] += 1
        self._visible.append(message)
        if self.waiting:
            self.changed.notify_all()

    def _set_timer(self, message: Message, at: float) -> None:
        message.visible_at = at
        heapq.heappush(self._timers, (at, next(self._seq), message.generation, message))

    def tick(self, now: float) -> None:
        """Make visible what is due: lapsed holds and elapsed delays."""
        timers = self._timers
        while timers and timers[0][0] <= now:
            at, _, generation, message = heapq.heappop(timers)
            current = message.generation == generation and message.visible_at == at
            if current and message.state in (IN_FLIGHT, DELAYED):
                self._make_visible(message)

    def next_timer(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def take(self, limit: int, visibility_s: int, now: float, now_ms: int) -> list[Message]:
        """Receive up to `limit` visible messages and hold them for `visibility_s`."""
        self.tick(now)
        taken: list[Message] = []
        visible = self._visible
        while visible and len(taken) < limit:
            message = visible.popleft()
            if message.state != VISIBLE:
                continue  # deleted while visible: skipped here rather than searched for
            message.state = IN_FLIGHT
            self.counts[VISIBLE] -= 1
            self.counts[IN_FLIGHT] += 1
            message.generation += 1
            message.receive_count += 1
            message.first_receive_ms = message.first_receive_ms or now_ms
            self._set_timer(message, now + visibility_s)
            taken.append(message)
        return taken

    def _held(self, handle: str) -> Message | None:
        """The message a receipt handle names, if it is well formed; None if deleted."""
        tag, index_text, generation_text, *_ = [*handle.split(".", 3), "", ""]
        if tag != self._tag or not index_text.isdigit() or not generation_text.isdigit():
            raise SqsError("ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
        index = int(index_text)
        if index >= len(self._messages):
            raise SqsError("ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
        message = self._messages[index]
        if message is not None and message.generation != int(generation_text):
            raise _Stale(message)
        return message

    def change_visibility(self, handle: str, timeout_s: int, now: float) -> None:
        check_visibility(timeout_s)
        self.tick(now)
        try:
            message = self._held(handle)
        except _Stale:
            raise SqsError(
                "ReceiptHandleIsInvalid",
                "The receipt handle has expired: the message was received again since.",
            ) from None
        if message is None or message.state != IN_FLIGHT:
            raise SqsError(
                "MessageNotInflight",
                "The message referred to isn't in flight.",
                query_code="AWS.SimpleQueueService.MessageNotInflight",
            )
        if timeout_s == 0:
            message.visible_at = now
            self._make_visible(message)
        else:
            self._set_timer(message, now + timeout_s)

    def delete(self, handle: str) -> None:
        try:
            message = self._held(handle)
        except _Stale:
            return  # SQS: an older handle's delete succeeds but may not delete
        if message is None:
            return  # already deleted: deleting again succeeds
        if message.state != DELETED:
            self.counts[message.state] -= 1
        message.state = DELETED
        self._messages[message.index] = None  # free it; the deque and heap skip it later


class _Stale(Exception):
    def __init__(self, message: Message) -> None:
        self.message = message


def check_visibility(timeout_s: int) -> None:
    if not 0 <= timeout_s <= MAX_VISIBILITY_S:
        raise invalid_parameter(
            f"Value {timeout_s} for parameter VisibilityTimeout is invalid. "
            f"Reason: must be between 0 and {MAX_VISIBILITY_S}."
        )


class SqsService:
    """Every queue of one simulated account and region; all state behind one lock."""

    def __init__(
        self,
        region: str = "us-east-1",
        *,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        self.region = region
        self.clock = clock
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.queues: dict[str, Queue] = {}

    def condition(self) -> threading.Condition:
        return threading.Condition(self.lock)

    def create_queue(self, name: str, attributes: Mapping[str, str] | None = None) -> Queue:
        attributes = dict(attributes or {})
        if name.endswith(".fifo") or attributes.get("FifoQueue") == "true":
            raise SqsError(
                "InvalidAttributeValue", "the simulator models standard queues only, not FIFO"
            )
        existing = self.queues.get(name)
        if existing is not None:
            if any(existing.attributes.get(k) != v for k, v in attributes.items()):
                raise SqsError(
                    "QueueNameExists",
                    "The specified queue already exists.",
                    query_code="QueueAlreadyExists",
                )
            return existing
        queue = Queue(self, name, attributes, self.clock())
        self.queues[name] = queue
        return queue

    def queue(self, name: str, account: str | None = None) -> Queue:
        queue = self.queues.get(name)
        if queue is None or (account and account != ACCOUNT):
            raise queue_missing()
        return queue

    def queue_at(self, url: str) -> Queue:
        """The queue a QueueUrl names; like SQS, the host part is not checked."""
        account, _, name = url.rstrip("/").rpartition("/")
        return self.queue(name, account.rpartition("/")[2])

    def sources_of(self, queue: Queue) -> list[Queue]:
        return [q for q in self.queues.values() if q.redrive_target() == queue.arn]

    def seed(
        self,
        name: str,
        count: int,
        seed: Seed,
        *,
        sent_ms: Callable[[int], int],
        receive_count: int = 0,
    ) -> Queue:
        """Fill a queue directly, without requests: setting up 100,000 messages should not
        take 10,000 simulated round trips."""
        with self.lock:
            queue = self.queue(name)
            queue.seed(count, seed, sent_ms, receive_count)
            return queue
