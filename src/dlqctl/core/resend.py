"""What each target receives again: the entry for a queue, a function, a topic or a bus.

A copy to a queue is the message as it was (core/copy.py), without the attributes the
DLQ's service added when it goes back to the original target. A function gets the event
it failed on (the body, or a destination record's requestPayload); a topic gets the
message (an SNS envelope's Message, Subject and attributes); a bus gets the event's
source, detail-type, detail, resources and time.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Literal

from dlqctl.aws.sqs import RawMessage
from dlqctl.core.copy import (
    MAX_DEDUPLICATION_ID,
    Copy,
    counted_attributes,
    make_copy,
    message_size,
)
from dlqctl.core.kinds import ANNOTATIONS, Reading
from dlqctl.core.targets import Target

# PutEvents counts 14 bytes for an entry's Time.
_EVENT_TIME_BYTES = 14


def entry_for(
    target: Target,
    raw: RawMessage,
    reading: Reading,
    *,
    as_is: bool,
    fifo: bool,
    deduplication_id: str,
    delay_s: int,
    invoke: Literal["async", "sync"],
) -> Copy | str:
    """The entry `target` receives for `raw`, or why it cannot be built (bad data in one
    message is that message's refusal, never the run's end). `as_is`: the person chose
    the target (--to), so the message goes exactly as it is in the DLQ."""
    try:
        leave_out = frozenset() if as_is else ANNOTATIONS.get(reading.kind, frozenset())
        body = str(raw["Body"]) if as_is or reading.payload is None else reading.payload
        if target.service == "sqs":
            copy = make_copy(
                raw if body == raw["Body"] else {**raw, "Body": body},
                max_size=target.max_size,
                fifo=fifo,
                deduplication_id=deduplication_id,
                delay_s=delay_s,
                leave_out=leave_out,
            )
            return copy
        if target.service == "lambda":
            entry = {
                "Payload": body,
                "InvocationType": "RequestResponse" if invoke == "sync" else "Event",
            }
            return Copy(entry, len(body.encode("utf-8", "surrogatepass")), counted=False)
        if target.service == "sns":
            return _publish(target, raw, reading, body, as_is, leave_out, deduplication_id)
        return _event(body)

    except (ValueError, TypeError, binascii.Error) as exc:  # UnicodeError is a ValueError
        return f"cannot build the copy for {target.name}: {exc}"


def _publish(
    target: Target,
    raw: RawMessage,
    reading: Reading,
    body: str,
    as_is: bool,
    leave_out: frozenset[str],
    deduplication_id: str,
) -> Copy | str:
    envelope = _envelope(raw) if reading.kind == "sns-subscription" and not as_is else None
    entry: dict[str, Any]
    if envelope is not None:
        message = envelope["Message"]
        if not isinstance(message, str):
            return "the SNS envelope's Message is not text"
        attributes = _envelope_attributes(envelope)
        entry = {"Message": message}
        subject = envelope.get("Subject")
        if isinstance(subject, str) and subject:
            entry["Subject"] = subject
        if attributes:
            entry["MessageAttributes"] = attributes
        size = message_size({"Body": message, "MessageAttributes": attributes})
        counted = False
    else:
        copied, counted, size = counted_attributes(raw, body, target.max_size, leave_out)
        entry = {"Message": body}
        if copied:
            entry["MessageAttributes"] = copied
    if target.key.endswith(".fifo"):
        group = raw.get("Attributes", {}).get("MessageGroupId")
        if not group:
            return "a FIFO topic needs a message group id and the message has none"
        entry["MessageGroupId"] = group
        entry["MessageDeduplicationId"] = deduplication_id[:MAX_DEDUPLICATION_ID]
    return Copy(entry, size, counted)


def _envelope(raw: RawMessage) -> dict[str, Any] | None:
    try:
        envelope = json.loads(str(raw["Body"]))
    except ValueError:
        return None
    return envelope if isinstance(envelope, dict) and "Message" in envelope else None


def _envelope_attributes(envelope: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """An envelope's MessageAttributes ({"Type", "Value"}) as Publish takes them."""
    converted: dict[str, dict[str, Any]] = {}
    given = envelope.get("MessageAttributes") or {}
    if not isinstance(given, dict):
        raise ValueError("the SNS envelope's MessageAttributes is not an object")
    for name, attribute in given.items():
        if not isinstance(attribute, dict) or "Type" not in attribute:
            continue
        kind, value = str(attribute["Type"]), str(attribute.get("Value", ""))
        if kind.startswith("Binary"):
            converted[name] = {
                "DataType": kind,
                "BinaryValue": base64.b64decode(value, validate=True),
            }
        else:
            converted[name] = {"DataType": kind, "StringValue": value}
    return converted


def _event(body: str) -> Copy | str:
    """PutEvents' entry for an event as EventBridge delivered it to the DLQ."""
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    if not isinstance(event, dict) or not {"source", "detail-type", "detail"} <= event.keys():
        return (
            "the body is not an EventBridge event (source, detail-type, detail): an input "
            "transformer's output cannot be put on the bus again"
        )
    source = str(event["source"])
    if source.startswith("aws."):
        return f"events from AWS services ({source}) cannot be put on a bus by anyone else"
    detail = json.dumps(event["detail"])
    resources = event.get("resources") or []
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        return "the event's resources are not a list of ARNs"
    entry: dict[str, Any] = {
        "Source": source,
        "DetailType": str(event["detail-type"]),
        "Detail": detail,
        "Resources": resources,
    }
    if isinstance(event.get("time"), str):
        # Checked here: botocore (without parameter validation) would raise at send time.
        entry["Time"] = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    size = _EVENT_TIME_BYTES + sum(
        len(text.encode("utf-8", "surrogatepass"))
        for text in (source, entry["DetailType"], detail, *resources)
    )
    return Copy(entry, size, counted=False)
