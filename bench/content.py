"""What the benchmark DLQ holds: 1 KiB JSON orders that failed for one of a few reasons.

Built on demand from each message's index (see Queue.seed), so 100,000 of them cost the
benchmark process a few MiB, not the 100+ MiB their bodies would.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.sim.service import Seed, SqsService

BODY_BYTES = 1024
DLQ = "bench-orders-dlq"
SOURCE = "bench-orders"
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


def create_queues(service: SqsService) -> tuple[str, str]:
    """The DLQ and its source queue (whose redrive policy names the DLQ); their URLs."""
    with service.lock:
        dlq = service.create_queue(DLQ)
        policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
        source = service.create_queue(SOURCE, {"RedrivePolicy": policy})
    return dlq.url, source.url


def seed_dlq(service: SqsService, count: int, *, error_type: str | None = None) -> None:
    """`count` messages as SQS leaves them in a DLQ: received MAX_RECEIVE_COUNT times,
    original SentTimestamp, and DeadLetterQueueSourceArn naming the source queue.

    With `error_type`, every message has that type; else the types take turns.
    """
    source_arn = service.queues[SOURCE].arn
    now_ms = int(time.time() * 1000)
    span_ms = (OLDEST_S - MIN_AGE_S) * 1000

    def attributes(index: int) -> dict[str, Any]:
        return _ATTRIBUTES[error_type or ERROR_TYPES[index % len(ERROR_TYPES)]]

    service.seed(
        DLQ,
        count,
        Seed(body=body, attributes=attributes, system={"DeadLetterQueueSourceArn": source_arn}),
        sent_ms=lambda index: now_ms - MIN_AGE_S * 1000 - index * 7_919_000 % span_ms,
        receive_count=MAX_RECEIVE_COUNT,
    )
