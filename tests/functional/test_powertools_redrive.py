"""A redrive's dry run predicts, from a Powertools idempotency table that Powertools
itself wrote, what the function will do with each copy; the pipeline's config names the
table, the function and its key (ledger_format = "powertools")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from moto import mock_aws

from dlqctl import Dlqctl, build_filter
from dlqctl.config import Settings
from dlqctl.core.guardrails import RedriveOptions

from ..conftest import REGION

FUNCTION_NAME = "orders-worker"
TABLE = "orders-idempotency"


class Killed(BaseException):
    """The invocation ends mid-run (a timeout): Powertools leaves its INPROGRESS record."""


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, str]]:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs", region_name=REGION)
        dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
        target = sqs.create_queue(QueueName="orders")["QueueUrl"]
        yield sqs, dlq, target


def settings(handler: str, key: str) -> Settings:
    return Settings(
        ledger_table=TABLE,
        ledger_format="powertools",
        ledger_function=FUNCTION_NAME,
        ledger_handler=handler,
        ledger_key_jmespath=key,
        concurrency=1,
    )


@pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time left")
def test_dry_run_predicts_from_the_records_powertools_wrote(queues: tuple[Any, str, str]) -> None:
    sqs, dlq, target = queues
    config = IdempotencyConfig(event_key_jmespath="order_id")

    @idempotent_function(
        data_keyword_argument="order",
        config=config,
        persistence_store=DynamoDBPersistenceLayer(table_name=TABLE),
    )
    def process(order: dict[str, Any]) -> str:
        if order["order_id"] == 2:
            raise Killed
        return "done"

    assert process(order={"order_id": 1}) == "done"  # COMPLETED
    with pytest.raises(Killed):
        process(order={"order_id": 2})  # INPROGRESS, left behind
    ids = {
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"order_id": n}))["MessageId"]: n
        for n in (1, 2, 3)
    }
    handler = f"{process.__module__}.{process.__qualname__}"
    plan = Dlqctl(settings(handler, "order_id")).redrive(
        dlq, build_filter(), RedriveOptions(select_all=True, to=target, dry_run=True)
    )
    predicted = {ids[m.message_id]: m.predicted_outcome for m in plan.planned}
    assert predicted == {
        1: "no-op (already COMPLETED)",
        2: "will fail (INPROGRESS)",
        3: "will run",
    }
    assert plan.summary is not None
    assert plan.summary.by_predicted_outcome == {
        "no-op (already COMPLETED)": 1,
        "will fail (INPROGRESS)": 1,
        "will run": 1,
    }
    assert not any("never matches" in w for w in plan.warnings)


def test_a_key_from_the_message_id_is_said_to_never_match(queues: tuple[Any, str, str]) -> None:
    sqs, dlq, target = queues
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"order_id": 1, "messageId": "x"}))
    plan = Dlqctl(settings("app.record_handler", "messageId")).redrive(
        dlq, build_filter(), RedriveOptions(select_all=True, to=target, dry_run=True)
    )
    assert any("messageId" in w and "never matches" in w for w in plan.warnings)
