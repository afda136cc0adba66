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
from dlqctl.errors import (
    AccessDeniedError,
    DlqctlError,
    NotFoundError,
    TransientAwsError,
)

InvocationType = Literal["Event", "RequestResponse"]
_EVENTS_RETRYABLE = {"ThrottlingException", "InternalFailure", "InternalException"}
# Errors that are the same for every message of the run: raised, so the run stops.
_RUN_ERRORS = (AccessDeniedError, NotFoundError)


class LambdaGateway:
    """Invoke, one message a call (Lambda has no batch invoke): `Event` queues the
    invocation (202), `RequestResponse` waits for the function's verdict."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._lost = LostAnswers(client, ("Invoke",))

    def send_batch(self, function: str, entries: Sequence[dict[str, Any]]) -> BatchResult:
        """Each entry: Id, Payload (text) and InvocationType. Every entry gets its own
        outcome, and the lost answers of its own call: a throttle or a lost answer of an
        asynchronous invoke is retryable; a function's failed verdict, an invoke whose
        verdict is unknown (it may have run) or a refused payload is that entry's alone.
        Access denied or a missing function is raised when nothing of the batch ran, and
        fails the rest of the batch otherwise."""
        succeeded: dict[str, str] = {}
        failed: list[BatchFailure] = []
        lost: dict[str, int] = {}
        for position, entry in enumerate(entries):
            entry_id = str(entry["Id"])
            sync = entry["InvocationType"] == "RequestResponse"
            try:
                response, lost[entry_id] = self._lost.counted(
                    functools.partial(self._invoke, function, entry)
                )
                verdict = _function_error(response)
            except _RUN_ERRORS as exc:
                lost[entry_id] = exc.lost_answers
                if not succeeded and not failed:
                    raise
                failed += [
                    BatchFailure(str(e["Id"]), "Refused", exc.message, True)
                    for e in entries[position:]
                ]
                break
            except TransientAwsError as exc:
                lost[entry_id] = exc.lost_answers
                # A synchronous invoke whose answer was lost may have run the function:
                # not retried (it could run again), left in the DLQ, counted.
                unknown = sync and exc.ambiguous
                if unknown:
                    lost[entry_id] = max(1, exc.lost_answers)
                failed.append(BatchFailure(entry_id, "Transient", exc.message, unknown))
                continue
            except DlqctlError as exc:  # e.g. InvalidRequestContent: this payload's own
                lost[entry_id] = exc.lost_answers
                failed.append(BatchFailure(entry_id, "Refused", exc.message, True))
                continue
            except Exception as exc:  # one entry's failure, never the batch's
                failed.append(BatchFailure(entry_id, type(exc).__name__, str(exc), True))
                continue
            if verdict is None:
                succeeded[entry_id] = str(response.get("ResponseMetadata", {}).get("RequestId", ""))
            else:
                failed.append(BatchFailure(entry_id, "FunctionError", verdict, True, True))
        return BatchResult(succeeded, failed, sum(lost.values()), lost_by_entry=lost)

    def _invoke(self, function: str, entry: dict[str, Any]) -> dict[str, Any]:
        with aws_call("lambda", function):
            response = dict(
                self.client.invoke(
                    FunctionName=function,
                    InvocationType=entry["InvocationType"],
                    Payload=entry["Payload"].encode("utf-8", "surrogatepass"),
                )
            )
            payload = response.get("Payload")
            # Read here: the body streams, and a broken stream is this call's failure.
            response["Payload"] = payload.read() if payload is not None else b""
        return response

    def functions_with_dlq(self, dlq_arn: str) -> list[str]:
        """The functions whose asynchronous invocations' DLQ (DeadLetterConfig) is
        `dlq_arn` ($LATEST's configuration, which ListFunctions returns)."""
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
    text = bytes(response.get("Payload") or b"").decode("utf-8", "replace")
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
