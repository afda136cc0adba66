"""What the benchmark DLQ holds: 1 KiB JSON orders that failed for one of a few reasons.

Built on demand from each message's index (see Queue.seed), so 100,000 of them cost the
benchmark process about 16 MiB (~160 B a message), not the 100+ MiB their bodies would.
A `Layout` says which pair of queues a scenario uses: standard, or FIFO with the orders
spread over a number of message groups (a customer's orders in one group).
"""

from __future__ import annotations

import base64
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from bench.sim.service import Seed, SqsService

BODY_BYTES = 1024
DLQ = "bench-orders-dlq"
SOURCE = "bench-orders"
FIFO_DLQ = "bench-orders-dlq.fifo"
FIFO_SOURCE = "bench-orders.fifo"
_ORDER_PREFIX = '{"orderId":"ord-'
ERROR_TYPES = ("Timeout", "ValidationError", "DownstreamUnavailable", "PoisonPayload")
MAX_RECEIVE_COUNT = 3
OLDEST_S = 3 * 86_400  # ages spread over three days, within the DLQ's 4-day retention
MIN_AGE_S = 3_600  # older than any target's visibility timeout: no "young" warnings

# The `sample` scenario's DLQ: uneven shares, each message's type drawn independently
# from its index (splitmix64), so the messages SQS hands out first are a random sample of
# the types and the truth is known exactly (`mixed_truth`).
MIX = (("Timeout", 0.52), ("ValidationError", 0.27), ("DownstreamUnavailable", 0.15))
MIX_REST = "PoisonPayload"  # the remaining 6 %
_MASK64 = 2**64 - 1


def mixed_type(index: int) -> str:
    """The error type of message `index` in the mixed DLQ (deterministic, uniform draw)."""
    z = (index * 0x9E3779B97F4A7C15 + 0x5DEECE66D) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    u = (z ^ (z >> 31)) / 2**64
    for error_type, share in MIX:
        if u < share:
            return error_type
        u -= share
    return MIX_REST


def mixed_truth(depth: int) -> dict[str, int]:
    """How many messages of each type the mixed DLQ of `depth` messages holds."""
    counts: dict[str, int] = defaultdict(int)
    for index in range(depth):
        counts[mixed_type(index)] += 1
    return dict(counts)


# One attribute dict per error type, shared by every message of that type.
_ATTRIBUTES = {
    error_type: {"ErrorType": {"DataType": "String", "StringValue": error_type}}
    for error_type in ERROR_TYPES
}


# With --attributes rich (the HTTP-served simulator, for peers): one attribute of every
# data type SQS has, custom types included, so a copy shows which of them a tool kept.
# The binary value holds every byte value once: a tool that decodes or re-encodes it as
# text cannot keep it intact.
RICH_TYPES = ("String", "Number", "Binary", "Number.int", "String.custom")
_RICH_EXTRA = {
    "Amount": {"DataType": "Number", "StringValue": "1234.50"},
    "Payload": {
        "DataType": "Binary",
        "BinaryValue": base64.b64encode(bytes(range(256))).decode(),
    },
    "Attempt": {"DataType": "Number.int", "StringValue": "3"},
    "Tenant": {"DataType": "String.custom", "StringValue": "acme-eu"},
}
_RICH_ATTRIBUTES = {
    error_type: {**attributes, **_RICH_EXTRA} for error_type, attributes in _ATTRIBUTES.items()
}


def body(index: int) -> str:
    """A JSON order padded to exactly BODY_BYTES bytes (ASCII, so bytes = characters).

    Formatted by hand rather than with json.dumps: the simulator rebuilds a body on every
    receive, and its CPU competes with dlqctl's lanes for the GIL.
    """
    items = ",".join(f'{{"sku":"sku-{(index + k) % 5000:04d}","qty":{1 + k}}}' for k in range(3))
    order = (
        f'{{"orderId":"ord-{index:09d}","customerId":"cust-{index * 7919 % 100_000:05d}",'
        f'"amount":{index % 10_000 * 137 / 100},"currency":"EUR","items":[{items}],"note":"'
    )
    return order + "x" * (BODY_BYTES - len(order) - 2) + '"}'


def index_of(body_text: str) -> int:
    """The index a body was built from (its order number): how the checks tell messages
    apart and put a group's messages back in order."""
    if not body_text.startswith(_ORDER_PREFIX):
        raise ValueError(f"not a bench order: {body_text[:40]!r}")
    start = len(_ORDER_PREFIX)
    return int(body_text[start : start + 9])


@dataclass(frozen=True)
class Layout:
    """The DLQ and source queue a scenario runs on. FIFO: message i is in group i % groups,
    so each group's orders are interleaved with the others' in send order."""

    fifo: bool = False
    groups: int = 0

    @property
    def dlq(self) -> str:
        return FIFO_DLQ if self.fifo else DLQ

    @property
    def source(self) -> str:
        return FIFO_SOURCE if self.fifo else SOURCE

    def group(self, index: int) -> str:
        return f"customer-{index % self.groups:04d}"


STANDARD = Layout()


def create_queues(service: SqsService, layout: Layout = STANDARD) -> tuple[str, str]:
    """The DLQ and its source queue (whose redrive policy names the DLQ); their URLs."""
    fifo = {"FifoQueue": "true"} if layout.fifo else {}
    with service.lock:
        dlq = service.create_queue(layout.dlq, fifo)
        policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
        source = service.create_queue(layout.source, {**fifo, "RedrivePolicy": policy})
    return dlq.url, source.url


def seed_dlq(
    service: SqsService,
    count: int,
    *,
    error_type: str | None = None,
    layout: Layout = STANDARD,
    rich: bool = False,
    mixed: bool = False,
) -> None:
    """`count` messages as SQS leaves them in a DLQ: received MAX_RECEIVE_COUNT times,
    original SentTimestamp, and DeadLetterQueueSourceArn naming the source queue.

    With `error_type`, every message has that type; with `mixed`, the uneven random mix
    of MIX; else the types take turns. With `rich`, each message also has one attribute
    of every data type (RICH_TYPES).
    """
    chosen = _RICH_ATTRIBUTES if rich else _ATTRIBUTES
    source_arn = service.queues[layout.source].arn
    now_ms = int(time.time() * 1000)
    span_ms = (OLDEST_S - MIN_AGE_S) * 1000

    def attributes(index: int) -> dict[str, Any]:
        if mixed:
            return chosen[mixed_type(index)]
        return chosen[error_type or ERROR_TYPES[index % len(ERROR_TYPES)]]

    service.seed(
        layout.dlq,
        count,
        Seed(
            body=body,
            attributes=attributes,
            system={"DeadLetterQueueSourceArn": source_arn},
            group=layout.group if layout.fifo else None,
        ),
        sent_ms=lambda index: now_ms - MIN_AGE_S * 1000 - index * 7_919_000 % span_ms,
        receive_count=MAX_RECEIVE_COUNT,
    )


def queue_state(service: SqsService, layout: Layout = STANDARD) -> dict[str, Any]:
    """What the queues hold after a run, for the checks: the DLQ's visible and in-flight
    counts and the copies in the source queue; on FIFO also whether every group's copies
    are in the group's original order, and how many copies repeat a message."""
    with service.lock:
        dlq = service.queues[layout.dlq]
        source = service.queues[layout.source]
        dlq.tick(service.clock())
        source.tick(service.clock())
        visible, in_flight, _ = dlq.counts
        state: dict[str, Any] = {
            "dlq_visible": visible,
            "dlq_in_flight": in_flight,
            "copies": source.counts[0],
        }
    if layout.fifo:
        by_group: dict[str | None, list[int]] = defaultdict(list)
        for stored in source.contents():  # in send order
            by_group[stored.group_id].append(index_of(stored.body))
        indices = [index for chain in by_group.values() for index in chain]
        state["groups"] = len(by_group)
        state["order_kept"] = all(
            chain == sorted(chain) and all(layout.group(i) == group for i in chain)
            for group, chain in by_group.items()
        )
        state["repeated_copies"] = len(indices) - len(set(indices))
    return state


def intact(service: SqsService, layout: Layout = STANDARD, *, rich: bool = False) -> dict[str, Any]:
    """Of the copies in the source queue: how many have their original body, how many
    carry each data type's attribute unchanged (name, type and value), how many carry
    every original attribute unchanged, which attributes the client added (dlqctl adds
    its redrive count), and how many copies are not the bench's orders at all."""
    expected_by_type = _RICH_ATTRIBUTES if rich else _ATTRIBUTES
    copies = service.queues[layout.source].contents()
    bodies = alien = complete = 0
    kept = dict.fromkeys(RICH_TYPES if rich else ("String",), 0)
    added: set[str] = set()
    for stored in copies:
        try:
            index = index_of(stored.body)
        except ValueError:
            alien += 1
            continue
        bodies += stored.body == body(index)
        error_type = stored.attributes.get("ErrorType", {}).get("StringValue")
        expected = expected_by_type.get(error_type or "", expected_by_type[ERROR_TYPES[0]])
        same = [stored.attributes.get(name) == value for name, value in expected.items()]
        complete += all(same)
        for attribute, kept_it in zip(expected.values(), same, strict=True):
            kept[attribute["DataType"]] += kept_it
        added.update(set(stored.attributes) - set(expected))
    return {
        "copies": len(copies),
        "bodies_intact": bodies,
        "attributes_intact": complete,
        "kept_by_type": kept,
        "attributes_added": sorted(added),
        "not_bench_messages": alien,
    }
