"""SqsGateway: every SQS call dlqctl makes, in one place."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dlqctl.aws.errors import aws_call, unknown_operation
from dlqctl.aws.limits import SQS_BATCH_MAX as SQS_BATCH_MAX
from dlqctl.aws.lost_answers import LostAnswers
from dlqctl.errors import AwsError, DlqctlError

RawMessage = dict[str, Any]


@dataclass(frozen=True)
class BatchFailure:
    entry_id: str
    code: str
    message: str
    sender_fault: bool
    # The target took the entry and failed on it (a synchronous invoke's verdict).
    failed_again: bool = False


@dataclass(frozen=True)
class BatchResult:
    """What SQS said about each entry of one batch call. `lost_answers`: attempts that
    botocore retried after a lost answer (a 5xx, a read timeout): each may have acted.
    A target called once per entry (Lambda) says whose attempts they were instead, in
    `lost_by_entry`."""

    succeeded: dict[str, str]  # entry id -> new message id (send) or "" (delete)
    failed: list[BatchFailure]
    lost_answers: int = 0
    lost_by_entry: dict[str, int] | None = None


# The batch calls whose retries matter (aws/lost_answers.py).
_COUNTED_RETRIES = ("SendMessageBatch", "DeleteMessageBatch")


class SqsGateway:
    def __init__(self, client: Any) -> None:
        self.client = client
        self._lost = LostAnswers(client, _COUNTED_RETRIES)

    @property
    def region(self) -> str:
        return str(self.client.meta.region_name)

    def queue_url(self, name: str, account: str | None = None) -> str:
        kwargs: dict[str, str] = {"QueueName": name}
        if account:
            kwargs["QueueOwnerAWSAccountId"] = account
        with aws_call("sqs", name):
            return str(self.client.get_queue_url(**kwargs)["QueueUrl"])

    def attributes(self, url: str) -> dict[str, str]:
        with aws_call("sqs", url):
            response = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        return dict(response.get("Attributes", {}))

    def list_queue_urls(self, prefix: str | None = None) -> Iterator[str]:
        kwargs: dict[str, Any] = {"MaxResults": 1000}
        if prefix:
            kwargs["QueueNamePrefix"] = prefix
        with aws_call("sqs", "the account's queues"):
            for page in self.client.get_paginator("list_queues").paginate(**kwargs):
                yield from page.get("QueueUrls", [])

    def dead_letter_sources(self, url: str) -> list[str]:
        """URLs of the queues whose redrive policy targets `url`."""
        sources: list[str] = []
        with aws_call("sqs", url):
            paginator = self.client.get_paginator("list_dead_letter_source_queues")
            for page in paginator.paginate(QueueUrl=url, MaxResults=1000):
                sources.extend(page.get("queueUrls", []))
        return sources

    def receive(
        self, url: str, *, max_messages: int, wait_s: int, visibility_s: int
    ) -> list[RawMessage]:
        """Receive and hold up to `max_messages` for `visibility_s` seconds."""
        with aws_call("sqs", url):
            response = self.client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=max_messages,
                WaitTimeSeconds=wait_s,
                VisibilityTimeout=visibility_s,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        return list(response.get("Messages", []))

    def change_visibility(
        self, url: str, receipt_handles: Sequence[str], timeout_s: int, *, lanes: int = 1
    ) -> list[str]:
        """Set the visibility of held messages, ten a request, `lanes` requests at once;
        returns the handles SQS refused (expired: the hold on that message is gone)."""
        chunks = [
            receipt_handles[start : start + SQS_BATCH_MAX]
            for start in range(0, len(receipt_handles), SQS_BATCH_MAX)
        ]

        def change(chunk: Sequence[str]) -> list[str]:
            entries = [
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": timeout_s}
                for i, handle in enumerate(chunk)
            ]
            with aws_call("sqs", url):
                response = self.client.change_message_visibility_batch(
                    QueueUrl=url, Entries=entries
                )
            return [chunk[int(failed["Id"])] for failed in response.get("Failed", [])]

        if lanes <= 1 or len(chunks) <= 1:
            return [handle for chunk in chunks for handle in change(chunk)]
        with ThreadPoolExecutor(lanes, thread_name_prefix="visibility") as pool:
            return [handle for refused in pool.map(change, chunks) for handle in refused]

    def send_batch(self, url: str, entries: Sequence[dict[str, Any]]) -> BatchResult:
        """SendMessageBatch: per-entry outcomes; a whole-call failure is raised."""

        def call() -> dict[str, Any]:
            with aws_call("sqs", url):
                return dict(self.client.send_message_batch(QueueUrl=url, Entries=list(entries)))

        return _batch_result(*self._lost.counted(call), "MessageId")

    # -- SQS's own server-side move tasks ------------------------------------------------

    def start_move_task(
        self, source_arn: str, destination_arn: str | None, rate: int | None
    ) -> str:
        kwargs: dict[str, Any] = {"SourceArn": source_arn}
        if destination_arn:
            kwargs["DestinationArn"] = destination_arn
        if rate:
            kwargs["MaxNumberOfMessagesPerSecond"] = rate
        return str(self._move_task_call("StartMessageMoveTask", source_arn, kwargs)["TaskHandle"])

    def list_move_tasks(self, source_arn: str) -> list[dict[str, Any]]:
        kwargs = {"SourceArn": source_arn, "MaxResults": 10}
        return list(
            self._move_task_call("ListMessageMoveTasks", source_arn, kwargs).get("Results", [])
        )

    def cancel_move_task(self, task_handle: str) -> int:
        kwargs = {"TaskHandle": task_handle}
        response = self._move_task_call("CancelMessageMoveTask", f"task {task_handle}", kwargs)
        return int(response.get("ApproximateNumberOfMessagesMoved", 0))

    def _move_task_call(
        self, operation: str, resource: str, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        method = getattr(self.client, _snake(operation))
        try:
            with aws_call("sqs", resource):
                return dict(method(**kwargs))
        except NotImplementedError:  # moto in-process
            raise _not_implemented(operation) from None
        except DlqctlError as exc:
            # Only the answer that means "no such operation" reads so; every other error,
            # a genuine InternalError included, keeps its own message and exit code.
            if unknown_operation(exc.__cause__):
                raise _not_implemented(operation) from exc
            raise

    def delete_batch(self, url: str, entries: Sequence[tuple[str, str]]) -> BatchResult:
        """DeleteMessageBatch for (entry id, receipt handle) pairs."""

        def call() -> dict[str, Any]:
            with aws_call("sqs", url):
                return dict(
                    self.client.delete_message_batch(
                        QueueUrl=url,
                        Entries=[{"Id": i, "ReceiptHandle": handle} for i, handle in entries],
                    )
                )

        return _batch_result(*self._lost.counted(call), None)


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _not_implemented(operation: str) -> AwsError:
    return AwsError(
        f"this endpoint does not implement {operation} (moto and some emulators do not): "
        "use `dlqctl redrive`, which works everywhere"
    )


def _batch_result(response: dict[str, Any], lost_answers: int, id_key: str | None) -> BatchResult:
    return BatchResult(
        lost_answers=lost_answers,
        succeeded={
            str(entry["Id"]): str(entry.get(id_key, "")) if id_key else ""
            for entry in response.get("Successful", [])
        },
        failed=[
            BatchFailure(
                entry_id=str(entry["Id"]),
                code=str(entry.get("Code", "Unknown")),
                message=str(entry.get("Message", "")),
                sender_fault=bool(entry.get("SenderFault", False)),
            )
            for entry in response.get("Failed", [])
        ],
    )
