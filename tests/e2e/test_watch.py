"""`dlqctl watch`: one refresh of depths, as ndjson for logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import ENDPOINT_DLQCTL_ENV, Runner, World

pytestmark = pytest.mark.e2e


def test_watch_count_one_ndjson(dlqctl: Runner, orders: World) -> None:
    lines = dlqctl(
        "watch", "orders-dlq", "payments-dlq", "x-dlq.fifo", "--count", "1", "-o", "ndjson"
    ).ndjson()
    assert [line["name"] for line in lines] == ["orders-dlq", "payments-dlq", "x-dlq.fifo"]
    depths = {line["name"]: (line["visible"], line["in_flight"]) for line in lines}
    assert depths == {"orders-dlq": (9, 0), "payments-dlq": (0, 0), "x-dlq.fifo": (5, 0)}
    assert len({line["at"] for line in lines}) == 1
    at = datetime.fromisoformat(lines[0]["at"])
    assert at.utcoffset() == timedelta(0)  # ISO-8601 UTC, whether written Z or +00:00
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=5)


def test_watch_sees_messages_held_by_another_reader(
    dlqctl: Runner, orders: World, sqs: Any
) -> None:
    """Reads attributes only: a hold someone else took shows as in flight."""
    held = sqs.receive_message(
        QueueUrl=orders.urls["orders-dlq"], MaxNumberOfMessages=2, VisibilityTimeout=300
    )["Messages"]
    (line,) = dlqctl(
        "watch", "orders-dlq", "--count", "1", "-o", "ndjson", endpoint=ENDPOINT_DLQCTL_ENV
    ).ndjson()
    assert (line["visible"], line["in_flight"]) == (9 - len(held), len(held))
    # Let the invariant check see the queue as the test found it.
    sqs.change_message_visibility_batch(
        QueueUrl=orders.urls["orders-dlq"],
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(held)
        ],
    )
