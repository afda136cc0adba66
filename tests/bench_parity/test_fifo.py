"""FIFO queues: the same scripts on moto and on the simulator where moto does what SQS
documents, and the simulator alone (against the documentation) where moto does not.

moto 5.2.5 differs from SQS in ways these scripts stay clear of, tested on the simulator
further down: one receive returns several groups' messages interleaved in send order (SQS
returns as many of one group as it can first); a duplicate is answered with a new
MessageId and SequenceNumber (SQS answers with the original's) and is no longer caught once
the original is deleted; sequence numbers are random digits, and missing when the
deduplication id is content-based; SentTimestamp survives a move to a FIFO DLQ (SQS resets
it).
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

import pytest
from bench.sim import Seed, SimTransport, SqsService
from botocore.exceptions import ClientError

from .backends import assert_same, outcome, sim_client
from .test_operations import ALL, _counts

FIFO = {"FifoQueue": "true"}
GROUPED = {"MessageSystemAttributeNames": ["MessageGroupId", "MessageDeduplicationId"]}


def _entry(body: str, group: str, **extra: Any) -> dict[str, Any]:
    return {"Id": body, "MessageBody": body, "MessageGroupId": group, **extra}


def _bodies(answer: dict[str, Any]) -> list[str]:
    return [m["Body"] for m in answer.get("Messages", [])]


def _receive(sqs: Any, url: str, limit: int = 10, /, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=limit, WaitTimeSeconds=0, **extra
    )
    return answer


def _release(sqs: Any, url: str, *messages: dict[str, Any]) -> None:
    for message in messages:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    # moto makes a released message visible only once its clock has moved on a millisecond.
    time.sleep(0.005)


def _delete(sqs: Any, url: str, *messages: dict[str, Any]) -> None:
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _sim() -> tuple[Any, SqsService, list[float]]:
    clock = [1_000.0]
    service = SqsService(clock=lambda: clock[0])
    return sim_client(service), service, clock


# -- the same on both ------------------------------------------------------------------


def test_fifo_queues_and_what_sending_to_them_requires() -> None:
    def script(sqs: Any) -> list[Any]:
        url = sqs.create_queue(QueueName="orders.fifo", Attributes=FIFO)["QueueUrl"]
        standard = sqs.create_queue(QueueName="plain-dlq")["QueueUrl"]
        standard_arn = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["QueueArn"])
        policy = json.dumps(
            {"deadLetterTargetArn": standard_arn["Attributes"]["QueueArn"], "maxReceiveCount": 3}
        )
        return [
            outcome(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])),
            outcome(lambda: sqs.create_queue(QueueName="orders.fifo", Attributes=FIFO)),
            outcome(lambda: sqs.create_queue(QueueName="no-suffix", Attributes=FIFO)),
            outcome(
                lambda: sqs.create_queue(
                    QueueName="source.fifo", Attributes={**FIFO, "RedrivePolicy": policy}
                )
            ),
            outcome(lambda: sqs.send_message(QueueUrl=url, MessageBody="x")),
            outcome(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")),
            outcome(
                lambda: sqs.send_message(
                    QueueUrl=url,
                    MessageBody="x",
                    MessageGroupId="g",
                    MessageDeduplicationId="d",
                    DelaySeconds=5,
                )
            ),
            outcome(
                lambda: sqs.send_message_batch(
                    QueueUrl=url,
                    Entries=[
                        _entry("a", "g", MessageDeduplicationId="a"),
                        {"Id": "b", "MessageBody": "b", "MessageDeduplicationId": "b"},
                    ],
                )
            ),
            _counts(sqs, url),  # a refused batch sends none of its entries
            outcome(
                lambda: sqs.send_message(
                    QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d"
                )
            ),
            outcome(
                lambda: sqs.send_message_batch(
                    QueueUrl=url, Entries=[_entry("y", "g", MessageDeduplicationId="y")]
                )
            ),
            outcome(lambda: _receive(sqs, url, **ALL)),
        ]

    log = assert_same(script)
    attributes = log[0]["Attributes"]
    assert (attributes["FifoQueue"], attributes["ContentBasedDeduplication"]) == ("true", "false")
    assert [step.get("error") for step in log[2:8]] == [
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "MissingParameter",
        "InvalidParameterValue",
        "InvalidParameterValue",
        "MissingParameter",
    ]
    assert log[8] == ("0", "0", "0")
    assert log[9]["SequenceNumber"] == "<SequenceNumber>"
    assert log[11]["Messages"][0]["Attributes"]["MessageGroupId"] == "g"


def test_a_group_is_locked_while_any_of_its_messages_is_held() -> None:
    def script(sqs: Any) -> list[Any]:
        url = sqs.create_queue(QueueName="orders.fifo", Attributes=FIFO)["QueueUrl"]
        entries = [
            _entry(body, body[0], MessageDeduplicationId=body)
            for body in ("A1", "A2", "A3", "B1", "B2")
        ]
        log: list[Any] = [outcome(lambda: sqs.send_message_batch(QueueUrl=url, Entries=entries))]
        a1 = _receive(sqs, url, 1, **ALL)
        bs = _receive(sqs, url)
        log += [outcome(lambda: a1), _bodies(bs), _bodies(_receive(sqs, url))]
        _delete(sqs, url, *a1["Messages"])
        a2, a3 = _receive(sqs, url)["Messages"]
        log.append([a2["Body"], a3["Body"]])
        _release(sqs, url, a2)  # A3 still holds the group
        log += [_bodies(_receive(sqs, url)), _counts(sqs, url)]
        _delete(sqs, url, a3)
        time.sleep(0.005)
        log.append(_bodies(_receive(sqs, url)))  # the released head comes back first
        _release(sqs, url, *bs["Messages"])
        log += [_bodies(_receive(sqs, url)), _counts(sqs, url)]
        return log

    log = assert_same(script)
    assert log[2:] == [
        ["B1", "B2"],
        [],
        ["A2", "A3"],
        [],
        ("1", "3", "0"),
        ["A2"],
        ["B1", "B2"],
        ("0", "3", "0"),
    ]
    attributes = log[1]["Messages"][0]["Attributes"]
    assert attributes["MessageGroupId"] == "A"
    assert attributes["MessageDeduplicationId"] == "A1"
    assert attributes["SequenceNumber"] == "<SequenceNumber>"


def test_duplicates_within_the_window_are_accepted_and_not_enqueued() -> None:
    def script(sqs: Any) -> list[Any]:
        url = sqs.create_queue(QueueName="orders.fifo", Attributes=FIFO)["QueueUrl"]
        by_content = sqs.create_queue(
            QueueName="by-content.fifo", Attributes={**FIFO, "ContentBasedDeduplication": "true"}
        )["QueueUrl"]
        log = [
            outcome(
                lambda: sqs.send_message(
                    QueueUrl=url,
                    MessageBody="first",
                    MessageGroupId="g",
                    MessageDeduplicationId="d",
                )
            ),
            outcome(
                lambda: sqs.send_message(
                    QueueUrl=url,
                    MessageBody="again",
                    MessageGroupId="g",
                    MessageDeduplicationId="d",
                )
            ),
            outcome(
                lambda: sqs.send_message_batch(
                    QueueUrl=url,
                    Entries=[
                        _entry("one", "h", MessageDeduplicationId="e"),
                        _entry("two", "h", MessageDeduplicationId="e"),
                        _entry("three", "h", MessageDeduplicationId="d"),
                    ],
                )
            ),
            _counts(sqs, url),
            _bodies(_receive(sqs, url)),
        ]
        # moto numbers no message whose deduplication id is content-based: not compared.
        for _ in range(2):
            sqs.send_message(QueueUrl=by_content, MessageBody="same", MessageGroupId="g")
        sqs.send_message(QueueUrl=by_content, MessageBody="other", MessageGroupId="g")
        received = _receive(sqs, by_content, **GROUPED)["Messages"]
        log += [_counts(sqs, by_content), [(m["Body"], m["Attributes"]) for m in received]]
        return log

    log = assert_same(script)
    assert [e["Id"] for e in log[2]["Successful"]] == ["one", "two", "three"]
    assert log[3] == ("2", "0", "0")
    assert log[4] == ["first", "one"]
    assert log[5] == ("0", "2", "0")
    sha256_of_same = "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5"
    assert log[6][0] == ("same", {"MessageGroupId": "g", "MessageDeduplicationId": sha256_of_same})


def test_a_fifo_redrive_policy_moves_the_head_and_the_group_goes_on() -> None:
    def script(sqs: Any) -> list[Any]:
        dlq = sqs.create_queue(QueueName="orders-dlq.fifo", Attributes=FIFO)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]
        policy = json.dumps({"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": 1})
        url = sqs.create_queue(
            QueueName="orders.fifo", Attributes={**FIFO, "RedrivePolicy": policy}
        )["QueueUrl"]
        entries = [_entry(b, "A", MessageDeduplicationId=b) for b in ("A1", "A2")]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
        first = _receive(sqs, url, 1, VisibilityTimeout=0)["Messages"][0]
        names = ["ApproximateReceiveCount", "MessageGroupId", "MessageDeduplicationId"]
        second = _receive(sqs, url, MessageSystemAttributeNames=names)
        moved = _receive(sqs, dlq, MessageSystemAttributeNames=names)["Messages"][0]
        return [
            [(m["Body"], m["Attributes"]) for m in second["Messages"]],
            _counts(sqs, url),
            _counts(sqs, dlq),
            (moved["Body"], moved["Attributes"], moved["MessageId"] == first["MessageId"]),
        ]

    assert assert_same(script) == [
        [
            (
                "A2",
                {
                    "ApproximateReceiveCount": "1",
                    "MessageGroupId": "A",
                    "MessageDeduplicationId": "A2",
                },
            )
        ],
        ("0", "1", "0"),
        ("0", "1", "0"),
        (
            "A1",
            {"ApproximateReceiveCount": "2", "MessageGroupId": "A", "MessageDeduplicationId": "A1"},
            True,
        ),
    ]


# -- the simulator alone, against SQS's documentation ----------------------------------


def _fifo(sqs: Any, name: str = "orders.fifo", **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=name, Attributes={**FIFO, **attributes})["QueueUrl"]
    return url


def _send(sqs: Any, url: str, *bodies: str) -> list[dict[str, Any]]:
    """Each body goes to the group named by its first letter, deduplicated by itself."""
    return [
        sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId=body[0], MessageDeduplicationId=body
        )
        for body in bodies
    ]


def test_one_receive_takes_as_many_of_one_group_as_it_can_first() -> None:
    # SQS: "Amazon SQS first attempts to return as many messages with the same message
    # group ID as possible"; moto returns the groups interleaved, in send order.
    sqs, _, _ = _sim()
    url = _fifo(sqs)
    _send(sqs, url, "A1", "B1", "A2", "C1", "B2", "A3")
    assert _bodies(_receive(sqs, url, 4)) == ["A1", "A2", "A3", "B1"]
    assert _bodies(_receive(sqs, url)) == ["C1"]  # B is held by B1, B2 waits behind it


def test_the_group_with_the_oldest_head_comes_first() -> None:
    sqs, _, _ = _sim()
    url = _fifo(sqs)
    _send(sqs, url, "A1", "B1", "A2", "B2")
    a = _receive(sqs, url, 1)["Messages"]
    b = _receive(sqs, url, 1)["Messages"]
    _release(sqs, url, *b)
    _release(sqs, url, *a)  # released last, but A1 was sent first
    assert _bodies(_receive(sqs, url, 3)) == ["A1", "A2", "B1"]


def test_a_lapsed_hold_puts_the_message_back_at_the_head_of_its_group() -> None:
    sqs, _, clock = _sim()
    url = _fifo(sqs)
    _send(sqs, url, "A1", "A2", "A3", "A4")
    _, a2 = _receive(sqs, url, 2, VisibilityTimeout=30)["Messages"]
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=a2["ReceiptHandle"], VisibilityTimeout=100
    )
    clock[0] += 31
    assert _bodies(_receive(sqs, url)) == []  # A1 is visible again, but A2 holds the group
    assert _counts(sqs, url) == ("3", "1", "0")
    clock[0] += 70
    again = _receive(sqs, url, **ALL)["Messages"]
    assert [(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in again] == [
        ("A1", "2"),
        ("A2", "2"),
        ("A3", "1"),
        ("A4", "1"),
    ]


def test_sequence_numbers_are_20_digits_and_increase_in_send_order() -> None:
    sqs, _, _ = _sim()
    url = _fifo(sqs)
    sent = _send(sqs, url, "A1", "B1", "A2")
    batch = sqs.send_message_batch(
        QueueUrl=url, Entries=[_entry("B2", "B", MessageDeduplicationId="B2")]
    )["Successful"]
    numbers = [answer["SequenceNumber"] for answer in [*sent, *batch]]
    assert all(len(n) == 20 and n.isdigit() for n in numbers)
    assert sorted(numbers, key=int) == numbers and len(set(numbers)) == 4
    received = _receive(sqs, url, **ALL)["Messages"]
    assert {m["Body"]: m["Attributes"]["SequenceNumber"] for m in received} == dict(
        zip(["A1", "B1", "A2", "B2"], numbers, strict=True)
    )


def test_a_duplicate_is_answered_as_the_original_for_five_minutes() -> None:
    # moto answers a duplicate with a new MessageId and forgets the id once the original is
    # deleted; SQS deduplicates for the whole interval, whatever became of the original.
    sqs, _, clock = _sim()
    url = _fifo(sqs)
    (first,) = _send(sqs, url, "A1")
    clock[0] += 10
    (again,) = _send(sqs, url, "A1")
    assert (again["MessageId"], again["SequenceNumber"]) == (
        first["MessageId"],
        first["SequenceNumber"],
    )
    _delete(sqs, url, *_receive(sqs, url)["Messages"])
    clock[0] += 289  # 299 s after the first send
    assert _send(sqs, url, "A1")[0]["MessageId"] == first["MessageId"]
    assert _counts(sqs, url) == ("0", "0", "0")
    clock[0] += 1
    assert _send(sqs, url, "A1")[0]["MessageId"] != first["MessageId"]
    assert _counts(sqs, url) == ("1", "0", "0")


def test_deduplication_can_be_scoped_to_the_group() -> None:
    sqs, _, _ = _sim()
    url = _fifo(
        sqs,
        "scoped.fifo",
        DeduplicationScope="messageGroup",
        FifoThroughputLimit="perMessageGroupId",
    )
    for group in ("A", "B", "A"):
        sqs.send_message(
            QueueUrl=url, MessageBody="x", MessageGroupId=group, MessageDeduplicationId="same"
        )
    assert _counts(sqs, url) == ("2", "0", "0")


def test_a_fifo_queue_delays_by_its_own_delay_only() -> None:
    sqs, _, clock = _sim()
    url = _fifo(sqs, DelaySeconds="10")
    _send(sqs, url, "A1")
    assert _counts(sqs, url) == ("0", "0", "1")
    clock[0] += 10
    assert _bodies(_receive(sqs, url)) == ["A1"]


def test_queue_kinds_are_checked_as_sqs_checks_them() -> None:
    # moto creates a standard queue named "x.fifo" (SQS allows no dot in a standard queue's
    # name) and lets a standard queue use a FIFO dead-letter queue (SQS refuses).
    sqs, _, _ = _sim()
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        sqs.create_queue(QueueName="orders.fifo")
    arn = sqs.get_queue_attributes(QueueUrl=_fifo(sqs, "dlq.fifo"), AttributeNames=["QueueArn"])
    policy = json.dumps(
        {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": 1}
    )
    with pytest.raises(ClientError, match="InvalidParameterCombination"):
        sqs.create_queue(QueueName="standard", Attributes={"RedrivePolicy": policy})


def test_a_message_moved_to_a_fifo_dlq_keeps_its_id_and_restarts_its_age() -> None:
    # SQS: "For FIFO queues, the enqueue timestamp resets when the message is moved to a
    # dead-letter queue"; moto keeps it. dlqctl shows that caveat with FIFO ages.
    sqs, service, clock = _sim()
    dlq = _fifo(sqs, "orders-dlq.fifo")
    with service.lock:
        dlq_arn = service.queues["orders-dlq.fifo"].arn
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    url = _fifo(sqs, RedrivePolicy=policy)
    (sent,) = _send(sqs, url, "A1")
    _receive(sqs, url, VisibilityTimeout=0)
    clock[0] += 500
    assert _bodies(_receive(sqs, url)) == []
    (moved,) = _receive(sqs, dlq, **ALL)["Messages"]
    with service.lock:
        source_arn = service.queues["orders.fifo"].arn
    assert moved["MessageId"] == sent["MessageId"]
    assert moved["Attributes"]["SentTimestamp"] == str(int(clock[0] * 1000))
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == source_arn
    assert (
        moved["Attributes"]["MessageGroupId"],
        moved["Attributes"]["MessageDeduplicationId"],
    ) == (
        "A",
        "A1",
    )


def _seed_groups(service: SqsService, name: str, count: int, groups: int, **extra: Any) -> None:
    service.seed(
        name,
        count,
        Seed(
            body=lambda i: f"order-{i}",
            attributes=lambda i: {},
            system={},
            group=lambda i: f"customer-{i % groups}",
        ),
        sent_ms=lambda i: 1_000_000 + i,
        **extra,
    )


def test_seeded_groups_drain_in_order_one_group_per_receive() -> None:
    service = SqsService()
    with service.lock:
        queue = service.create_queue("orders.fifo", FIFO)
    _seed_groups(service, "orders.fifo", 10_000, 50)
    contents = queue.contents()
    assert len(contents) == 10_000
    assert contents[51].group_id == "customer-1" and contents[51].body == "order-51"
    in_order: dict[str | None, list[str]] = {}
    for stored in contents:
        in_order.setdefault(stored.group_id, []).append(stored.message_id)
    drained: dict[str | None, list[str]] = {}
    with service.lock:
        while taken := queue.take(10, 30, 0.0, 0):
            assert len({queue.group_id(m) for m in taken}) == 1  # 200 a group: 10 of one
            for message in taken:
                drained.setdefault(queue.group_id(message), []).append(queue.message_id(message))
                queue.delete(queue.receipt_handle(message))
    assert drained == in_order
    assert queue.counts == [0, 0, 0] and queue.contents() == []


def test_seeding_a_fifo_queue_needs_a_group_per_message() -> None:
    service = SqsService()
    with service.lock:
        service.create_queue("orders.fifo", FIFO)
    with pytest.raises(ValueError, match="group"):
        service.seed(
            "orders.fifo", 1, Seed(body=str, attributes=lambda i: {}, system={}), sent_ms=int
        )


def test_seeded_messages_moved_by_a_redrive_policy_keep_their_ids() -> None:
    sqs, service, _ = _sim()
    with service.lock:
        dlq = service.create_queue("orders-dlq.fifo", FIFO)
        policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3})
        source = service.create_queue("orders.fifo", {**FIFO, "RedrivePolicy": policy})
    _seed_groups(service, "orders.fifo", 30, 3, receive_count=3)

    def by_group(queue: Any) -> list[tuple[str | None, str, str]]:
        # Moves go group by group: compare each group's messages, in their order.
        return sorted(
            ((s.group_id, s.message_id, s.body) for s in queue.contents()),
            key=lambda row: row[0] or "",
        )

    before = by_group(source)
    assert _bodies(_receive(sqs, source.url)) == []  # each had been received 3 times
    assert by_group(dlq) == before and len(before) == 30


def _fifo_cpu_per_cycle(depth: int) -> float:
    """The simulator's CPU for one receive-10-and-release cycle of a FIFO queue."""
    transport = SimTransport(latency_s=0)
    with transport.service.lock:
        url = transport.service.create_queue("orders.fifo", FIFO).url
    _seed_groups(transport.service, "orders.fifo", depth, 50)
    sqs = transport.client()
    sqs.get_queue_url(QueueName="orders.fifo")  # warm up botocore
    best = float("inf")
    for _ in range(3):  # the least noisy of three
        before = transport.service_cpu_s
        for _ in range(20):
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **ALL)
            sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(batch["Messages"])
                ],
            )
        best = min(best, (transport.service_cpu_s - before) / 20)
    return best


def test_fifo_cost_per_request_does_not_grow_with_depth() -> None:
    shallow, deep = _fifo_cpu_per_cycle(1_000), _fifo_cpu_per_cycle(30_000)
    assert deep < 3 * shallow + 0.0005, (shallow, deep)


def test_concurrent_receivers_never_share_a_group_and_keep_its_order() -> None:
    """8 threads receive, delete a prefix of what they got and release the rest, until the
    queue is empty. Each claims its groups in a registry before acting and gives them up
    before letting the messages go, so a second holder of a group, or a batch that is not
    the group's next messages, is caught."""
    groups, per_group, lanes = 50, 20, 8
    service = SqsService()
    with service.lock:
        url = service.create_queue("orders.fifo", FIFO).url
    _seed_groups(service, "orders.fifo", groups * per_group, groups)
    sqs = sim_client(service)  # boto3 clients are thread-safe: the lanes share one
    expected = {
        f"customer-{g}": [f"order-{i}" for i in range(g, groups * per_group, groups)]
        for g in range(groups)
    }
    done = dict.fromkeys(expected, 0)  # messages of each group deleted so far
    holders: dict[str, int] = {}
    problems: list[str] = []
    registry = threading.Lock()

    def lane(number: int) -> None:
        rng = random.Random(number)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with registry:
                if sum(done.values()) == groups * per_group or problems:
                    return
            batch = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=60,
                MessageSystemAttributeNames=["MessageGroupId"],
            ).get("Messages", [])
            if not batch:
                time.sleep(0.001)  # every group is held: let their holders run
                continue
            runs = [m["Attributes"]["MessageGroupId"] for m in batch]
            runs = [g for i, g in enumerate(runs) if i == 0 or runs[i - 1] != g]
            if len(runs) != len(set(runs)):
                problems.append(f"groups interleaved in one batch: {runs}")
            by_group: dict[str, list[dict[str, Any]]] = {}
            for message in batch:
                by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(message)
            kept: dict[str, int] = {}
            with registry:
                for group, messages in by_group.items():
                    if group in holders:
                        problems.append(f"{group} held by lanes {holders[group]} and {number}")
                    holders[group] = number
                    start = done[group]
                    bodies = [m["Body"] for m in messages]
                    if bodies != expected[group][start : start + len(bodies)]:
                        problems.append(f"{group}: got {bodies} after {start} deleted")
                    kept[group] = rng.randint(0, len(messages))
            with registry:
                for group, keep in kept.items():
                    done[group] += keep
                    del holders[group]
            deletes = [m for g, ms in by_group.items() for m in ms[: kept[g]]]
            releases = [m for g, ms in by_group.items() for m in ms[kept[g] :]]
            if deletes:
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(deletes)
                    ],
                )
            if releases:
                sqs.change_message_visibility_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                        for i, m in enumerate(releases)
                    ],
                )
        problems.append(f"lane {number} gave up")

    threads = [threading.Thread(target=lane, args=(n,)) for n in range(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    assert done == dict.fromkeys(expected, per_group)
    assert service.queues["orders.fifo"].counts == [0, 0, 0]
