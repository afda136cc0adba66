"""`lab demo --scenario kinds`: DLQs that SQS's own redrive cannot take, in this process.

Two DLQs are filled with messages shaped exactly as AWS documents them
(docs/dlq-kinds.md): a Lambda function's asynchronous-invocation DLQ (the event, with
RequestID, ErrorCode and ErrorMessage) and an EventBridge rule target's DLQ (the event,
with RULE_ARN, TARGET_ARN, ERROR_CODE …). dlqctl inspects each, plans a redrive and runs
it: the function is invoked again (moto's Lambda without Docker answers every invoke),
the events go to the rule's target queue.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from dlqctl.api import Dlqctl
from dlqctl.config import Settings
from dlqctl.core.filters import build_filter
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.lab.environment import ACCOUNT, REGION, client
from dlqctl.lab.logs import pipeline_logs_to
from dlqctl.lab.server import ThreadedServer
from dlqctl.models import DlqKind

Show = Callable[[object], None]

FUNCTION_NAME = "lab-resize-images"
ASYNC_DLQ = "lab-resize-images-dlq"
RULE_DLQ = "lab-orders-rule-dlq"
RULE_TARGET = "lab-billing"
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/lab-orders/orders-to-billing"


@dataclass(frozen=True)
class KindsSummary:
    invoked: int
    delivered: int
    left_in_dlqs: int
    seconds: float


def run_kinds_demo(show: Show, *, messages: int = 6, workdir: Path) -> KindsSummary:
    """Both DLQs, start to finish; the journal goes to `workdir`."""
    started = time.monotonic()
    with pipeline_logs_to(workdir / "kinds-demo.log"):  # moto's per-request log, silenced
        return _run(show, messages, workdir, started)


def _run(show: Show, messages: int, workdir: Path, started: float) -> KindsSummary:
    server = ThreadedServer()
    endpoint = server.start()
    try:
        show(f"lab up at {endpoint} (moto's server, in this process)")
        _simple_lambda(endpoint)
        function = _create_function(endpoint)
        sqs = client("sqs", endpoint)
        async_url = sqs.create_queue(QueueName=ASYNC_DLQ)["QueueUrl"]
        rule_url = sqs.create_queue(QueueName=RULE_DLQ)["QueueUrl"]
        target_url = sqs.create_queue(QueueName=RULE_TARGET)["QueueUrl"]
        target_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{RULE_TARGET}"
        for n in range(messages):
            sqs.send_message(QueueUrl=async_url, **_lambda_async_message(n))
            sqs.send_message(QueueUrl=rule_url, **_eventbridge_message(n, target_arn))
        journal = workdir / "kinds-journal.jsonl"

        show(f"1. {ASYNC_DLQ}: a function's asynchronous invocations that failed")
        # moto keeps no DeadLetterConfig to find the function by: the pipeline's config
        # names it, as `kind` and `original_target` do in dlqctl.toml.
        lambda_dlqctl = _dlqctl(endpoint, kind="lambda-async", original_target=function)
        show(lambda_dlqctl.inspect(async_url))
        show("2. dlqctl redrive --all --invoke sync --canary 1 --dry-run")
        sync = RedriveOptions(select_all=True, max_messages=messages, invoke="sync", canary=1)
        show(lambda_dlqctl.redrive(async_url, build_filter(), replace(sync, dry_run=True)))
        show("3. dlqctl redrive --all --invoke sync --canary 1: each event invoked again")
        invoked = lambda_dlqctl.redrive(async_url, build_filter(), sync, journal=journal)
        show(invoked)

        show(f"4. {RULE_DLQ}: events an EventBridge rule could not deliver")
        rule_dlqctl = _dlqctl(endpoint)
        show(rule_dlqctl.inspect(rule_url))
        timeouts = build_filter(error_types=["SDK_CLIENT_ERROR"])
        show("5. dlqctl redrive --error-type SDK_CLIENT_ERROR: to the rule's target queue")
        delivered = rule_dlqctl.redrive(
            rule_url, timeouts, RedriveOptions(max_messages=messages), journal=journal
        )
        show(delivered)
        arrived = _depth(sqs, target_url)
        left = _depth(sqs, async_url) + _depth(sqs, rule_url)
        show(f"6. {RULE_TARGET} now holds {arrived} events; {left} messages left in the DLQs")
        return KindsSummary(
            invoked=invoked.deleted,
            delivered=arrived,
            left_in_dlqs=left,
            seconds=round(time.monotonic() - started, 1),
        )
    finally:
        server.stop()
        show("lab down: nothing left running")


def _dlqctl(
    endpoint: str, *, kind: DlqKind | None = None, original_target: str | None = None
) -> Dlqctl:
    return Dlqctl(
        Settings(
            endpoint_url=endpoint,
            region=REGION,
            receive_wait_s=1,
            concurrency=1,  # moto is not thread-safe: one request at a time
            kind=kind,
            original_target=original_target,
        )
    )


def _simple_lambda(endpoint: str) -> None:
    """moto's Lambda without Docker: every invoke succeeds (moto's own config API)."""
    request = urllib.request.Request(  # noqa: S310 - the lab's own server, over http
        f"{endpoint}/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the lab's own server
        pass


def _create_function(endpoint: str) -> str:
    role = client("iam", endpoint).create_role(
        RoleName=f"{FUNCTION_NAME}-role", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    created = client("lambda", endpoint).create_function(
        FunctionName=FUNCTION_NAME,
        Runtime="python3.13",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )
    return str(created["FunctionArn"])


def _lambda_async_message(n: int) -> dict[str, object]:
    """As Lambda writes it: the event unchanged, the failure in three attributes."""
    error = "Task timed out after 3.00 seconds" if n % 3 else "MemoryError"
    return {
        "MessageBody": json.dumps({"image": f"uploads/{n}.png", "width": 640}),
        "MessageAttributes": {
            "RequestID": {"DataType": "String", "StringValue": f"9d1c-lab-{n:04d}"},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": error},
        },
    }


def _eventbridge_message(n: int, target_arn: str) -> dict[str, object]:
    """As EventBridge writes it: the event, with the rule, target and error."""
    event = {
        "version": "0",
        "id": f"lab-event-{n}",
        "detail-type": "OrderPlaced",
        "source": "lab.orders",
        "account": ACCOUNT,
        "time": "2026-12-01T10:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {"order": n},
    }
    attributes = {
        "RULE_ARN": RULE_ARN,
        "TARGET_ARN": target_arn,
        "ERROR_CODE": "SDK_CLIENT_ERROR",
        "ERROR_MESSAGE": "Unable to invoke the target",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
    }
    return {
        "MessageBody": json.dumps(event),
        "MessageAttributes": {
            **{k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
            "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": "185"},
        },
    }


def _depth(sqs: object, url: str) -> int:
    attributes = sqs.get_queue_attributes(  # type: ignore[attr-defined]
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])
