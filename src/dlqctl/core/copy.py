"""The copy a redrive sends: the message as it was, plus dlqctl's redrive counter.

Body, every message attribute and AWSTraceHeader are kept. A message group id is kept on
FIFO targets (with a deduplication id that folds this run's retries) and on standard
ones (fair queues). The counter attribute is added only where it fits: SQS allows 10
message attributes and `MaximumMessageSize` counts them, so a copy that has no room for
it goes without, and the run warns that `--max-redrives` cannot protect it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlqctl.aws.sqs import RawMessage

REDRIVE_COUNT_ATTRIBUTE = "dlqctl-redrive-count"
MAX_MESSAGE_ATTRIBUTES = 10
MAX_DEDUPLICATION_ID = 128


@dataclass(frozen=True, slots=True)
class Copy:
    """The SendMessageBatch entry (without its Id), and whether it carries the counter."""

    entry: dict[str, Any]
    size: int
    counted: bool


def redrive_count(raw: RawMessage) -> int:
    """How often dlqctl has redriven this message already (0 when it cannot tell)."""
    value = raw.get("MessageAttributes", {}).get(REDRIVE_COUNT_ATTRIBUTE, {}).get("StringValue")
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def make_copy(
    raw: RawMessage,
    *,
    max_size: int,
    fifo: bool,
    deduplication_id: str,
    delay_s: int = 0,
    leave_out: frozenset[str] = frozenset(),
) -> Copy:
    """The copy of `raw` for a target whose MaximumMessageSize is `max_size`, without
    the attributes in `leave_out` (those the DLQ's service added)."""
    system = raw.get("Attributes", {})
    attributes, counted, size = counted_attributes(raw, raw["Body"], max_size, leave_out)
    entry: dict[str, Any] = {"MessageBody": raw["Body"]}
    if attributes:
        entry["MessageAttributes"] = attributes
    if "AWSTraceHeader" in system:
        entry["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": system["AWSTraceHeader"]}
        }
    group = system.get("MessageGroupId")
    if group:  # FIFO order, or a fair queue's tenant: either way the group is the message's
        entry["MessageGroupId"] = group
    if fifo:
        entry["MessageDeduplicationId"] = deduplication_id[:MAX_DEDUPLICATION_ID]
    elif delay_s:
        entry["DelaySeconds"] = delay_s
    return Copy(entry, size, counted)


def counted_attributes(
    raw: RawMessage, body: str, max_size: int, leave_out: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], bool, int]:
    """The copy's message attributes (SQS's and SNS's shape), with the redrive counter
    where it fits; whether it does; and the copy's size with `body`."""
    attributes = {
        name: _copy_attribute(value)
        for name, value in raw.get("MessageAttributes", {}).items()
        if name != REDRIVE_COUNT_ATTRIBUTE and name not in leave_out
    }
    plain_size = message_size({"Body": body, "MessageAttributes": attributes})
    counter = {"DataType": "Number", "StringValue": str(redrive_count(raw) + 1)}
    counted_size = plain_size + _attribute_size(REDRIVE_COUNT_ATTRIBUTE, counter)
    counted = len(attributes) < MAX_MESSAGE_ATTRIBUTES and counted_size <= max_size
    if counted:
        attributes[REDRIVE_COUNT_ATTRIBUTE] = counter
    return attributes, counted, counted_size if counted else plain_size


def message_size(raw: RawMessage) -> int:
    """Bytes SQS counts against MaximumMessageSize: the body plus every attribute's name,
    type and value."""
    size = len(str(raw.get("Body", "")).encode("utf-8", "surrogatepass"))
    for name, attribute in raw.get("MessageAttributes", {}).items():
        size += _attribute_size(name, attribute)
    return size


def _attribute_size(name: str, attribute: dict[str, Any]) -> int:
    value = attribute.get("BinaryValue")
    value_bytes = (
        len(value) if value is not None else len(str(attribute.get("StringValue", "")).encode())
    )
    return len(name.encode()) + len(str(attribute.get("DataType", "")).encode()) + value_bytes


def _copy_attribute(attribute: dict[str, Any]) -> dict[str, Any]:
    copied = {"DataType": attribute["DataType"]}
    if "BinaryValue" in attribute:
        copied["BinaryValue"] = attribute["BinaryValue"]
    else:
        copied["StringValue"] = attribute.get("StringValue", "")
    return copied
