"""Who put a message in the DLQ, what it failed to reach, and why (docs/dlq-kinds.md).

Each AWS service that gives up on a message leaves its own traces, as AWS documents them:
- SQS's redrive policy: the system attribute DeadLetterQueueSourceArn (the source queue);
- Lambda, asynchronous invocation DLQ: the body is the event unchanged, with message
  attributes RequestID, ErrorCode (Number) and ErrorMessage; the function is not named;
- Lambda, on-failure destination: a JSON record of the invocation (requestContext,
  requestPayload, responseContext, responsePayload); a stream's record carries only its
  batch's metadata, not the events;
- EventBridge rule target: the event, with attributes RULE_ARN, TARGET_ARN, ERROR_CODE,
  ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION and RETRY_ATTEMPTS;
- EventBridge Scheduler: the target's input, with SCHEDULE_ARN, TARGET_ARN, ERROR_CODE,
  ERROR_MESSAGE, EXECUTION_ID, IS_PAYLOAD_TRUNCATED, RETRY_ATTEMPTS and SCHEDULED_TIME;
- SNS subscription: the SNS envelope (Type, MessageId, TopicArn, Message, …) unless the
  subscription delivers raw, and no error data at all.

A pipeline's config can say the kind (and the function or topic) when the messages
cannot: a raw-delivery SNS subscription, or a Lambda function dlqctl may not list.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from dlqctl.core.messages import Received
from dlqctl.models import DlqKind, ErrorSource

# Lambda's ErrorMessage is at most 1 KB; an error type is shown in tables and grouped by.
ERROR_TYPE_MAX = 120
DROPPED_PAYLOAD = (
    "the record has no requestPayload: Lambda drops the event from a record larger than "
    "its destination accepts"
)
STREAM_RECORD = (
    "a stream's failure record names the batch (shard and sequence numbers), not its "
    "events: read them from the stream"
)
TRUNCATED_PAYLOAD = "Scheduler truncated the payload (IS_PAYLOAD_TRUNCATED): it cannot be resent"
# The attributes a service adds to the message it puts in the DLQ: a copy sent back to
# the original target leaves them out, as the original delivery had none of them.
ANNOTATIONS: dict[DlqKind, frozenset[str]] = {
    "lambda-async": frozenset({"RequestID", "ErrorCode", "ErrorMessage"}),
    "eventbridge-rule": frozenset(
        {
            "RULE_ARN",
            "TARGET_ARN",
            "ERROR_CODE",
            "ERROR_MESSAGE",
            "EXHAUSTED_RETRY_CONDITION",
            "RETRY_ATTEMPTS",
        }
    ),
    "scheduler": frozenset(
        {
            "SCHEDULE_ARN",
            "TARGET_ARN",
            "ERROR_CODE",
            "ERROR_MESSAGE",
            "EXECUTION_ID",
            "IS_PAYLOAD_TRUNCATED",
            "RETRY_ATTEMPTS",
            "SCHEDULED_TIME",
            "EXHAUSTED_RETRY_CONDITION",
        }
    ),
}


@dataclass(frozen=True, slots=True)
class KindOverride:
    """A pipeline's word on its DLQ: every message is of `kind`, and goes to `target`."""

    kind: DlqKind
    target: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """What one message says about its failure.

    `payload` is what the original target receives again (None: the message's body, as
    an SQS copy carries it); `refused` says why it cannot be resent from this message.
    """

    kind: DlqKind
    target: str | None = None
    rule: str | None = None  # the rule or schedule the delivery belonged to
    error_type: str | None = None
    error_source: ErrorSource | None = None
    payload: str | None = None
    refused: str | None = None


# What a message is taken for before it is read (a frozen, shared default).
UNREAD = Reading("unknown")


def read(message: Received, override: KindOverride | None = None) -> Reading:
    """The message's kind and error data; the config's override decides the kind."""
    found = _detect(message)
    if override is None:
        return found
    if override.kind == found.kind:
        return found if override.target is None else _retarget(found, override.target)
    return _retarget(_as_kind(message, override.kind), override.target)


def _detect(message: Received) -> Reading:
    # SQS adds DeadLetterQueueSourceArn when its redrive policy moves a message, always the
    # last hop: an SNS envelope or a destination record that went through a queue before
    # reaching this DLQ goes back to that queue.
    source = message.system.get("DeadLetterQueueSourceArn")
    if source:
        return Reading("sqs-redrive-policy", target=source)
    attributes = _string_attributes(message)
    if "SCHEDULE_ARN" in attributes:
        return _scheduler(attributes)
    if "RULE_ARN" in attributes:
        return _eventbridge(attributes)
    if "RequestID" in attributes and ("ErrorCode" in attributes or "ErrorMessage" in attributes):
        return _lambda_async(attributes)
    body = message.body if message.encoding == "json" else None
    if isinstance(body, dict):
        if isinstance(body.get("requestContext"), dict) and "responseContext" in body:
            return _lambda_destination(body)
        if _is_sns_envelope(body):
            return _sns(body)
    return Reading("unknown")


def _as_kind(message: Received, kind: DlqKind) -> Reading:
    """The message read as `kind` although its traces do not say so (config override)."""
    attributes = _string_attributes(message)
    body = message.body if message.encoding == "json" else None
    if kind == "lambda-async":
        return _lambda_async(attributes)
    if kind == "lambda-destination" and isinstance(body, dict):
        return _lambda_destination(body)
    if kind == "eventbridge-rule":
        return _eventbridge(attributes)
    if kind == "scheduler":
        return _scheduler(attributes)
    if kind == "sns-subscription":
        return _sns(body) if isinstance(body, dict) and _is_sns_envelope(body) else Reading(kind)
    if kind == "sqs-redrive-policy":
        return Reading(kind, target=message.system.get("DeadLetterQueueSourceArn"))
    return Reading(kind)


def _retarget(reading: Reading, target: str | None) -> Reading:
    return reading if target is None else dataclasses.replace(reading, target=target)


def _lambda_async(attributes: dict[str, str]) -> Reading:
    message = attributes.get("ErrorMessage", "").strip()
    if message:
        return Reading("lambda-async", error_type=_short(message), error_source="ErrorMessage")
    code = attributes.get("ErrorCode")
    if _filled(code):
        return Reading("lambda-async", error_type=f"ErrorCode {code}", error_source="ErrorCode")
    return Reading("lambda-async")


def _lambda_destination(body: dict[str, Any]) -> Reading:
    request = body.get("requestContext")
    request = request if isinstance(request, dict) else {}
    response = body.get("responseContext")
    result = body.get("responsePayload")
    error_type: str | None = None
    source: ErrorSource | None = None
    if isinstance(result, dict) and _filled(result.get("errorType")):
        error_type, source = result["errorType"], "responsePayload.errorType"
    elif isinstance(response, dict) and _filled(response.get("functionError")):
        error_type, source = response["functionError"], "responseContext.functionError"
    elif _filled(request.get("condition")):
        error_type, source = request["condition"], "requestContext.condition"
    target = request.get("functionArn")
    target = str(target) if target else None
    error_type = _short_or_none(error_type)
    if any(key.endswith("BatchInfo") for key in body):  # KinesisBatchInfo, DDBStreamBatchInfo
        return Reading(
            "lambda-destination",
            target,
            error_type=error_type,
            error_source=source,
            refused=STREAM_RECORD,
        )
    if "requestPayload" not in body:
        payload, refused = None, DROPPED_PAYLOAD
    else:
        # ASCII escapes: a lone surrogate in the event stays valid JSON text.
        payload, refused = json.dumps(body["requestPayload"]), None
    return Reading(
        "lambda-destination",
        target,
        error_type=error_type,
        error_source=source,
        payload=payload,
        refused=refused,
    )


def _eventbridge(attributes: dict[str, str]) -> Reading:
    code = attributes.get("ERROR_CODE")
    condition = attributes.get("EXHAUSTED_RETRY_CONDITION")
    error_type, source = _error_code(code, condition)
    return Reading(
        "eventbridge-rule",
        target=attributes.get("TARGET_ARN") or None,
        rule=attributes.get("RULE_ARN") or None,
        error_type=error_type,
        error_source=source,
    )


def _scheduler(attributes: dict[str, str]) -> Reading:
    error_type, source = _error_code(
        attributes.get("ERROR_CODE"), attributes.get("EXHAUSTED_RETRY_CONDITION")
    )
    truncated = attributes.get("IS_PAYLOAD_TRUNCATED", "").lower() == "true"
    return Reading(
        "scheduler",
        target=attributes.get("TARGET_ARN") or None,
        rule=attributes.get("SCHEDULE_ARN") or None,
        error_type=error_type,
        error_source=source,
        refused=TRUNCATED_PAYLOAD if truncated else None,
    )


def _sns(body: dict[str, Any]) -> Reading:
    return Reading("sns-subscription", target=str(body.get("TopicArn") or "") or None)


def _error_code(code: str | None, condition: str | None) -> tuple[str | None, ErrorSource | None]:
    if code and _filled(code):
        return _short(code), "ERROR_CODE"
    if condition and _filled(condition):
        return _short(condition), "EXHAUSTED_RETRY_CONDITION"
    return None, None


def _filled(value: object) -> bool:
    """Text with something in it: what can name an error type."""
    return isinstance(value, str) and bool(value.strip())


def _is_sns_envelope(body: dict[str, Any]) -> bool:
    return (
        body.get("Type") == "Notification"
        and isinstance(body.get("TopicArn"), str)
        and isinstance(body.get("MessageId"), str)
        and "Message" in body
    )


def _string_attributes(message: Received) -> dict[str, str]:
    return {
        name: str(value.get("StringValue", ""))
        for name, value in message.message_attributes.items()
        if "StringValue" in value
    }


def _short(text: str) -> str:
    """One line of at most ERROR_TYPE_MAX characters: a type to group and show."""
    line = text.strip().splitlines()[0]
    return line if len(line) <= ERROR_TYPE_MAX else line[: ERROR_TYPE_MAX - 1] + "…"


def _short_or_none(text: str | None) -> str | None:
    return _short(text) if text else None
