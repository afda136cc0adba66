"""The targets besides SQS a redrive sends to: a Lambda function, an SNS topic, an
EventBridge bus. Each answers a batch like SendMessageBatch does (aws/sqs.BatchResult),
so core/moving.py retries, counts and deletes the same way for all of them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any, Literal

from dlqctl.aws.errors import aws_call
from dlqctl.aws.lost_answers import LostAnswers
from dlqctl.aws.sqs import BatchFailure, BatchResult
from dlqctl.errors import DlqctlError, TransientAwsError

InvocationType = Literal["Event", "RequestResponse"]
# A synchronous invoke whose function failed: the message stays in the DLQ.
FUNCTION_ERROR = "FunctionError"
_EVENTS_RETRYABLE = {"ThrottlingException", "InternalFailure", "InternalException"}


class LambdaGateway:
    """Invoke, one message a call (Lambda has no batch invoke): `Event` queues the
    invocation (202), `RequestResponse` waits for the function's verdict."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._lost = LostAnswers(client, ("Invoke",))

    def send_batch(self, function: str, entries: Sequence[dict[str, Any]]) -> BatchResult:
        """Each entry: Id, Payload (text) and InvocationType. A throttle or a lost answer
        fails only its entry (retryable); another error is raised when nothing of the
        batch went out, else fails the rest of the batch for good."""
        succeeded: dict[str, str] = {}
        failed: list[BatchFailure] = []
        lost_total = 0
        for position, entry in enumerate(entries):
            try:
                response, lost = self._lost.counted(
                    functools.partial(self._invoke, function, entry)
                )
            except TransientAwsError as exc:
                lost_total += exc.lost_answers
                failed.append(BatchFailure(entry["Id"], "Transient", exc.message, False))
                continue
            except DlqctlError as exc:
                if not succeeded and not failed:
                    raise
                failed += [
                    BatchFailure(e["Id"], "Refused", exc.message, True) for e in entries[position:]
                ]
                break
            lost_total += lost
            verdict = _function_error(response)
            if verdict is None:
                succeeded[entry["Id"]] = str(
                    response.get("ResponseMetadata", {}).get("RequestId", "")
                )
            else:
                failed.append(BatchFailure(entry["Id"], FUNCTION_ERROR, verdict, True))
        return BatchResult(succeeded, failed, lost_total)

    def _invoke(self, function: str, entry: dict[str, Any]) -> dict[str, Any]:
        with aws_call("lambda", function):
            return dict(
                self.client.invoke(
                    FunctionName=function,
                    InvocationType=entry["InvocationType"],
                    Payload=entry["Payload"].encode("utf-8"),
                )
            )

    def functions_with_dlq(self, dlq_arn: str) -> list[str]:
        """The functions whose asynchronous invocations' DLQ (DeadLetterConfig) is
        `dlq_arn`."""
        found = []
        with aws_call("lambda", "the functions (ListFunctions)"):
            for page in self.client.get_paginator("list_functions").paginate():
                for function in page.get("Functions", []):
                    target = (function.get("DeadLetterConfig") or {}).get("TargetArn")
                    if target == dlq_arn:
                        found.append(str(function["FunctionArn"]))
        return found


def _function_error(response: dict[str, Any]) -> str | None:
    """The function's failure from a synchronous invoke, as `errorType: errorMessage`."""
    kind = response.get("FunctionError")
    if not kind:
        return None
    payload = response.get("Payload")
    text = payload.read().decode("utf-8", "replace") if payload is not None else ""
    try:
        said = json.loads(text)
    except ValueError:
        said = None
    if isinstance(said, dict):
        error = ": ".join(str(said[k]) for k in ("errorType", "errorMessage") if said.get(k))
        return f"{kind}: {error}" if error else str(kind)
    return f"{kind}: {text[:200]}" if text else str(kind)


class SnsGateway:
    """PublishBatch: the same per-entry answer as SendMessageBatch."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._lost = LostAnswers(client, ("PublishBatch",))

    def send_batch(self, topic: str, entries: Sequence[dict[str, Any]]) -> BatchResult:
        def call() -> dict[str, Any]:
            with aws_call("sns", topic):
                return dict(
                    self.client.publish_batch(
                        TopicArn=topic, PublishBatchRequestEntries=list(entries)
                    )
                )

        response, lost = self._lost.counted(call)
        return BatchResult(
            succeeded={
                str(e["Id"]): str(e.get("MessageId", "")) for e in response.get("Successful", [])
            },
            failed=[
                BatchFailure(
                    str(e["Id"]),
                    str(e.get("Code", "Unknown")),
                    str(e.get("Message", "")),
                    bool(e.get("SenderFault", False)),
                )
                for e in response.get("Failed", [])
            ],
            lost_answers=lost,
        )


class EventsGateway:
    """PutEvents: answers entry by entry, in the order sent, with an EventId or an
    ErrorCode."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._lost = LostAnswers(client, ("PutEvents",))

    def send_batch(self, bus: str, entries: Sequence[dict[str, Any]]) -> BatchResult:
        ids = [entry["Id"] for entry in entries]
        sent = [
            {key: value for key, value in entry.items() if key != "Id"} | {"EventBusName": bus}
            for entry in entries
        ]

        def call() -> dict[str, Any]:
            with aws_call("events", f"event bus {bus}"):
                return dict(self.client.put_events(Entries=sent))

        response, lost = self._lost.counted(call)
        succeeded: dict[str, str] = {}
        failed: list[BatchFailure] = []
        for entry_id, answer in zip(ids, response.get("Entries", []), strict=False):
            if answer.get("EventId"):
                succeeded[entry_id] = str(answer["EventId"])
            else:
                code = str(answer.get("ErrorCode", "Unknown"))
                failed.append(
                    BatchFailure(
                        entry_id,
                        code,
                        str(answer.get("ErrorMessage", "")),
                        code not in _EVENTS_RETRYABLE,
                    )
                )
        return BatchResult(succeeded, failed, lost)
