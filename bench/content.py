"""What the benchmark DLQ holds: 1 KiB JSON orders that failed for one of a few reasons.

Built on demand from each message's index (see Queue.seed), so 100,000 of them cost the
benchmark process about 16 MiB (~160 B a message), not the 100+ MiB their bodies would.
A `Layout` says which pair of queues a scenario uses: standard, or FIFO with the orders
spread over a number of message groups (a customer's orders in one group).
"""

from __future__ import annotations

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

# One attribute dict per error type, shared by every message of that type.
_ATTRIBUTES = {
    error_type: {"ErrorType": {"DataType": "String", "StringValue": error_type}}
    for error_type in ERROR_TYPES
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
) -> None:
    """`count` messages as SQS leaves them in a DLQ: received MAX_RECEIVE_COUNT times,
    original SentTimestamp, and DeadLetterQueueSourceArn naming the source queue.

    With `error_type`, every message has that type; else the types take turns.
    """
    source_arn = service.queues[layout.source].arn
    now_ms = int(time.time() * 1000)
    span_ms = (OLDEST_S - MIN_AGE_S) * 1000

    def attributes(index: int) -> dict[str, Any]:
        return _ATTRIBUTES[error_type or ERROR_TYPES[index % len(ERROR_TYPES)]]

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
