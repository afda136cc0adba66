"""The pipeline's handlers against moto in-process, configured as the stack would."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dlqctl.lab.environment import REGION
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
        worker.reset()
        ingest.reset()
        yield Stack(sqs, dynamodb, ssm, queue_url)
        worker.reset()
        ingest.reset()
