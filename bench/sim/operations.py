"""SQS operations over the in-memory service: JSON-protocol parameters in, answers out.

Parameters and answers are the dicts of the AWS JSON 1.0 bodies boto3 sends and parses
(binary values as base64 text), so the shapes here are the wire shapes. Checks are the
ones SQS makes server-side and botocore does not (batch sizes and ids, ranges, sizes).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.sim.md5 import md5_of_attributes, md5_of_body
from bench.sim.service import (
    MAX_DELAY_S,
    MAX_RECEIVE,
    Message,
    Queue,
    SqsError,
    SqsService,
    check_visibility,
    invalid_parameter,
)

SENDER_ID = "AIDASIMULATEDSENDER01"
MAX_BATCH = 10
MAX_WAIT_S = 20
_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
# Group and deduplication ids: up to 128 ASCII letters, digits and punctuation marks.
_TOKEN = re.compile(r"[!-~]{1,128}")

Params = dict[str, Any]
Answer = dict[str, Any]


@dataclass
class Call:
    """One request's context: the service (its lock held), the time, and whether a batch
    entry should fail (fault injection, decided by the transport)."""

    service: SqsService
    fail_entry: Callable[[], bool]

    def now(self) -> tuple[float, int]:
        now = self.service.clock()
        return now, int(now * 1000)


# -- queues --------------------------------------------------------------------------


def create_queue(call: Call, params: Params) -> Answer:
    queue = call.service.create_queue(params["QueueName"], params.get("Attributes"))
    return {"QueueUrl": queue.url}


def get_queue_url(call: Call, params: Params) -> Answer:
    queue = call.service.queue(params["QueueName"], params.get("QueueOwnerAWSAccountId"))
    return {"QueueUrl": queue.url}


def get_queue_attributes(call: Call, params: Params) -> Answer:
    queue = call.service.queue_at(params["QueueUrl"])
    names = params.get("AttributeNames") or []
    if not names:
        return {}  # SQS answers nothing when asked for nothing
    values = queue.attribute_values(call.now()[0])
    if "All" not in names:
        values = {name: value for name, value in values.items() if name in names}
    return {"Attributes": values}


def list_queues(call: Call, params: Params) -> Answer:
    prefix = params.get("QueueNamePrefix", "")
    urls = [q.url for name, q in call.service.queues.items() if name.startswith(prefix)]
    return _page(urls, params, "QueueUrls", omit_empty=True)


def list_dead_letter_source_queues(call: Call, params: Params) -> Answer:
    queue = call.service.queue_at(params["QueueUrl"])
    urls = sorted(source.url for source in call.service.sources_of(queue))
    return _page(urls, params, "queueUrls", omit_empty=False)


def _page(urls: list[str], params: Params, key: str, *, omit_empty: bool) -> Answer:
    start = int(params.get("NextToken") or 0)
    limit = params.get("MaxResults")
    end = len(urls) if limit is None else start + int(limit)
    answer: Answer = {}
    if urls[start:end] or not omit_empty:
        answer[key] = urls[start:end]
    if end < len(urls):
        answer["NextToken"] = str(end)
    return answer


# -- sending -------------------------------------------------------------------------


def send_message(call: Call, params: Params) -> Answer:
    queue = call.service.queue_at(params["QueueUrl"])
    _check_message(queue, params)
    return _send(call, queue, params)


def send_message_batch(call: Call, params: Params) -> Answer:
    queue = call.service.queue_at(params["QueueUrl"])
    entries = _check_batch(params, "SendMessageBatchRequestEntry")
    # Every entry is checked before any is sent, so a refused batch sends nothing.
    total = sum(_check_message(queue, entry) for entry in entries)
    if total > queue.max_message_size:
        raise SqsError(
            "BatchRequestTooLong",
            f"Batch requests cannot be longer than {queue.max_message_size} bytes. "
            f"You have sent {total} bytes.",
            query_code="AWS.SimpleQueueService.BatchRequestTooLong",
        )
    successful, failed = [], []
    for entry in entries:
        if call.fail_entry():
            failed.append(_entry_fault(entry["Id"]))
        else:
            successful.append({"Id": entry["Id"], **_send(call, queue, entry)})
    return {"Successful": successful, "Failed": failed}


def _send(call: Call, queue: Queue, params: Params) -> Answer:
    # A FIFO queue has no per-message delay (_check_message refuses one): its own applies.
    default = queue.attributes["DelaySeconds"]
    delay = int(default if queue.fifo else params.get("DelaySeconds", default))
    body = params["MessageBody"]
    attributes = params.get("MessageAttributes") or {}
    system = {
        name: str(value.get("StringValue", ""))
        for name, value in (params.get("MessageSystemAttributes") or {}).items()
    }
    now, now_ms = call.now()
    message = queue.send(
        body,
        attributes,
        system,
        delay,
        now,
        now_ms,
        group_id=params.get("MessageGroupId"),
        dedup_id=params.get("MessageDeduplicationId"),
    )
    answer = {"MessageId": queue.message_id(message), "MD5OfMessageBody": md5_of_body(body)}
    if attributes:
        answer["MD5OfMessageAttributes"] = md5_of_attributes(attributes)
    sequence_number = queue.sequence_number(message)
    if sequence_number is not None:
        answer["SequenceNumber"] = sequence_number
    return answer


def _check_message(queue: Queue, params: Params) -> int:
    """Refuse what SQS refuses of one message; its size, as _check_size counts it."""
    group_id = params.get("MessageGroupId")
    dedup_id = params.get("MessageDeduplicationId")
    delay = params.get("DelaySeconds")
    if queue.fifo:
        if not group_id:
            # The JSON protocol's name for it; botocore reports the query code, as SQS does.
            raise SqsError(
                "MissingRequiredParameterException",
                "The request must contain the parameter MessageGroupId.",
                query_code="MissingParameter",
            )
        if dedup_id is None and not queue.content_based_deduplication:
            raise invalid_parameter(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        if delay:
            raise _not_for_this_queue_type("DelaySeconds", delay)
    elif dedup_id is not None:
        raise _not_for_this_queue_type("MessageDeduplicationId", dedup_id)
    if delay is not None and not 0 <= int(delay) <= MAX_DELAY_S:
        raise invalid_parameter(
            f"Value {delay} for parameter DelaySeconds is invalid. "
            f"Reason: must be between 0 and {MAX_DELAY_S}."
        )
    for name, value in (("MessageGroupId", group_id), ("MessageDeduplicationId", dedup_id)):
        if value is not None and not _TOKEN.fullmatch(value):
            raise invalid_parameter(
                f"Value {value} for parameter {name} is invalid. Reason: it can contain up to "
                "128 alphanumeric and punctuation characters."
            )
    return _check_size(queue, params)


def _not_for_this_queue_type(name: str, value: Any) -> SqsError:
    return invalid_parameter(
        f"Value {value} for parameter {name} is invalid. "
        "Reason: The request include parameter that is not valid for this queue type."
    )


def _check_size(queue: Queue, params: Params) -> int:
    """Bytes SQS counts against MaximumMessageSize: body plus attribute names, types, values."""
    size = len(params["MessageBody"].encode("utf-8", "surrogatepass"))
    for name, attribute in (params.get("MessageAttributes") or {}).items():
        value = attribute.get("StringValue")
        value_size = len(value.encode()) if value is not None else _binary_size(attribute)
        size += len(name.encode()) + len(attribute["DataType"].encode()) + value_size
    if size > queue.max_message_size:
        raise invalid_parameter(
            "One or more parameters are invalid. "
            f"Reason: Message must be shorter than {queue.max_message_size} bytes."
        )
    return size


def _binary_size(attribute: dict[str, Any]) -> int:
    return len(base64.b64decode(attribute.get("BinaryValue", "")))


# -- receiving and holding -----------------------------------------------------------


def receive_message(call: Call, params: Params) -> Answer:
    queue = call.service.queue_at(params["QueueUrl"])
    limit = int(params.get("MaxNumberOfMessages", 1))
    if not 1 <= limit <= MAX_RECEIVE:
        raise invalid_parameter(
            f"Value {limit} for parameter MaxNumberOfMessages is invalid. "
            f"Reason: must be between 1 and {MAX_RECEIVE}, if provided."
        )
    visibility = int(params.get("VisibilityTimeout", queue.visibility_timeout_s))
    check_visibility(visibility)
    wait_s = int(params.get("WaitTimeSeconds", queue.attributes["ReceiveMessageWaitTimeSeconds"]))
    if not 0 <= wait_s <= MAX_WAIT_S:
        raise invalid_parameter(f"Value {wait_s} for parameter WaitTimeSeconds is invalid.")
    taken = _long_poll(call, queue, limit, visibility, wait_s)
    if not taken:
        return {}
    system_names = set(params.get("MessageSystemAttributeNames") or ()) | set(
        params.get("AttributeNames") or ()
    )
    attribute_names = params.get("MessageAttributeNames") or []
    return {"Messages": [_received(queue, m, system_names, attribute_names) for m in taken]}


def _long_poll(call: Call, queue: Queue, limit: int, visibility: int, wait_s: int) -> list[Message]:
    """Answer at once when something is visible; else wait up to `wait_s` for a send, a
    release or a lapsing hold. The wait releases the service lock, like a real long poll
    that holds a connection, not the queue."""
    now, now_ms = call.now()
    deadline = now + wait_s
    while True:
        room = queue.in_flight_room(now)
        if room <= 0:
            raise SqsError(
                "OverLimit",
                f"The maximum number of in flight messages ({call.service.in_flight_limit}) "
                "has been reached for this queue.",
                status=403,  # as SQS's query-protocol model gave it (and moto's copy of it)
            )
        taken = queue.take(min(limit, room), visibility, now, now_ms)
        if taken or now >= deadline:
            return taken
        next_timer = queue.next_timer()
        until = deadline if next_timer is None else min(deadline, next_timer)
        queue.waiting += 1
        try:
            queue.changed.wait(max(0.0, until - now))
        finally:
            queue.waiting -= 1
        now, now_ms = call.now()


def _received(
    queue: Queue, message: Message, system_names: set[str], attribute_names: list[str]
) -> Answer:
    body = queue.body(message)
    out: Answer = {
        "MessageId": queue.message_id(message),
        "ReceiptHandle": queue.receipt_handle(message),
        "MD5OfBody": md5_of_body(body),
        "Body": body,
    }
    if system_names:
        system = {
            "SenderId": SENDER_ID,
            "SentTimestamp": str(message.sent_ms),
            "ApproximateReceiveCount": str(message.receive_count),
            "ApproximateFirstReceiveTimestamp": str(message.first_receive_ms),
            **queue.system_attributes(message),
        }
        if "All" not in system_names:
            system = {k: v for k, v in system.items() if k in system_names}
        out["Attributes"] = system
    chosen = _chosen_attributes(message.attributes, attribute_names)
    if chosen:
        out["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
        out["MessageAttributes"] = chosen
    return out


def _chosen_attributes(attributes: dict[str, Any], names: list[str]) -> dict[str, Any]:
    if not attributes or not names:
        return {}
    if "All" in names or ".*" in names:
        return attributes
    prefixes = tuple(n[:-2] for n in names if n.endswith(".*"))
    return {
        name: value
        for name, value in attributes.items()
        if name in names or (prefixes and name.startswith(prefixes))
    }


def change_message_visibility(call: Call, params: Params) -> Answer:
    queue = call.service.queue_at(params["QueueUrl"])
    queue.change_visibility(
        params["ReceiptHandle"], int(params["VisibilityTimeout"]), call.now()[0]
    )
    return {}


def change_message_visibility_batch(call: Call, params: Params) -> Answer:
    queue = call.service.queue_at(params["QueueUrl"])
    entries = _check_batch(params, "ChangeMessageVisibilityBatchRequestEntry")
    now = call.now()[0]
    return _per_entry(
        call,
        entries,
        lambda e: queue.change_visibility(e["ReceiptHandle"], int(e["VisibilityTimeout"]), now),
    )


def delete_message(call: Call, params: Params) -> Answer:
    queue = call.service.queue_at(params["QueueUrl"])
    queue.delete(params["ReceiptHandle"])
    return {}


def delete_message_batch(call: Call, params: Params) -> Answer:
    queue = call.service.queue_at(params["QueueUrl"])
    entries = _check_batch(params, "DeleteMessageBatchRequestEntry")
    return _per_entry(call, entries, lambda e: queue.delete(e["ReceiptHandle"]))


def _per_entry(call: Call, entries: list[Params], apply: Callable[[Params], None]) -> Answer:
    successful, failed = [], []
    for entry in entries:
        if call.fail_entry():
            failed.append(_entry_fault(entry["Id"]))
            continue
        try:
            apply(entry)
        except SqsError as exc:
            failed.append(
                {
                    "Id": entry["Id"],
                    "SenderFault": exc.sender_fault,
                    "Code": exc.code,
                    "Message": exc.message,
                }
            )
        else:
            successful.append({"Id": entry["Id"]})
    return {"Successful": successful, "Failed": failed}


def _entry_fault(entry_id: str) -> Answer:
    # How SQS reports an entry it failed on its side: not the sender's fault, retry it.
    return {
        "Id": entry_id,
        "SenderFault": False,
        "Code": "InternalError",
        "Message": "simulated per-entry failure",
    }


def _check_batch(params: Params, entry_kind: str) -> list[Params]:
    entries: list[Params] = params.get("Entries") or []
    if not entries:
        raise SqsError(
            "EmptyBatchRequest",
            f"There should be at least one {entry_kind} in the request.",
            query_code="AWS.SimpleQueueService.EmptyBatchRequest",
        )
    if len(entries) > MAX_BATCH:
        raise SqsError(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}.",
            query_code="AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        )
    ids = [entry["Id"] for entry in entries]
    for entry_id in ids:
        if not _ENTRY_ID.fullmatch(entry_id):
            raise SqsError(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long.",
                query_code="AWS.SimpleQueueService.InvalidBatchEntryId",
            )
    if len(set(ids)) != len(ids):
        repeated = next(i for i in ids if ids.count(i) > 1)
        raise SqsError(
            "BatchEntryIdsNotDistinct",
            f"Id {repeated} repeated.",
            query_code="AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        )
    return entries


OPERATIONS: dict[str, Callable[[Call, Params], Answer]] = {
    "CreateQueue": create_queue,
    "GetQueueUrl": get_queue_url,
    "GetQueueAttributes": get_queue_attributes,
    "ListQueues": list_queues,
    "ListDeadLetterSourceQueues": list_dead_letter_source_queues,
    "SendMessage": send_message,
    "SendMessageBatch": send_message_batch,
    "ReceiveMessage": receive_message,
    "ChangeMessageVisibility": change_message_visibility,
    "ChangeMessageVisibilityBatch": change_message_visibility_batch,
    "DeleteMessage": delete_message,
    "DeleteMessageBatch": delete_message_batch,
}
