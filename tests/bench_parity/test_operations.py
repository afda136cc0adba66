"""Each SQS operation dlqctl uses answers the same on moto and on the simulator.

Every script records what boto3 returned — answers and errors, normalised only where a
value differs between any two runs (ids, handles, clocks) — and the two transcripts must
be equal. Where the simulator follows SQS's documentation and moto does not (older receipt
handles, releasing a lapsed hold), the scripts stay clear of it: test_simulator.py covers
those against the documentation.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .backends import assert_same, outcome

DLQ, SOURCE = "orders-dlq", "orders"
ALL = {"MessageSystemAttributeNames": ["All"], "MessageAttributeNames": ["All"]}


def _pipeline(sqs: Any) -> tuple[str, str]:
    dlq = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
    source = sqs.create_queue(QueueName=SOURCE, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return dlq, source


def _counts(sqs: Any, url: str) -> tuple[str, str, str]:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    values = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return tuple(values[name] for name in names)  # type: ignore[return-value]


def _fill(sqs: Any, url: str, count: int) -> list[Any]:
    answers = []
    for start in range(0, count, 10):
        entries = [
            {
                "Id": f"m{i}",
                "MessageBody": json.dumps({"order": i}),
                "MessageAttributes": {
                    "ErrorType": {"DataType": "String", "StringValue": "Timeout"}
                },
            }
            for i in range(start, min(count, start + 10))
        ]
        answers.append(outcome(lambda e=entries: sqs.send_message_batch(QueueUrl=url, Entries=e)))
    return answers


def test_queues_urls_attributes_and_sources() -> None:
    def script(sqs: Any) -> list[Any]:
        dlq, source = _pipeline(sqs)
        return [
            outcome(lambda: sqs.get_queue_url(QueueName=DLQ)),
            outcome(
                lambda: sqs.get_queue_url(QueueName=DLQ, QueueOwnerAWSAccountId="123456789012")
            ),
            outcome(lambda: sqs.get_queue_url(QueueName="missing")),
            outcome(lambda: sqs.create_queue(QueueName=DLQ)),  # same attributes: the same queue
            outcome(lambda: sqs.create_queue(QueueName=DLQ, Attributes={"VisibilityTimeout": "5"})),
            outcome(lambda: sqs.list_queues()),
            outcome(lambda: sqs.list_queues(QueueNamePrefix="orders-", MaxResults=1000)),
            outcome(lambda: sqs.list_queues(QueueNamePrefix="nothing")),
            outcome(lambda: sqs.list_dead_letter_source_queues(QueueUrl=dlq)),
            outcome(lambda: sqs.list_dead_letter_source_queues(QueueUrl=source)),
            outcome(lambda: sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])),
            outcome(lambda: sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["All"])),
            outcome(lambda: sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])),
            outcome(lambda: sqs.get_queue_attributes(QueueUrl=dlq)),
            outcome(
                lambda: sqs.get_queue_attributes(QueueUrl=dlq + "-gone", AttributeNames=["All"])
            ),
        ]

    transcript = assert_same(script)
    assert transcript[2]["error"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert transcript[8] == {"queueUrls": [transcript[0]["QueueUrl"].replace(DLQ, SOURCE)]}


def test_send_and_receive_carry_bodies_attributes_and_digests() -> None:
    attributes = {
        "ErrorType": {"DataType": "String", "StringValue": "Timeout"},
        "attempts": {"DataType": "Number", "StringValue": "3"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xffbytes"},
    }

    def script(sqs: Any) -> list[Any]:
        dlq, _ = _pipeline(sqs)
        sent = outcome(
            lambda: sqs.send_message(
                QueueUrl=dlq, MessageBody='{"order": 1, "note": "é"}', MessageAttributes=attributes
            )
        )
        everything = outcome(lambda: sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0, **ALL))
        some = outcome(
            lambda: sqs.receive_message(
                QueueUrl=dlq,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
                MessageAttributeNames=["ErrorType", "att.*"],
            )
        )
        none = outcome(lambda: sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0))
        return [sent, everything, some, none]

    sent, everything, some, none = assert_same(script)
    message = everything["Messages"][0]
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert set(some["Messages"][0]["MessageAttributes"]) == {"ErrorType", "attempts"}
    assert none == {}  # held by the previous receive: nothing to return


def test_receive_holds_what_it_returns_and_release_makes_it_visible() -> None:
    def script(sqs: Any) -> list[Any]:
        dlq, _ = _pipeline(sqs)
        log: list[Any] = _fill(sqs, dlq, 25)
        handles: list[str] = []
        for _ in range(4):  # 10, 10, 5, then nothing: what was returned stays held
            answer = sqs.receive_message(
                QueueUrl=dlq,
                MaxNumberOfMessages=10,
                VisibilityTimeout=300,
                WaitTimeSeconds=0,
                **ALL,
            )
            batch = answer.get("Messages", [])
            handles += [m["ReceiptHandle"] for m in batch]
            log.append((len(batch), len({m["MessageId"] for m in batch}), _counts(sqs, dlq)))
        release = [
            {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
            for i, h in enumerate(handles[:9])
        ] + [{"Id": "bogus", "ReceiptHandle": "not-a-handle", "VisibilityTimeout": 0}]
        log.append(
            outcome(lambda: sqs.change_message_visibility_batch(QueueUrl=dlq, Entries=release))
        )
        log.append(_counts(sqs, dlq))
        again = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0, **ALL)
        log.append(sorted(m["Attributes"]["ApproximateReceiveCount"] for m in again["Messages"]))
        extend = [{"Id": "0", "ReceiptHandle": handles[20], "VisibilityTimeout": 600}]
        log.append(
            outcome(lambda: sqs.change_message_visibility_batch(QueueUrl=dlq, Entries=extend))
        )
        log.append(
            outcome(
                lambda: sqs.change_message_visibility(
                    QueueUrl=dlq, ReceiptHandle=handles[21], VisibilityTimeout=0
                )
            )
        )
        log.append(
            outcome(
                lambda: sqs.change_message_visibility(
                    QueueUrl=dlq, ReceiptHandle="not-a-handle", VisibilityTimeout=0
                )
            )
        )
        log.append(outcome(lambda: sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=11)))
        log.append(outcome(lambda: sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=43_201)))
        log.append(_counts(sqs, dlq))
        return log

    log = assert_same(script)
    assert log[3:7] == [
        (10, 10, ("15", "10", "0")),
        (10, 10, ("5", "20", "0")),
        (5, 5, ("0", "25", "0")),
        (0, 0, ("0", "25", "0")),
    ]
    assert log[8] == ("9", "16", "0")
    assert log[9] == ["2"] * 9


def test_a_hold_ends_by_itself() -> None:
    def script(sqs: Any) -> list[Any]:
        dlq, _ = _pipeline(sqs)
        sqs.send_message(QueueUrl=dlq, MessageBody="x")
        first = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=1, WaitTimeSeconds=0)
        held = _counts(sqs, dlq)
        time.sleep(1.2)
        lapsed = _counts(sqs, dlq)
        again = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0, **ALL)["Messages"][0]
        return [
            held,
            lapsed,
            again["MessageId"] == first["Messages"][0]["MessageId"],
            again["Attributes"]["ApproximateReceiveCount"],
        ]

    assert assert_same(script) == [("0", "1", "0"), ("1", "0", "0"), True, "2"]


def test_delete_batches_report_each_entry() -> None:
    def script(sqs: Any) -> list[Any]:
        dlq, _ = _pipeline(sqs)
        _fill(sqs, dlq, 5)
        batch = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        handles = [m["ReceiptHandle"] for m in batch["Messages"]]
        entries = [{"Id": f"d{i}", "ReceiptHandle": h} for i, h in enumerate(handles[:3])]
        return [
            outcome(
                lambda: sqs.delete_message_batch(
                    QueueUrl=dlq, Entries=[*entries, {"Id": "bad", "ReceiptHandle": "nope"}]
                )
            ),
            _counts(sqs, dlq),
            outcome(lambda: sqs.delete_message_batch(QueueUrl=dlq, Entries=entries)),  # again
            outcome(lambda: sqs.delete_message(QueueUrl=dlq, ReceiptHandle=handles[3])),
            outcome(lambda: sqs.delete_message(QueueUrl=dlq, ReceiptHandle="nope")),
            _counts(sqs, dlq),
        ]

    log = assert_same(script)
    assert [e["Id"] for e in log[0]["Successful"]] == ["d0", "d1", "d2"]
    assert log[0]["Failed"] == [
        {"Id": "bad", "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": "<Message>"}
    ]
    assert log[-1] == ("0", "1", "0")


def test_send_batches_delays_and_whole_call_errors() -> None:
    def script(sqs: Any) -> list[Any]:
        dlq, source = _pipeline(sqs)
        many = [{"Id": str(i), "MessageBody": "x"} for i in range(11)]
        twice = [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}]
        big = [{"Id": str(i), "MessageBody": "x" * 600_000} for i in range(2)]
        log = [
            outcome(
                lambda: sqs.send_message_batch(
                    QueueUrl=source,
                    Entries=[
                        {"Id": "now", "MessageBody": "a"},
                        {"Id": "later", "MessageBody": "b", "DelaySeconds": 60},
                        {
                            "Id": "with-attributes",
                            "MessageBody": "c",
                            "MessageAttributes": {
                                "dlqctl-redrive-count": {"DataType": "Number", "StringValue": "1"}
                            },
                        },
                    ],
                )
            ),
            _counts(sqs, source),
        ]
        for entries in (many, [], twice, [{"Id": "no spaces", "MessageBody": "x"}], big):
            log.append(
                outcome(lambda e=entries: sqs.send_message_batch(QueueUrl=source, Entries=e))
            )
        # moto checks little else of a DeleteMessageBatch (not its size, nor its ids, as SQS
        # and the simulator do: test_simulator.py), so only an empty one is compared.
        log.append(outcome(lambda: sqs.delete_message_batch(QueueUrl=dlq, Entries=[])))
        log.append(_counts(sqs, source))
        return log

    log = assert_same(script)
    assert [e["Id"] for e in log[0]["Successful"]] == ["now", "later", "with-attributes"]
    assert log[1] == ("2", "0", "1")
    assert [entry.get("error") for entry in log[2:7]] == [
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "AWS.SimpleQueueService.InvalidBatchEntryId",
        "AWS.SimpleQueueService.BatchRequestTooLong",
    ]
