"""Plays Lambda's SQS event source mapping against the lab's queue.

Receive a batch (up to the batch size, waiting up to the batching window), invoke the
real worker handler with a deadline, delete what succeeded, and leave the rest to SQS:
failures come back after the visibility timeout and, after maxReceiveCount receives,
SQS's redrive policy moves them to the DLQ. An invocation that runs past its deadline
is abandoned, as Lambda would kill it: nothing of its batch is deleted.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext as PowertoolsContext

from dlqctl.pipeline import spec

log = logging.getLogger("dlqctl.lab.poller")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LambdaContext(PowertoolsContext):
    """What the handlers read from Lambda's context object, with a real deadline."""

    def __init__(self, timeout_s: float) -> None:
        self._function_name = "dlq-pipeline-worker"
        self._function_version = "$LATEST"
        self._invoked_function_arn = (
            "arn:aws:lambda:us-east-1:123456789012:function:dlq-pipeline-worker"
        )
        self._memory_limit_in_mb = 256
        self._aws_request_id = str(uuid.uuid4())
        self.deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def to_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS message as Lambda hands it to the function."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class Poller:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: Handler,
        *,
        timeout_s: float = spec.LAB_WORKER_TIMEOUT_S,
        batch_size: int = spec.BATCH_SIZE,
        window_s: int = 1,
        region: str = "us-east-1",
        heartbeat: Path | None = None,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.handler = handler
        self.timeout_s = timeout_s
        self.batch_size = batch_size
        self.window_s = window_s
        self.region = region
        self.heartbeat = heartbeat
        self.invocations = 0
        self.timeouts = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep polling, as the event source mapping does
                log.exception("poll failed")
                stop.wait(1)

    def poll_once(self) -> int:
        """One receive and, if it brought anything, one invocation; returns the batch size."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.window_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        self._beat()
        if not messages:
            return 0
        event = {"Records": [to_record(m, self.queue_arn, self.region) for m in messages]}
        failed = self._invoke(event)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        return len(messages)

    def _invoke(self, event: dict[str, Any]) -> set[str]:
        """Message ids the invocation reports as failed (all of them when it crashed or
        ran out of time)."""
        everything = {r["messageId"] for r in event["Records"]}
        outcome: dict[str, Any] = {}
        context = LambdaContext(self.timeout_s)

        def invoke() -> None:
            try:
                outcome["response"] = self.handler(event, context)
            except BaseException as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=invoke, daemon=True)
        worker.start()
        worker.join(self.timeout_s)
        self.invocations += 1
        if worker.is_alive() or "response" not in outcome:
            self.timeouts += worker.is_alive()
            return everything
        failures = outcome["response"].get("batchItemFailures", [])
        return {f["itemIdentifier"] for f in failures}

    def _beat(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.write_text(str(time.time()))


def main() -> None:
    """`python -m dlqctl.lab.poller QUEUE_URL QUEUE_ARN HEARTBEAT`: the background poller
    that `lab up` starts, with the lab's environment already set."""
    import signal

    from dlqctl.pipeline import worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    queue_url, queue_arn, heartbeat = sys.argv[1:4]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    import boto3

    poller = Poller(
        boto3.client("sqs"), queue_url, queue_arn, worker.handler, heartbeat=Path(heartbeat)
    )
    poller.run(stop)


if __name__ == "__main__":
    main()
