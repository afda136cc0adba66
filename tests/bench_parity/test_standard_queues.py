"""Standard queues: message groups (fair queues), redrive-policy moves, and the per-entry
answers of release batches — on both backends where moto does what SQS documents."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bench.sim import Seed, SqsService
from botocore.exceptions import ClientError

from .backends import assert_same, outcome, sim_client
from .test_operations import ALL, DLQ, SOURCE, _counts, _pipeline

FIFO = {"FifoQueue": "true"}


def test_a_standard_queue_keeps_and_returns_a_message_group() -> None:
    def script(sqs: Any) -> list[Any]:
        url = sqs.create_queue(QueueName="tenants")["QueueUrl"]
        log = [
            outcome(
                lambda: sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="tenant-1")
            ),
            outcome(
                lambda: sqs.send_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": "b", "MessageBody": "b", "MessageGroupId": "tenant-2"},
                        {"Id": "c", "MessageBody": "c"},
                    ],
                )
            ),
        ]
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **ALL)["Messages"]
        # No order is promised on a standard queue, and the group changes none.
        log.append(sorted((m["Body"], m["Attributes"].get("MessageGroupId")) for m in received))
        return log

    log = assert_same(script)
    assert log[2] == [("a", "tenant-1"), ("b", "tenant-2"), ("c", None)]


def test_a_redrive_policy_moves_a_message_on_the_receive_after_max_receive_count() -> None:
    def script(sqs: Any) -> list[Any]:
        dlq, source = _pipeline(sqs)  # maxReceiveCount 3
        sqs.send_message(
            QueueUrl=source,
            MessageBody="x",
            MessageAttributes={"ErrorType": {"DataType": "String", "StringValue": "Timeout"}},
        )
        received = [
            sqs.receive_message(QueueUrl=source, VisibilityTimeout=0, **ALL)["Messages"][0]
            for _ in range(3)
        ]
        log: list[Any] = [
            outcome(lambda: sqs.receive_message(QueueUrl=source, WaitTimeSeconds=0)),
            _counts(sqs, source),
            _counts(sqs, dlq),
        ]
        moved = sqs.receive_message(QueueUrl=dlq, **ALL)["Messages"][0]
        first = received[0]
        log += [
            moved["MessageId"] == first["MessageId"],
            moved["Attributes"]["SentTimestamp"] == first["Attributes"]["SentTimestamp"],
            moved["Attributes"]["ApproximateReceiveCount"],
            (moved["Body"], moved["MessageAttributes"]),
        ]
        return log

    assert assert_same(script) == [
        {},
        ("0", "0", "0"),
        ("1", "0", "0"),
        True,
        True,
        "4",  # not reset by the move
        ("x", {"ErrorType": {"DataType": "String", "StringValue": "Timeout"}}),
    ]


# -- the simulator alone, against SQS's documentation ----------------------------------


def test_a_standard_queue_refuses_a_deduplication_id() -> None:
    # moto accepts one, and even answers a SequenceNumber; SQS refuses the parameter.
    sqs = sim_client()
    url = sqs.create_queue(QueueName="plain")["QueueUrl"]
    with pytest.raises(ClientError, match="not valid for this queue type"):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")


def test_seeded_groups_on_a_standard_queue_survive_a_move() -> None:
    service = SqsService()
    sqs = sim_client(service)
    with service.lock:
        dlq = service.create_queue(DLQ)
        policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1})
        source = service.create_queue(SOURCE, {"RedrivePolicy": policy})
    service.seed(
        SOURCE,
        4,
        Seed(body=str, attributes=lambda i: {}, system={}, group=lambda i: f"tenant-{i % 2}"),
        sent_ms=lambda i: 1_000 + i,
        receive_count=1,
    )
    assert [(s.body, s.group_id) for s in source.contents()] == [
        ("0", "tenant-0"),
        ("1", "tenant-1"),
        ("2", "tenant-0"),
        ("3", "tenant-1"),
    ]
    ids = [s.message_id for s in source.contents()]
    assert "Messages" not in sqs.receive_message(QueueUrl=source.url, MaxNumberOfMessages=10)
    moved = sqs.receive_message(QueueUrl=dlq.url, MaxNumberOfMessages=10, **ALL)["Messages"]
    assert [
        (
            m["MessageId"],
            m["Attributes"]["MessageGroupId"],
            m["Attributes"]["SentTimestamp"],
            m["Attributes"]["DeadLetterQueueSourceArn"],
        )
        for m in moved
    ] == [
        (ids[i], f"tenant-{i % 2}", str(1_000 + i), source.arn) for i in range(4)
    ]  # SQS keeps a standard message's enqueue time when it moves


@pytest.mark.parametrize("attributes", [{}, FIFO], ids=["standard", "fifo"])
def test_a_release_batch_fails_stale_and_lapsed_handles_entry_by_entry(
    attributes: dict[str, str],
) -> None:
    # moto accepts an older handle and releases a lapsed hold; SQS refuses both.
    clock = [1_000.0]
    sqs = sim_client(SqsService(clock=lambda: clock[0]))
    url = sqs.create_queue(QueueName="q.fifo" if attributes else "q", Attributes=attributes)[
        "QueueUrl"
    ]
    for body in ("stale", "lapsed", "held"):
        group = {"MessageGroupId": body, "MessageDeduplicationId": body} if attributes else {}
        sqs.send_message(QueueUrl=url, MessageBody=body, **group)

    def receive() -> dict[str, str]:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        return {m["Body"]: m["ReceiptHandle"] for m in answer.get("Messages", [])}

    first = receive()
    for body, seconds in (("stale", 1), ("lapsed", 5), ("held", 1)):
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=first[body], VisibilityTimeout=seconds
        )
    clock[0] += 2
    second = receive()
    assert set(second) == {"stale", "held"}  # received again: their first handles are stale
    clock[0] += 4  # the hold of "lapsed" ends, and no one receives it
    answer = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "stale", "ReceiptHandle": first["stale"], "VisibilityTimeout": 0},
            {"Id": "lapsed", "ReceiptHandle": first["lapsed"], "VisibilityTimeout": 0},
            {"Id": "held", "ReceiptHandle": second["held"], "VisibilityTimeout": 0},
        ],
    )
    assert answer["Successful"] == [{"Id": "held"}]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in answer["Failed"]] == [
        ("stale", "ReceiptHandleIsInvalid", True),
        ("lapsed", "MessageNotInflight", True),
    ]
    assert _counts(sqs, url) == ("2", "1", "0")  # "stale" is still held by its second receive
