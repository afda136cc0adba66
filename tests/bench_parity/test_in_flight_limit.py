"""The in-flight quota, on the simulator alone: moto does not model it.

SQS holds at most 120,000 messages in flight per queue, standard and FIFO alike (the SQS
quotas page), and answers ReceiveMessage with OverLimit once a queue has that many
("ReceiveMessage returns this error if the maximum number of in flight messages is
reached", the OverLimit error's documentation). moto's only OverLimit is AddPermission's
limit of 7 actions (moto/sqs/models.py, 5.2.5 and its main branch): its receive holds any
number. So these tests pin the simulator to the documentation instead of to moto, at the
real quota, and with a small one where a test must go through the limit many times.
"""

from __future__ import annotations

from typing import Any

import pytest
from bench.sim import Seed, SimTransport, SqsService
from bench.sim.service import IN_FLIGHT_LIMIT
from botocore.exceptions import ClientError

from .test_operations import ALL


def _hold_directly(service: SqsService, name: str, count: int) -> None:
    """Hold `count` messages without 12,000 requests: the service's own receive."""
    with service.lock:
        now = service.clock()
        taken = service.queues[name].take(count, 900, now, int(now * 1000))
    assert len(taken) == count


def _over_limit(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    response: Any = raised.value.response
    return {
        "code": response["Error"]["Code"],
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
    }


def _seed(service: SqsService, name: str, count: int, group: str) -> None:
    seed = Seed(
        body=str,
        attributes=lambda _: {},
        system={},
        group=(lambda i: f"{group}-{i % 1000}") if name.endswith(".fifo") else None,
    )
    service.seed(name, count, seed, sent_ms=lambda _: 0)


@pytest.mark.parametrize("name", ["orders-dlq", "orders-dlq.fifo"])
def test_a_queue_with_120000_messages_in_flight_answers_over_limit(name: str) -> None:
    assert IN_FLIGHT_LIMIT == 120_000
    transport = SimTransport(latency_s=0)
    service = transport.service
    sqs = transport.client(retries={"mode": "standard", "total_max_attempts": 1})
    fifo = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
    url = sqs.create_queue(QueueName=name, Attributes=fifo)["QueueUrl"]
    # Held in 1,000 groups, every message of each (so FIFO's group locks leave none of
    # them to receive), then 25 more in groups no one holds.
    _seed(service, name, IN_FLIGHT_LIMIT - 4, "held")
    _hold_directly(service, name, IN_FLIGHT_LIMIT - 4)
    _seed(service, name, 25, "free")

    room = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **ALL)["Messages"]
    assert len(room) == 4  # a receive takes no more than the room left under the quota
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == str(IN_FLIGHT_LIMIT)
    assert counts["ApproximateNumberOfMessages"] == "21"
    refused = _over_limit(lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1))
    assert refused == {"code": "OverLimit", "status": 403}

    # Deleting one held message makes room for exactly one more.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=room[0]["ReceiptHandle"])
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(again) == 1
    assert _over_limit(lambda: sqs.receive_message(QueueUrl=url))["code"] == "OverLimit"


def test_a_lapsing_hold_makes_room_again() -> None:
    clock = [1_000.0]
    service = SqsService(clock=lambda: clock[0], in_flight_limit=3)
    sqs = SimTransport(service, latency_s=0).client(retries={"total_max_attempts": 1})
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for body in "abcde":
        sqs.send_message(QueueUrl=url, MessageBody=body)
    held = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
    assert [m["Body"] for m in held["Messages"]] == ["a", "b", "c"]
    assert _over_limit(lambda: sqs.receive_message(QueueUrl=url))["code"] == "OverLimit"
    # A long poll on a full queue is refused at once, not left waiting for room.
    assert _over_limit(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20))
    clock[0] += 31  # the holds lapse: the messages are visible, nothing is in flight
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
    assert len(again["Messages"]) == 3  # a standard queue promises no order
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "2"
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "3"


def test_the_quota_is_per_queue() -> None:
    service = SqsService(in_flight_limit=2)
    sqs = SimTransport(service, latency_s=0).client(retries={"total_max_attempts": 1})
    urls = [sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("one", "two")]
    for url in urls:
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)]
        )
    for url in urls:
        assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 2
        assert _over_limit(lambda url=url: sqs.receive_message(QueueUrl=url))
