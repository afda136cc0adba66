"""The two baselines dlqctl is compared with: plain boto3 loops an operator might write.

naive:   one message at a time — receive 1, then send 1 / delete 1 / release 1.
batched: one lane of full batches — receive 10, then send, delete or release 10 at once.

They do the least work each scenario needs (a tally by error type, a copy of the body and
attributes, a JSONL line) and none of dlqctl's safety: no plan, no journal, no retries
beyond botocore's. That makes them a floor for cost, not a fair feature comparison.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.scenarios import REDRIVE_ERROR_TYPE

HOLD_S = 900  # long enough for any sample to finish inside the hold
WAIT_S = 1  # dlqctl's default long poll
EMPTY_RECEIVES_TO_STOP = 2


def _receiver(client: Any, url: str, batch: int) -> Callable[[], list[dict[str, Any]]]:
    def receive() -> list[dict[str, Any]]:
        response = client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=batch,
            VisibilityTimeout=HOLD_S,
            WaitTimeSeconds=WAIT_S,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    return receive


def _messages(client: Any, url: str, work: int, batch: int) -> Any:
    """Yield batches until `work` distinct messages were seen or the queue runs dry."""
    receive = _receiver(client, url, batch)
    seen: set[str] = set()
    empty = 0
    while len(seen) < work and empty < EMPTY_RECEIVES_TO_STOP:
        messages = receive()
        empty = 0 if messages else empty + 1
        fresh = [m for m in messages if m["MessageId"] not in seen]
        seen.update(m["MessageId"] for m in fresh)
        yield fresh


def _error_type(message: dict[str, Any]) -> str:
    attribute = message.get("MessageAttributes", {}).get("ErrorType", {})
    return str(attribute.get("StringValue", "Unknown"))


def _release(client: Any, url: str, handles: list[str], batch: int) -> None:
    if batch == 1:
        for handle in handles:
            client.change_message_visibility(
                QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0
            )
        return
    for start in range(0, len(handles), batch):
        chunk = handles[start : start + batch]
        client.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(chunk)
            ],
        )


def scan(client: Any, dlq_url: str, target_url: str, work: int, batch: int, tmp: Path) -> int:
    tally: Counter[str] = Counter()
    handles: list[str] = []
    for messages in _messages(client, dlq_url, work, batch):
        for message in messages:
            tally[_error_type(message)] += 1
            handles.append(message["ReceiptHandle"])
    _release(client, dlq_url, handles, batch)
    return sum(tally.values())


def export(client: Any, dlq_url: str, target_url: str, work: int, batch: int, tmp: Path) -> int:
    handles: list[str] = []
    with (tmp / "export.jsonl").open("w") as out:
        for messages in _messages(client, dlq_url, work, batch):
            for message in messages:
                record = {k: message.get(k) for k in ("MessageId", "Body", "Attributes")}
                record["ErrorType"] = _error_type(message)
                out.write(json.dumps(record) + "\n")
                handles.append(message["ReceiptHandle"])
        out.flush()
        os.fsync(out.fileno())
    _release(client, dlq_url, handles, batch)
    return len(handles)


def redrive(client: Any, dlq_url: str, target_url: str, work: int, batch: int, tmp: Path) -> int:
    moved = 0
    for messages in _messages(client, dlq_url, work, batch):
        chosen = [m for m in messages if _error_type(m) == REDRIVE_ERROR_TYPE][: work - moved]
        others = [m["ReceiptHandle"] for m in messages if m not in chosen]
        _release(client, dlq_url, others, batch)
        if chosen:
            moved += _move(client, dlq_url, target_url, chosen, batch)
    return moved


def _move(
    client: Any, dlq_url: str, target_url: str, messages: list[dict[str, Any]], batch: int
) -> int:
    if batch == 1:
        for message in messages:
            client.send_message(QueueUrl=target_url, **_copy(message))
            client.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)
    sent = client.send_message_batch(
        QueueUrl=target_url,
        Entries=[{"Id": str(i), **_copy(m)} for i, m in enumerate(messages)],
    )
    ok = [messages[int(entry["Id"])] for entry in sent.get("Successful", [])]
    if ok:
        client.delete_message_batch(
            QueueUrl=dlq_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ok)],
        )
    return len(ok)


def _copy(message: dict[str, Any]) -> dict[str, Any]:
    copy: dict[str, Any] = {"MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        copy["MessageAttributes"] = message["MessageAttributes"]
    return copy


BASELINES = {"scan": scan, "redrive": redrive, "export": export}
BATCH = {"naive": 1, "batched": 10}
