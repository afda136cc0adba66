"""Powertools writes its idempotency table; dlqctl reads it and predicts what a redriven
copy will do. Each prediction is then held to Powertools itself: the copy is handed to the
same decorated function, against the same table in moto, and the outcome compared.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInvalidStatusError,
    IdempotencyPersistenceLayerError,
)

from dlqctl.aws.ledger import LedgerGateway
from dlqctl.core.messages import Received, receive
from dlqctl.core.powertools import (
    IN_PROGRESS,
    INVALID,
    NO_OP,
    RUNS,
    PowertoolsLedger,
    PowertoolsLedgerSpec,
    PowertoolsVerdict,
)

from ..conftest import REGION

FUNCTION_NAME = "orders-worker"
# Where Powertools reads the time: setting it lets Powertools itself write records of
# the past (an expired one, an invocation that ran out of time).
_POWERTOOLS_CLOCKS = (
    "aws_lambda_powertools.utilities.idempotency.base",
    "aws_lambda_powertools.utilities.idempotency.persistence.base",
    "aws_lambda_powertools.utilities.idempotency.persistence.dynamodb",
    "aws_lambda_powertools.utilities.idempotency.persistence.datarecord",
)


class Killed(BaseException):
    """Lambda ends the invocation (a timeout): Powertools' cleanup, which catches
    Exception, never runs, so the INPROGRESS record stays."""


@dataclass
class Context:
    """The Lambda context Powertools asks for the time left."""

    remaining_ms: int = 60_000
    function_name: str = FUNCTION_NAME

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


RUNNING = Context()


@contextmanager
def powertools_clock(at: float) -> Iterator[None]:
    """Powertools' clock stopped at `at` (epoch seconds)."""

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Frozen:
            return cls.fromtimestamp(at, tz)

    clock = types.SimpleNamespace(datetime=Frozen, timedelta=dt.timedelta)
    with pytest.MonkeyPatch.context() as patch:
        for module in _POWERTOOLS_CLOCKS:
            patch.setattr(importlib.import_module(module), "dt", clock)
        yield


@dataclass
class Orders:
    """A function made idempotent on the order id, as Powertools' docs set one up."""

    process: Callable[..., Any]
    config: IdempotencyConfig
    runs: list[str] = field(default_factory=list)
    # What an order's run does instead of succeeding: "error" or "killed".
    outcomes: dict[str, str] = field(default_factory=dict)

    @property
    def handler(self) -> str:
        return f"{self.process.__module__}.{self.process.__qualname__}"

    def call(self, order: dict[str, Any], context: Context | None = RUNNING) -> Any:
        self.config.lambda_context = context  # type: ignore[assignment]
        return self.process(order=order)


def make_orders(client: Any, table: str, **layer: Any) -> Orders:
    config = IdempotencyConfig(event_key_jmespath="order_id", expires_after_seconds=3600)
    store = DynamoDBPersistenceLayer(table_name=table, boto3_client=client, **layer)

    @idempotent_function(data_keyword_argument="order", config=config, persistence_store=store)
    def process_order(order: dict[str, Any]) -> dict[str, Any]:
        order_id = order.get("order_id", "")
        orders.runs.append(order_id)
        outcome = orders.outcomes.get(order_id)
        if outcome == "error":
            raise ValueError("downstream refused the order")
        if outcome == "killed":
            raise Killed
        return {"shipped": order_id}

    orders = Orders(process_order, config)
    return orders


def create_table(client: Any, name: str, sort_key: str | None = None) -> None:
    """The table as Powertools documents it: partition key `id`, TTL on `expiration`."""
    keys = [("id", "HASH"), *([(sort_key, "RANGE")] if sort_key else [])]
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": n, "KeyType": t} for n, t in keys],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n, _ in keys],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )


@pytest.fixture
def dynamodb(aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
    return boto3.client("dynamodb", region_name=REGION)


def dlq_messages(sqs: Any, queue: str, bodies: list[str]) -> list[Received]:
    """The bodies as DLQ messages, received as a scan receives them."""
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    tenant = {"tenant": {"DataType": "String", "StringValue": "acme"}}
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(i), "MessageBody": body, "MessageAttributes": tenant}
            for i, body in enumerate(bodies[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    raws: list[dict[str, Any]] = []
    while len(raws) < len(bodies):
        raws += sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
    by_body = {raw["Body"]: raw for raw in raws}
    return [receive(by_body[body], time.time()) for body in bodies]


def count_batch_gets(client: Any) -> list[int]:
    sizes: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sizes.extend(len(request["Keys"]) for request in params["RequestItems"].values())

    client.meta.events.register("provide-client-params.dynamodb.BatchGetItem", record)
    return sizes


def test_predictions_from_a_table_powertools_wrote_hold_when_copies_are_redriven(
    dynamodb: Any, sqs: Any
) -> None:
    create_table(dynamodb, "orders-idempotency")
    orders = make_orders(dynamodb, "orders-idempotency")
    orders.outcomes |= {"o-failed": "error", "o-busy": "killed", "o-held": "killed"}
    orders.outcomes |= {"o-timed-out": "killed"}
    completed = ["o-done", "o-done-too"]
    for order_id in completed:
        assert orders.call({"order_id": order_id}) == {"shipped": order_id}
    with pytest.raises(ValueError, match="downstream"):
        orders.call({"order_id": "o-failed"})
    with pytest.raises(Killed):
        orders.call({"order_id": "o-busy"}, Context(remaining_ms=60_000))
    with pytest.raises(Killed), pytest.warns(UserWarning, match="remaining time"):
        orders.call({"order_id": "o-held"}, context=None)  # no context registered
    with powertools_clock(time.time() - 30), pytest.raises(Killed):
        orders.call({"order_id": "o-timed-out"}, Context(remaining_ms=1_000))
    with powertools_clock(time.time() - 7200):  # completed two hours ago; it expired one hour ago
        orders.call({"order_id": "o-stale"})

    payloads: list[dict[str, Any]] = [
        {"order_id": "o-done", "qty": 1},  # the key is the order id, not the whole body
        {"order_id": "o-busy"},
        {"order_id": "o-held"},
        {"order_id": "o-timed-out"},
        {"order_id": "o-stale"},
        {"order_id": "o-failed"},
        {"order_id": "o-new"},
        {"note": "no order id"},
        {"order_id": "o-done-too"},
    ]
    never_run = [{"order_id": f"o-never-{i}"} for i in range(100)]
    messages = dlq_messages(sqs, "orders-dlq", [json.dumps(p) for p in payloads + never_run])
    spec = PowertoolsLedgerSpec(
        table="orders-idempotency",
        function_name=FUNCTION_NAME,
        handler=orders.handler,
        key_jmespath="order_id",
    )
    assert spec.warnings() == []
    batches = count_batch_gets(dynamodb)
    ledger = PowertoolsLedger(spec, LedgerGateway(dynamodb, spec.table, spec.schema))
    verdicts = ledger.verdicts(messages)

    assert batches == [100, 8]  # 108 keys: the body without an order id has none
    summary = [(v.status, v.predicted) for v in verdicts[:9]]
    assert summary == [
        ("COMPLETED", NO_OP),
        ("INPROGRESS", IN_PROGRESS),
        ("INPROGRESS", IN_PROGRESS),
        ("INPROGRESS", RUNS),
        ("EXPIRED", RUNS),
        (None, RUNS),
        (None, RUNS),
        (None, RUNS),
        ("COMPLETED", NO_OP),
    ]
    assert all((v.status, v.predicted) == (None, RUNS) for v in verdicts[9:])
    reasons = [v.reason or "" for v in verdicts[:8]]
    assert "in_progress_expiration" in reasons[1]
    assert "no in_progress_expiration" in reasons[2]
    assert "ran out of time" in reasons[3]
    assert "expired" in reasons[4]
    assert "deletes the record of a failed run" in reasons[5]
    assert "selects nothing" in reasons[7] and verdicts[7].key is None
    item = dynamodb.get_item(TableName=spec.table, Key={"id": {"S": verdicts[1].key}})["Item"]
    assert item["status"] == {"S": "INPROGRESS"} and "in_progress_expiration" in item

    # The redriven copies, handed to the same function: Powertools does as predicted.
    orders.outcomes.clear()
    orders.runs.clear()
    replayed = payloads + never_run[:2]
    with pytest.warns(UserWarning, match="No idempotency key value found"):
        outcomes = [replay(orders, payload) for payload in replayed]
    assert outcomes == [v.predicted for v in verdicts[: len(replayed)]]
    ran = [str(p.get("order_id", "")) for p, o in zip(replayed, outcomes, strict=True) if o == RUNS]
    assert orders.runs == ran


def replay(orders: Orders, payload: dict[str, Any]) -> str:
    """What Powertools did with the copy, in dlqctl's words."""
    runs = len(orders.runs)
    try:
        response = orders.call(payload)
    except IdempotencyAlreadyInProgressError:
        return IN_PROGRESS
    except IdempotencyPersistenceLayerError as exc:
        # Powertools reads the status while logging the refused put, and wraps the error.
        return INVALID if isinstance(exc.__cause__, IdempotencyInvalidStatusError) else str(exc)
    if len(orders.runs) == runs:
        assert response == {"shipped": payload["order_id"]}  # the stored response
        return NO_OP
    return RUNS


def test_a_record_powertools_cannot_read_fails_the_copy(dynamodb: Any, sqs: Any) -> None:
    create_table(dynamodb, "orders-idempotency")
    orders = make_orders(dynamodb, "orders-idempotency")
    spec = PowertoolsLedgerSpec(
        table="orders-idempotency",
        function_name=FUNCTION_NAME,
        handler=orders.handler,
        key_jmespath="order_id",
    )
    [message] = dlq_messages(sqs, "orders-dlq", [json.dumps({"order_id": "o-odd"})])
    ledger = PowertoolsLedger(spec, LedgerGateway(dynamodb, spec.table, spec.schema))
    [verdict] = ledger.verdicts([message])
    assert verdict == PowertoolsVerdict(verdict.key, None, RUNS, verdict.reason)
    # A status Powertools never writes (dlqctl's own pipeline ledger has FAILED).
    expires = str(int(time.time()) + 3600)
    dynamodb.put_item(
        TableName=spec.table,
        Item={"id": {"S": verdict.key}, "status": {"S": "FAILED"}, "expiration": {"N": expires}},
    )
    [verdict] = ledger.verdicts([message])
    assert (verdict.status, verdict.predicted) == (None, INVALID)
    assert replay(orders, {"order_id": "o-odd"}) == INVALID and orders.runs == []


def order_record(
    dynamodb: Any, sqs: Any, orders: Any
) -> tuple[PowertoolsLedgerSpec, LedgerGateway, Any, dict[str, Any]]:
    """Order o-1 of the orders function (key `order_id`), in the DLQ and in its ledger:
    the spec, the ledger's gateway, the DLQ message, and the ledger's record of it."""
    spec = PowertoolsLedgerSpec(
        table="orders-idempotency",
        function_name=FUNCTION_NAME,
        handler=orders.handler,
        key_jmespath="order_id",
    )
    [message] = dlq_messages(sqs, "orders-dlq", ['{"order_id": "o-1"}'])
    gateway = LedgerGateway(dynamodb, spec.table, spec.schema)
    key = str(PowertoolsLedger(spec, gateway).verdicts([message])[0].key)
    return spec, gateway, message, gateway.get_many([key])[key]


@pytest.mark.parametrize(
    ("after_s", "status", "predicted"),
    [(0.5, "COMPLETED", NO_OP), (1.5, "EXPIRED", RUNS)],
)
def test_expiry_boundary_is_powertools_own(
    dynamodb: Any, sqs: Any, after_s: float, status: str, predicted: str
) -> None:
    """`expiration` is whole seconds and Powertools compares it with int(now)."""
    create_table(dynamodb, "orders-idempotency")
    orders = make_orders(dynamodb, "orders-idempotency")
    orders.call({"order_id": "o-1"})
    spec, gateway, message, record = order_record(dynamodb, sqs, orders)
    expires = float(record["expiration"])
    at = expires + after_s
    [verdict] = PowertoolsLedger(spec, gateway, clock=lambda: at).verdicts([message])
    assert (verdict.status, verdict.predicted) == (status, predicted)
    with powertools_clock(at):
        assert replay(orders, {"order_id": "o-1"}) == predicted


@pytest.mark.parametrize(("after_ms", "predicted"), [(0, IN_PROGRESS), (1, RUNS)])
def test_in_progress_boundary_is_powertools_own(
    dynamodb: Any, sqs: Any, after_ms: int, predicted: str
) -> None:
    """`in_progress_expiration` is epoch ms; Powertools takes over once it is below now."""
    create_table(dynamodb, "orders-idempotency")
    orders = make_orders(dynamodb, "orders-idempotency")
    orders.outcomes["o-1"] = "killed"
    with pytest.raises(Killed):
        orders.call({"order_id": "o-1"}, Context(remaining_ms=5_000))
    orders.outcomes.clear()
    spec, gateway, message, record = order_record(dynamodb, sqs, orders)
    until_ms = int(record["in_progress_expiration"])
    at = (until_ms + after_ms) / 1000 + 0.0005  # inside that millisecond
    [verdict] = PowertoolsLedger(spec, gateway, clock=lambda: at).verdicts([message])
    assert (verdict.status, verdict.predicted) == ("INPROGRESS", predicted)
    with powertools_clock(at):
        assert replay(orders, {"order_id": "o-1"}) == predicted


def test_composite_key_table_with_the_function_name_partition(dynamodb: Any, sqs: Any) -> None:
    create_table(dynamodb, "shared-idempotency", sort_key="sort_key")
    orders = make_orders(dynamodb, "shared-idempotency", sort_key_attr="sort_key")
    orders.call({"order_id": "o-1"})
    spec = PowertoolsLedgerSpec(
        table="shared-idempotency",
        function_name=FUNCTION_NAME,
        handler=orders.handler,
        key_jmespath="order_id",
        sort_key_attribute="sort_key",
    )
    gateway = LedgerGateway(dynamodb, spec.table, spec.schema)
    messages = dlq_messages(sqs, "orders-dlq", ['{"order_id": "o-1"}', '{"order_id": "o-2"}'])
    done, new = PowertoolsLedger(spec, gateway).verdicts(messages)
    assert (done.predicted, new.predicted) == (NO_OP, RUNS)
    items = gateway.get_many([str(done.key)])
    assert list(items) == [done.key]
    # Only what the verdict needs is read, not the stored response (`data`).
    stored = dynamodb.get_item(
        TableName=spec.table,
        Key={"id": {"S": f"idempotency#{FUNCTION_NAME}"}, "sort_key": {"S": done.key}},
    )["Item"]
    assert json.loads(stored["data"]["S"]) == {"shipped": "o-1"}
    assert set(items[str(done.key)]) == {
        "id",
        "sort_key",
        "status",
        "expiration",
        "in_progress_expiration",
    }
    assert items[str(done.key)]["id"] == f"idempotency#{FUNCTION_NAME}"


def test_a_gateway_for_another_schema_is_refused(dynamodb: Any) -> None:
    spec = PowertoolsLedgerSpec(table="t", function_name=FUNCTION_NAME, handler="app.handler")
    with pytest.raises(ValueError, match="schema"):
        PowertoolsLedger(spec, LedgerGateway(dynamodb, "t"))


@dataclass
class BatchWorker:
    """An SQS-triggered function: Powertools' batch processor, each record idempotent
    (the layout of Powertools' docs, "batch integration")."""

    handler: Callable[[dict[str, Any], Context], dict[str, Any]]
    record_handler: Callable[..., Any]
    runs: list[str] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)


def make_batch_worker(client: Any, table: str, key_jmespath: str) -> BatchWorker:
    config = IdempotencyConfig(event_key_jmespath=key_jmespath)
    store = DynamoDBPersistenceLayer(table_name=table, boto3_client=client)
    processor = BatchProcessor(event_type=EventType.SQS)

    @idempotent_function(data_keyword_argument="record", config=config, persistence_store=store)
    def record_handler(record: SQSRecord) -> dict[str, str]:
        order_id = json.loads(record.body)["order_id"]
        worker.runs.append(order_id)
        if order_id in worker.failing:
            raise ValueError("downstream refused the order")
        return {"shipped": order_id}

    def handler(event: dict[str, Any], context: Context) -> dict[str, Any]:
        config.register_lambda_context(context)  # type: ignore[arg-type]
        return dict(
            process_partial_response(
                event=event,
                record_handler=record_handler,
                processor=processor,
                context=context,  # type: ignore[arg-type]
            )
        )

    worker = BatchWorker(handler, record_handler)
    return worker


def lambda_event(raws: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Lambda's SQS event for these received messages, written out from its format."""
    return {
        "Records": [
            {
                "messageId": raw["MessageId"],
                "receiptHandle": raw["ReceiptHandle"],
                "body": raw["Body"],
                "attributes": raw.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": a["StringValue"],
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": a["DataType"],
                    }
                    for name, a in raw.get("MessageAttributes", {}).items()
                },
                "md5OfBody": raw["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for raw in raws
        ]
    }


def deliver(sqs: Any, url: str, bodies: list[str]) -> list[dict[str, Any]]:
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    raws: list[dict[str, Any]] = []
    while len(raws) < len(bodies):
        raws += sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
    for raw in raws:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])
    return sorted(raws, key=lambda raw: bodies.index(raw["Body"]))


@pytest.mark.parametrize(
    ("key_jmespath", "predicted", "reran"),
    [
        ("powertools_json(body).order_id", [NO_OP, NO_OP, RUNS], ["o-3"]),
        # Powertools' own batch example keys on messageId: a redriven copy never matches.
        ("messageId", [RUNS, RUNS, RUNS], ["o-1", "o-2", "o-3"]),
    ],
)
def test_sqs_record_mode_against_powertools_batch_processing(
    dynamodb: Any, sqs: Any, key_jmespath: str, predicted: list[str], reran: list[str]
) -> None:
    create_table(dynamodb, "batch-idempotency")
    worker = make_batch_worker(dynamodb, "batch-idempotency", key_jmespath)
    source = sqs.create_queue(QueueName="orders")["QueueUrl"]
    source_arn = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    bodies = [json.dumps({"order_id": f"o-{n}", "qty": n}) for n in (1, 2, 3)]
    worker.failing = {"o-3"}
    first = deliver(sqs, source, bodies)
    response = worker.handler(lambda_event(first, source_arn), Context())
    assert response == {"batchItemFailures": [{"itemIdentifier": first[2]["MessageId"]}]}

    spec = PowertoolsLedgerSpec(
        table="batch-idempotency",
        function_name=FUNCTION_NAME,
        handler=f"{worker.record_handler.__module__}.{worker.record_handler.__qualname__}",
        key_jmespath=key_jmespath,
        payload="sqs-record",
        source_queue_arn=source_arn,
    )
    assert len(spec.warnings()) == (key_jmespath == "messageId")
    ledger = PowertoolsLedger(spec, LedgerGateway(dynamodb, spec.table, spec.schema))
    verdicts = ledger.verdicts(dlq_messages(sqs, "orders-dlq", bodies))
    assert [v.predicted for v in verdicts] == predicted

    # Redriven: new messages in the source queue, so new ids, the same bodies.
    worker.failing.clear()
    worker.runs.clear()
    again = deliver(sqs, source, bodies)
    assert {r["MessageId"] for r in again}.isdisjoint(r["MessageId"] for r in first)
    assert worker.handler(lambda_event(again, source_arn), Context()) == {"batchItemFailures": []}
    assert worker.runs == reran
