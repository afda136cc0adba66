"""The queues themselves: messages, visibility, counts — with no work that grows with depth.

moto's SQS walks every message of a queue on each receive (design §6), which is why it
cannot hold the 100,000-message DLQs that issue 6 measures. Here each standard queue keeps:

- a deque of visible messages, taken from the left (receive) and appended on the right
  (sent, released, or hold expired), so a receive of 10 touches about 10 messages;
- one heap of "invisible until" times (holds and delays), drained lazily at each request,
  so each expiry costs O(log n) once, whatever the depth;
- exact counters per state, so GetQueueAttributes is O(1).

A FIFO queue keeps the same heap and counters, but its visible messages live in their
message group (`Group`), and a heap of the groups a receive may take from (not held, head
visible), ordered by the age of their head: a receive pops the oldest group, takes as many
of its messages as it can, in order, and goes on to the next — O(batch · log groups).

Stale entries (a deleted message still in the deque, a hold that was extended, a group
whose head has changed) are left in place and skipped when reached, instead of being
searched for.

Semantics follow SQS's documentation where moto differs: a receipt handle belongs to one
receive, so an older handle no longer changes visibility (ReceiptHandleIsInvalid) and
deleting with it succeeds without deleting (SQS: "the request succeeds, but the message
might not be deleted"); releasing a message whose hold already lapsed is refused
(MessageNotInflight). FIFO queues lock a group while any of its messages is held, return a
group's messages in send order, deduplicate for 5 minutes (answering a duplicate with the
original's MessageId and SequenceNumber, even after the original was deleted) and number
messages with increasing 20-digit sequence numbers. A standard queue accepts a
MessageGroupId (fair queues) and returns it, with no effect on order. A redrive policy
moves a message to its dead-letter queue on the receive after maxReceiveCount, keeping its
MessageId, attributes and receive count; SentTimestamp is kept on standard queues and reset
on FIFO queues, as SQS documents ("for FIFO queues, the enqueue timestamp resets").
A queue holds at most `in_flight_limit` messages in flight (120,000, SQS's quota for both
kinds): a receive takes no more than the room left, and with none left it is refused with
OverLimit. Not modelled: retention, purge, high-throughput FIFO quotas,
ReceiveRequestAttemptId.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

ACCOUNT = "123456789012"
MAX_VISIBILITY_S = 43_200
MAX_DELAY_S = 900
MAX_RECEIVE = 10
DEDUPLICATION_WINDOW_S = 300
# SQS's quota of messages in flight per queue, standard and FIFO alike (the quotas page):
# past it ReceiveMessage answers OverLimit instead of holding more.
IN_FLIGHT_LIMIT = 120_000

VISIBLE, IN_FLIGHT, DELAYED, DELETED = range(4)
STATE_NAMES = ("visible", "in flight", "delayed")

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
FIFO_DEFAULT_ATTRIBUTES = {
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoQueue": "true",
    "FifoThroughputLimit": "perQueue",
}
_BOOLEAN_ATTRIBUTES = ("ContentBasedDeduplication", "FifoQueue")

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


class FifoMessage(Message):
    """A FIFO queue's message: its group, and its deduplication id (None when seeded: then
    the message id stands in). A subclass, so standard messages do not pay for the slots."""

    __slots__ = ("dedup_id", "group")

    def __init__(
        self,
        index: int,
        body: str | None,
        attributes: Attributes,
        system: Mapping[str, str],
        sent_ms: int,
        group: Group,
        dedup_id: str | None,
        receive_count: int = 0,
    ) -> None:
        super().__init__(index, body, attributes, system, sent_ms, receive_count)
        self.group = group
        self.dedup_id = dedup_id


class Group:
    """One message group of a FIFO queue, in delivery order: the messages that came back
    from a hold (`front`, a heap by index) before the ones never received (`rest`, in send
    order). A message is only ever received as its group's head, so every message of
    `front` was sent before all of `rest`; held messages are in neither, only counted."""

    __slots__ = ("front", "held", "id", "offered", "rest")

    def __init__(self, group_id: str) -> None:
        self.id = group_id
        self.front: list[tuple[int, FifoMessage]] = []
        self.rest: deque[FifoMessage] = deque()
        self.held = 0
        self.offered: int | None = None  # the head index last pushed to the ready heap


@dataclass(frozen=True)
class Seed:
    """How to rebuild the content of seeded messages from their index. `group` gives each
    one's MessageGroupId: required on a FIFO queue, optional (a fair queue) on a standard."""

    body: Callable[[int], str]
    attributes: Callable[[int], Attributes]
    system: Mapping[str, str]
    group: Callable[[int], str] | None = None


@dataclass(frozen=True)
class Stored:
    """A message as `Queue.contents` reports it, for tests' invariants."""

    message_id: str
    body: str
    group_id: str | None
    sequence_number: str | None
    deduplication_id: str | None
    state: str  # one of STATE_NAMES
    receive_count: int
    attributes: Attributes = field(default_factory=dict)  # as the JSON protocol carries them


class Queue:
    """A standard queue; FifoQueue changes how visible messages are kept and taken."""

    fifo = False

    def __init__(
        self, service: SqsService, name: str, attributes: Mapping[str, str], created: float
    ) -> None:
        self.service = service
        self.name = name
        base = service.url_base or f"https://sqs.{service.region}.amazonaws.com"
        self.url = f"{base}/{ACCOUNT}/{name}"
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
        # Ids of messages a redrive policy moved here: they keep the id they were sent with.
        self._moved_ids: dict[int, str] = {}
        self.counts = [0, 0, 0]  # visible, in flight, delayed
        self._dead_letter_arn, self._max_receive = _redrive_policy(
            self.attributes.get("RedrivePolicy")
        )

    # -- reading ---------------------------------------------------------------------

    @property
    def visibility_timeout_s(self) -> int:
        return int(self.attributes["VisibilityTimeout"])

    @property
    def max_message_size(self) -> int:
        return int(self.attributes["MaximumMessageSize"])

    @property
    def content_based_deduplication(self) -> bool:
        return self.attributes.get("ContentBasedDeduplication") == "true"

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
        return self._dead_letter_arn

    def message_id(self, message: Message) -> str:
        moved = self._moved_ids.get(message.index) if self._moved_ids else None
        return moved or str(uuid.UUID(int=self._salt | message.index, version=4))

    def body(self, message: Message) -> str:
        if message.body is not None:
            return message.body
        return self._seed_of(message.index).body(message.index)

    def system_attributes(self, message: Message) -> Mapping[str, str]:
        """What the message carries besides the attributes every message has (SenderId,
        SentTimestamp, the receive count): AWSTraceHeader, DeadLetterQueueSourceArn, ..."""
        if message.body is None:
            group = self._seed_of(message.index).group
            if group is not None:
                return {**message.system, "MessageGroupId": group(message.index)}
        return message.system

    def group_id(self, message: Message) -> str | None:
        return self.system_attributes(message).get("MessageGroupId")

    def dedup_id(self, message: Message) -> str | None:
        return None

    def sequence_number(self, message: Message) -> str | None:
        return None

    def receipt_handle(self, message: Message) -> str:
        return f"{self._tag}.{message.index}.{message.generation}.{_HANDLE_PADDING}"

    def contents(self) -> list[Stored]:
        """Every message the queue still holds, in send order (which, on a FIFO queue, is
        also each group's delivery order). O(depth): for tests, not for the bench's hot
        path. Takes the service lock, so do not call it while holding that lock."""
        with self.service.lock:
            self.tick(self.service.clock())
            return [
                Stored(
                    message_id=self.message_id(message),
                    body=self.body(message),
                    group_id=self.group_id(message),
                    sequence_number=self.sequence_number(message),
                    deduplication_id=self.dedup_id(message),
                    state=STATE_NAMES[message.state],
                    receive_count=message.receive_count,
                    attributes=message.attributes,
                )
                for message in self._messages
                if message is not None
            ]

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
        *,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> Message:
        """Enqueue one message; the message answered for (a FIFO duplicate answers with the
        original). `dedup_id` is for FIFO queues only: the caller refuses it here."""
        if group_id is not None:
            system = {**system, "MessageGroupId": group_id}
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

    def adopt(self, source: Queue, message: Message, now: float, now_ms: int) -> None:
        """Take in a message the source's redrive policy moves here."""
        system = {**source.system_attributes(message), "DeadLetterQueueSourceArn": source.arn}
        moved = Message(
            len(self._messages),
            source.body(message),
            message.attributes,
            system,
            message.sent_ms,
            message.receive_count,
        )
        self._arrive(moved, source.message_id(message), message.first_receive_ms, now)

    def _arrive(self, moved: Message, message_id: str, first_receive_ms: int, now: float) -> None:
        moved.first_receive_ms = first_receive_ms
        self._moved_ids[moved.index] = message_id
        self._messages.append(moved)
        self._enqueue(moved, 0, now)

    def _enqueue(self, message: Message, delay_s: int, now: float) -> None:
        if delay_s:
            message.state = DELAYED
            self.counts[DELAYED] += 1
            self._set_timer(message, now + delay_s)
        else:
            self._make_visible(message)

    def _count_visible(self, message: Message) -> int:
        """Count the message as visible; the state it leaves (VISIBLE for a new one)."""
        was = message.state
        if was != VISIBLE:
            self.counts[was] -= 1
        message.state = VISIBLE
        self.counts[VISIBLE] += 1
        return was

    def _make_visible(self, message: Message) -> None:
        self._count_visible(message)
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

    def in_flight_room(self, now: float) -> int:
        """How many more messages a receive may hold before the in-flight quota."""
        self.tick(now)
        return self.service.in_flight_limit - self.counts[IN_FLIGHT]

    def next_timer(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def take(self, limit: int, visibility_s: int, now: float, now_ms: int) -> list[Message]:
        """Receive up to `limit` visible messages and hold them for `visibility_s`."""
        self.tick(now)
        taken: list[Message] = []
        visible = self._visible
        redrive = self._max_receive is not None  # the common case pays no call per message
        while visible and len(taken) < limit:
            message = visible.popleft()
            if message.state != VISIBLE:
                continue  # deleted while visible: skipped here rather than searched for
            if redrive and self._dead_letter(message, now, now_ms):
                continue
            self._hold(message, visibility_s, now, now_ms)
            taken.append(message)
        return taken

    def _hold(self, message: Message, visibility_s: int, now: float, now_ms: int) -> None:
        message.state = IN_FLIGHT
        self.counts[VISIBLE] -= 1
        self.counts[IN_FLIGHT] += 1
        message.generation += 1
        message.receive_count += 1
        message.first_receive_ms = message.first_receive_ms or now_ms
        self._set_timer(message, now + visibility_s)

    def _dead_letter(self, message: Message, now: float, now_ms: int) -> bool:
        """Move the message to the dead-letter queue instead of receiving it, if this is
        the receive after maxReceiveCount. A target that does not exist (or is of the other
        kind, created after this queue) moves nothing, rather than losing the message."""
        if self._max_receive is None or message.receive_count < self._max_receive:
            return False
        target = self.service.queue_by_arn(self._dead_letter_arn or "")
        if target is None or target.fifo != self.fifo:
            return False
        target.adopt(self, message, now, now_ms)
        self._forget(message)
        return True

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
        self._forget(message)

    def _forget(self, message: Message) -> None:
        """Drop a message for good (deleted, or moved to the dead-letter queue); the deque
        and the heaps skip it when they reach it."""
        self.counts[message.state] -= 1
        message.state = DELETED
        self._messages[message.index] = None
        if self._moved_ids:
            self._moved_ids.pop(message.index, None)


class FifoQueue(Queue):
    fifo = True

    def __init__(
        self, service: SqsService, name: str, attributes: Mapping[str, str], created: float
    ) -> None:
        super().__init__(service, name, {**FIFO_DEFAULT_ATTRIBUTES, **attributes}, created)
        self._groups: dict[str, Group] = {}  # groups with messages, held or not
        self._ready: list[tuple[int, int, Group]] = []  # (head index, seq, group)
        # Deduplication ids seen in the last 5 minutes, and when each one expires, in the
        # order they will: expired ones are dropped from the left at each send.
        self._dedup: dict[str, tuple[float, FifoMessage]] = {}
        self._dedup_expiry: deque[tuple[float, str]] = deque()
        self._sequence_base = 10**19 + service.rng.getrandbits(60)  # 20 digits throughout
        self._per_group_dedup = self.attributes["DeduplicationScope"] == "messageGroup"

    # -- reading ---------------------------------------------------------------------

    def system_attributes(self, message: Message) -> Mapping[str, str]:
        return {
            **message.system,
            "MessageGroupId": cast(FifoMessage, message).group.id,
            "MessageDeduplicationId": self.dedup_id(message),
            "SequenceNumber": self.sequence_number(message),
        }

    def group_id(self, message: Message) -> str:
        return cast(FifoMessage, message).group.id

    def dedup_id(self, message: Message) -> str:
        return cast(FifoMessage, message).dedup_id or self.message_id(message)

    def sequence_number(self, message: Message) -> str:
        # The index orders messages as sending did, so sequence numbers increase with it.
        return str(self._sequence_base + message.index)

    # -- changing --------------------------------------------------------------------

    def send(
        self,
        body: str,
        attributes: Attributes,
        system: Mapping[str, str],
        delay_s: int,
        now: float,
        now_ms: int,
        *,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> Message:
        if group_id is None:
            raise AssertionError("the caller checks that a FIFO message has a group")
        if dedup_id is None:
            dedup_id = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
        key = f"{group_id}\n{dedup_id}" if self._per_group_dedup else dedup_id
        self._expire_deduplication(now)
        seen = self._dedup.get(key)
        if seen is not None:
            return seen[1]  # accepted, not enqueued again
        group = self._group(group_id)
        message = FifoMessage(
            len(self._messages), body, attributes, system, now_ms, group, dedup_id
        )
        self._messages.append(message)
        group.rest.append(message)
        self._enqueue(message, delay_s, now)
        expires = now + DEDUPLICATION_WINDOW_S
        self._dedup[key] = (expires, message)
        self._dedup_expiry.append((expires, key))
        return message

    def _expire_deduplication(self, now: float) -> None:
        expiry = self._dedup_expiry
        while expiry and expiry[0][0] <= now:
            at, key = expiry.popleft()
            seen = self._dedup.get(key)
            if seen is not None and seen[0] == at:
                del self._dedup[key]

    def seed(
        self, count: int, seed: Seed, sent_ms: Callable[[int], int], receive_count: int
    ) -> None:
        """Seeded messages take no part in deduplication: they stand for messages sent
        long before, outside the 5-minute window."""
        if seed.group is None:
            raise ValueError(f"seeding FIFO queue {self.name} needs a group for each message")
        first = len(self._messages)
        self._seeds.append((first, seed))
        touched: dict[str, Group] = {}
        for index in range(first, first + count):
            group = self._group(seed.group(index))
            touched[group.id] = group
            message = FifoMessage(
                index,
                None,
                seed.attributes(index),
                seed.system,
                sent_ms(index),
                group,
                None,
                receive_count,
            )
            self._messages.append(message)
            group.rest.append(message)
        self.counts[VISIBLE] += count
        for group in touched.values():
            self._offer(group)
        if self.waiting:
            self.changed.notify_all()

    def adopt(self, source: Queue, message: Message, now: float, now_ms: int) -> None:
        group_id = source.group_id(message)
        if group_id is None:
            raise AssertionError("only a FIFO queue moves messages to a FIFO queue")
        group = self._group(group_id)
        moved = FifoMessage(
            len(self._messages),
            source.body(message),
            message.attributes,
            {**message.system, "DeadLetterQueueSourceArn": source.arn},
            now_ms,  # SQS resets a FIFO message's enqueue time when it moves to the DLQ
            group,
            source.dedup_id(message),
            message.receive_count,
        )
        group.rest.append(moved)
        self._arrive(moved, source.message_id(message), message.first_receive_ms, now)

    def _group(self, group_id: str) -> Group:
        group = self._groups.get(group_id)
        if group is None:
            group = self._groups[group_id] = Group(group_id)
        return group

    def _make_visible(self, message: Message) -> None:
        fifo_message = cast(FifoMessage, message)
        group = fifo_message.group
        if self._count_visible(message) == IN_FLIGHT:
            group.held -= 1
            heapq.heappush(group.front, (message.index, fifo_message))
        self._offer(group)
        if self.waiting:
            self.changed.notify_all()

    def _forget(self, message: Message) -> None:
        held = message.state == IN_FLIGHT
        super()._forget(message)
        group = cast(FifoMessage, message).group
        if held:
            group.held -= 1
        self._offer(group)

    def _head(self, group: Group) -> FifoMessage | None:
        front = group.front
        while front and front[0][1].state == DELETED:
            heapq.heappop(front)  # deleted after its hold lapsed
        if front:
            return front[0][1]
        return group.rest[0] if group.rest else None

    def _offer(self, group: Group) -> None:
        """After any change to a group: list it as ready if a receive may take from it now,
        forget it once it has no messages left."""
        head = self._head(group)
        if group.held:
            return
        if head is None:
            if self._groups.get(group.id) is group:
                del self._groups[group.id]
            return
        if head.state == VISIBLE and group.offered != head.index:
            group.offered = head.index
            heapq.heappush(self._ready, (head.index, next(self._seq), group))

    def _next_ready(self) -> Group | None:
        """The group with the oldest visible head that no one holds."""
        ready = self._ready
        while ready:
            index, _, group = heapq.heappop(ready)
            if group.offered == index:
                group.offered = None
            head = self._head(group)
            if not group.held and head and head.index == index and head.state == VISIBLE:
                return group
        return None

    def _pop_head(self, group: Group) -> FifoMessage | None:
        """The group's next message, out of the group, if it is visible."""
        front = group.front
        while front:
            _, message = heapq.heappop(front)
            if message.state == VISIBLE:
                return message
        rest = group.rest
        if rest and rest[0].state == VISIBLE:
            return rest.popleft()
        return None  # empty, or the head is still delayed: the rest waits behind it

    def take(self, limit: int, visibility_s: int, now: float, now_ms: int) -> list[Message]:
        """As many messages of the oldest ready group as `limit` allows, in order, then of
        the next one. A group a receive took from stays locked until all are let go."""
        self.tick(now)
        taken: list[Message] = []
        redrive = self._max_receive is not None
        while len(taken) < limit:
            group = self._next_ready()
            if group is None:
                break
            while len(taken) < limit:
                message = self._pop_head(group)
                if message is None:
                    break
                if redrive and self._dead_letter(message, now, now_ms):
                    continue
                group.held += 1
                self._hold(message, visibility_s, now, now_ms)
                taken.append(message)
        return taken


class _Stale(Exception):
    def __init__(self, message: Message) -> None:
        self.message = message


def _redrive_policy(policy: str | None) -> tuple[str | None, int | None]:
    """The dead-letter queue's ARN and maxReceiveCount, parsed once: receives consult them."""
    try:
        parsed = json.loads(policy or "{}")
        max_receive = parsed.get("maxReceiveCount")
        return parsed.get("deadLetterTargetArn") or None, (
            None if max_receive is None else int(max_receive)
        )
    except (ValueError, TypeError, AttributeError):
        raise invalid_parameter(
            f"Value {policy} for parameter RedrivePolicy is invalid. "
            "Reason: Invalid value for the parameter RedrivePolicy."
        ) from None


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
        in_flight_limit: int = IN_FLIGHT_LIMIT,
        url_base: str | None = None,
    ) -> None:
        self.region = region
        self.clock = clock
        self.in_flight_limit = in_flight_limit
        # Served over HTTP (serve.py), queue URLs name the server: SDKs such as aws-sdk v2
        # for JavaScript send each request to its QueueUrl, whatever endpoint they were given.
        self.url_base = url_base
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.queues: dict[str, Queue] = {}

    def condition(self) -> threading.Condition:
        return threading.Condition(self.lock)

    def create_queue(self, name: str, attributes: Mapping[str, str] | None = None) -> Queue:
        """A standard queue, or a FIFO one: a name ending in .fifo and FifoQueue=true."""
        attributes = dict(attributes or {})
        for key in _BOOLEAN_ATTRIBUTES:
            if key in attributes:
                attributes[key] = str(attributes[key]).lower()
        fifo = attributes.get("FifoQueue") == "true"
        if fifo and not name.endswith(".fifo"):
            raise invalid_parameter(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, "
                "or underscores, must end with .fifo suffix and be 1 to 80 in length."
            )
        if name.endswith(".fifo") and not fifo:
            raise invalid_parameter(
                "Can only include alphanumeric characters, hyphens, or underscores. "
                "1 to 80 in length"
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
        queue = (FifoQueue if fifo else Queue)(self, name, attributes, self.clock())
        target = self.queue_by_arn(queue.redrive_target() or "")
        if target is not None and target.fifo != fifo:
            raise SqsError(
                "InvalidParameterCombination",
                "Fifo queues cannot use non fifo dead letter queues"
                if fifo
                else "Standard queues cannot use fifo dead letter queues",
            )
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

    def queue_by_arn(self, arn: str) -> Queue | None:
        queue = self.queues.get(arn.rpartition(":")[2])
        return queue if queue is not None and queue.arn == arn else None

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
