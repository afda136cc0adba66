"""The pipeline's handlers against moto in-process, configured as the stack would; and the
helpers the worker's tests share: a batch as Lambda delivers it, one invocation, the
worker's JSON logs and its EMF metrics."""

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dlqctl.core.idempotency import idempotency_key
from dlqctl.lab.environment import REGION
from dlqctl.lab.poller import LambdaContext, to_record
from dlqctl.pipeline import ingest, spec, worker

from ..conftest import make_ledger


@dataclass
class Stack:
    sqs: Any
    dynamodb: Any
    ssm: Any
    queue_url: str

    def mode(self, value: str) -> None:
        self.ssm.put_parameter(
            Name=spec.FAILURE_MODE_PARAMETER, Value=value, Type="String", Overwrite=True
        )

    def item(self, key: str) -> dict[str, Any]:
        raw = self.dynamodb.get_item(
            TableName=spec.LEDGER_TABLE_NAME, Key={spec.LEDGER_KEY: {"S": key}}
        ).get("Item", {})
        return {name: next(iter(value.values())) for name, value in raw.items()}


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName=spec.MAIN_QUEUE_NAME)["QueueUrl"]
        dynamodb = make_ledger(spec.LEDGER_TABLE_NAME)
        ssm = boto3.client("ssm", region_name=REGION)
        ssm.put_parameter(Name=spec.FAILURE_MODE_PARAMETER, Value="none", Type="String")
        monkeypatch.setenv(spec.ENV_QUEUE_URL, queue_url)
        monkeypatch.setenv(spec.ENV_LEDGER_TABLE, spec.LEDGER_TABLE_NAME)
        monkeypatch.setenv(spec.ENV_FAILURE_MODE_CACHE_S, "0")
        monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", spec.METRICS_NAMESPACE)
        # As in Lambda: metrics on (the lab switches them off).
        monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
        monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
        worker.reset()
        ingest.reset()
        yield Stack(sqs, dynamodb, ssm, queue_url)
        worker.reset()
        ingest.reset()


def batch(stack: Stack, *payloads: dict[str, Any]) -> list[dict[str, Any]]:
    """The payloads sent to the main queue and received back as one batch's records."""
    for payload in payloads:
        stack.sqs.send_message(
            QueueUrl=stack.queue_url,
            MessageBody=json.dumps(payload),
            MessageAttributes={
                spec.CORRELATION_ID_ATTRIBUTE: {"DataType": "String", "StringValue": "corr-9"}
            },
        )
    messages: list[dict[str, Any]] = []
    while len(messages) < len(payloads):
        messages += stack.sqs.receive_message(
            QueueUrl=stack.queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
    return [to_record(m, "arn:aws:sqs:us-east-1:123456789012:main", "us-east-1") for m in messages]


def invoke(records: list[dict[str, Any]], timeout_s: float = 5) -> list[str]:
    """The ids of the records the worker reports as failed."""
    response = worker.handler({"Records": records}, LambdaContext(timeout_s))
    return sorted(f["itemIdentifier"] for f in response["batchItemFailures"])


def key(payload: dict[str, Any]) -> str:
    return idempotency_key(json.dumps(payload))


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The worker's JSON log lines (its handler keeps the stream it was created with)."""
    buffer = io.StringIO()
    [handler] = [h for h in worker.logger.handlers if isinstance(h, logging.StreamHandler)]
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


@dataclass(frozen=True)
class Datapoint:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    value: float


def emf_datapoints(output: str) -> list[Datapoint]:
    """What CloudWatch would extract from the EMF blobs in `output`: one datapoint per
    metric and dimension set, each dimension's value read from its own blob."""
    found = []
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        blob = json.loads(line)
        for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple(sorted((name, blob[name]) for name in dimension_set))
                for metric in directive["Metrics"]:
                    values = blob[metric["Name"]]
                    total = sum(values) if isinstance(values, list) else values
                    found.append(
                        Datapoint(directive["Namespace"], metric["Name"], dimensions, total)
                    )
    return found
