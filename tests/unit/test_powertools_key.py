"""dlqctl's Powertools keys against Powertools' own: the same payload, the same key.

Powertools derives the key in `IdempotencyHandler` (the prefix from the decorated
function, `_prepare_data` for an SQSRecord) and `BasePersistenceLayer`
(`_get_hashed_idempotency_key`): both run here on the payload the function would get,
dlqctl on the DLQ message as ReceiveMessage returns it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.base import IdempotencyHandler
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyKeyError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from hypothesis import given
from hypothesis import strategies as st

from dlqctl.core.messages import receive
from dlqctl.core.powertools import (
    NO_KEY,
    RUNS,
    KeyUnavailable,
    PowertoolsLedgerSpec,
    powertools_key,
)
from dlqctl.errors import UsageError

FUNCTION_NAME = "orders-worker"
SOURCE_ARN = "arn:aws:sqs:eu-west-1:123456789012:orders"


class KeyOnlyLayer(BasePersistenceLayer):
    """Powertools' base layer, with a store that must never be reached."""

    def _get_record(self, idempotency_key: str) -> DataRecord:
        raise AssertionError("the store was read")

    def _put_record(self, data_record: DataRecord) -> None:
        raise AssertionError("the store was written")

    def _update_record(self, data_record: DataRecord) -> None:
        raise AssertionError("the store was written")

    def _delete_record(self, data_record: DataRecord) -> None:
        raise AssertionError("the store was written")


def process_order(order: Any) -> None:
    """The decorated function: its module and qualname are in the key's prefix."""
    raise AssertionError("Powertools ran the function")


HANDLER = f"{process_order.__module__}.{process_order.__qualname__}"


def powertools_handler(
    payload: Any, expression: str | None, key_prefix: str | None = None, **config: Any
) -> tuple[IdempotencyHandler, KeyOnlyLayer]:
    """Powertools' handler for `process_order(order=payload)`, and its configured layer."""
    layer = KeyOnlyLayer()
    handler = IdempotencyHandler(
        function=process_order,
        function_payload=payload,
        config=IdempotencyConfig(event_key_jmespath=expression or "", **config),
        persistence_store=layer,
        key_prefix=key_prefix,
        function_args=(),
        function_kwargs={"order": payload},
    )
    return handler, layer


def powertools(payload: Any, expression: str | None, **config: Any) -> str | None:
    """The key Powertools computes for this payload (None where it skips idempotency)."""
    handler, layer = powertools_handler(payload, expression, **config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No idempotency key value found": tested below
        return layer._get_hashed_idempotency_key(handler.data)


def spec(expression: str | None, **fields: Any) -> PowertoolsLedgerSpec:
    return PowertoolsLedgerSpec(
        table="idempotency",
        function_name=FUNCTION_NAME,
        handler=HANDLER,
        key_jmespath=expression,
        **fields,
    )


def dlq_message(body: str, **extra: Any) -> dict[str, Any]:
    """A DLQ message as ReceiveMessage returns it (all attributes asked for)."""
    return {
        "MessageId": "7b1f5c3e-0000-4000-8000-00000000dead",
        "ReceiptHandle": "AQEB-dlq-handle",
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "Body": body,
        "Attributes": {
            "ApproximateReceiveCount": "4",
            "SentTimestamp": "1764650000000",
            "SenderId": "AROAEXAMPLE:ingest",
            "ApproximateFirstReceiveTimestamp": "1764650000100",
            "DeadLetterQueueSourceArn": SOURCE_ARN,
        },
        "MessageAttributes": {
            "tenant": {"DataType": "String", "StringValue": "acme"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
        **extra,
    }


def redriven_record(body: str, message_id: str, **attributes: str) -> dict[str, Any]:
    """The record Lambda hands the function for a redriven copy, written out by hand from
    the event format (Lambda's SQS event source): a new messageId, handle and timestamps."""
    return {
        "messageId": message_id,
        "receiptHandle": f"AQEB-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1764660000000",
            "SenderId": "AROAEXAMPLE:dlqctl",
            "ApproximateFirstReceiveTimestamp": "1764660000042",
            **attributes,
        },
        "messageAttributes": {
            "tenant": {
                "stringValue": "acme",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            },
            "blob": {
                "binaryValue": base64.b64encode(b"\x00\x01").decode(),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            },
        },
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": SOURCE_ARN,
        "awsRegion": "eu-west-1",
    }


@pytest.fixture(autouse=True)
def lambda_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # Powertools reads the function's name from Lambda's environment.
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)


ORDER = {
    "order_id": "ord-17",
    "customer": {"id": "c-9", "name": "Zoë"},
    "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1.5}],
    "total": 10**20,
}


@pytest.mark.parametrize(
    "expression",
    [
        None,
        "order_id",
        "customer",
        "[order_id, customer.id]",
        "{order: order_id, customer: customer.id}",
        "items[*].sku",
        "total",
    ],
)
def test_event_mode_key_equals_powertools(expression: str | None) -> None:
    body = json.dumps(ORDER)
    ours = powertools_key(spec(expression), body, json.loads(body))
    assert ours is not None and ours.startswith(f"{FUNCTION_NAME}.{HANDLER}#")
    assert ours == powertools(ORDER, expression)


@pytest.mark.parametrize("hash_function", ["md5", "sha256", "blake2b"])
def test_key_prefix_and_hash_function_as_powertools_uses_them(hash_function: str) -> None:
    ours = powertools_key(
        spec("order_id", key_prefix="orders", hash_function=hash_function), "", ORDER
    )
    assert ours == powertools(ORDER, "order_id", key_prefix="orders", hash_function=hash_function)
    assert ours is not None and ours.startswith("orders#")


def test_hash_is_of_json_with_sorted_keys_and_default_separators() -> None:
    ours = powertools_key(spec(None, key_prefix="p"), "", {"b": "é", "a": [1, 2]})
    canonical = '{"a": [1, 2], "b": "\\u00e9"}'
    assert ours == f"p#{hashlib.md5(canonical.encode()).hexdigest()}"


@pytest.mark.parametrize(
    "expression",
    [
        "powertools_json(body).order_id",
        "powertools_json(body)",
        "body",
        "messageAttributes.tenant.stringValue",
        "messageAttributes",
        "md5OfBody",
        "[powertools_json(body).order_id, eventSourceARN, awsRegion]",
    ],
)
def test_sqs_record_key_equals_powertools_on_the_redriven_record(expression: str) -> None:
    body = json.dumps(ORDER)
    ours = powertools_key(
        spec(expression, payload="sqs-record"), body, json.loads(body), dlq_message(body)
    )
    # Powertools gets an SQSRecord (a DictWrapper: _prepare_data takes its raw dict).
    theirs = powertools(SQSRecord(redriven_record(body, "copy-1")), expression)
    assert ours is not None and ours == theirs


def test_fifo_group_id_is_part_of_the_redriven_copy() -> None:
    body = json.dumps(ORDER)
    message = dlq_message(body)
    message["Attributes"] |= {"MessageGroupId": "g-1", "SequenceNumber": "18"}
    ours = powertools_key(
        spec("attributes.MessageGroupId", payload="sqs-record"), body, None, message
    )
    record = redriven_record(body, "copy-1", MessageGroupId="g-1", SequenceNumber="99")
    assert ours == powertools(SQSRecord(record), "attributes.MessageGroupId")


@pytest.mark.parametrize(
    "expression", [None, "messageId", "receiptHandle", "attributes.SentTimestamp", "attributes"]
)
def test_sqs_record_key_over_delivery_fields_matches_nothing(expression: str | None) -> None:
    body = json.dumps(ORDER)
    first = powertools(SQSRecord(redriven_record(body, "copy-1")), expression)
    second = powertools(
        SQSRecord(redriven_record(body, "copy-2", SentTimestamp="1764660000999")), expression
    )
    assert first != second  # Powertools: every copy its own key
    with pytest.raises(KeyUnavailable) as raised:
        powertools_key(spec(expression, payload="sqs-record"), body, ORDER, dlq_message(body))
    assert raised.value.predicted == RUNS and "anew for each delivery" in raised.value.reason


@pytest.mark.parametrize(
    "expression", ["attributes.SequenceNumber", "attributes.MessageDeduplicationId"]
)
def test_fifo_sequence_and_deduplication_ids_are_per_delivery(expression: str) -> None:
    body = json.dumps(ORDER)
    message = dlq_message(body)
    message["Attributes"] |= {
        "MessageGroupId": "g-1",
        "SequenceNumber": "18",
        "MessageDeduplicationId": "d-1",
    }
    with pytest.raises(KeyUnavailable) as raised:
        powertools_key(spec(expression, payload="sqs-record"), body, ORDER, message)
    assert raised.value.predicted == RUNS


def test_sqs_record_without_source_arn_refuses_a_key_that_reads_it() -> None:
    body = json.dumps(ORDER)
    message = dlq_message(body)
    del message["Attributes"]["DeadLetterQueueSourceArn"]
    sqs = spec("[body, eventSourceARN]", payload="sqs-record")
    with pytest.raises(UsageError, match="source queue"):
        powertools_key(sqs, body, ORDER, message)
    given_arn = spec("[body, eventSourceARN]", payload="sqs-record", source_queue_arn=SOURCE_ARN)
    assert powertools_key(given_arn, body, ORDER, message) == powertools(
        SQSRecord(redriven_record(body, "copy-1")), "[body, eventSourceARN]"
    )
    # A key that does not read it needs no ARN.
    body_only = spec("powertools_json(body).order_id", payload="sqs-record")
    assert powertools_key(body_only, body, ORDER, message) is not None


@pytest.mark.parametrize(
    ("payload", "expression"),
    [
        ({}, None),
        ([], None),
        ("", None),
        (None, None),
        ([None, None], None),
        ({"order_id": None}, None),
        (ORDER, "missing"),
        (ORDER, "[missing, also_missing]"),
        (ORDER, "{a: missing}"),
        (ORDER, "items[?qty > `5`]"),
    ],
)
def test_nothing_selected_skips_idempotency_like_powertools(
    payload: Any, expression: str | None
) -> None:
    handler, layer = powertools_handler(payload, expression)
    with pytest.warns(UserWarning, match="No idempotency key value found"):
        assert layer._get_hashed_idempotency_key(handler.data) is None
    assert powertools_key(spec(expression), json.dumps(payload), payload) is None
    strict = spec(expression, raise_on_no_idempotency_key=True)
    with pytest.raises(KeyUnavailable) as raised:
        powertools_key(strict, json.dumps(payload), payload)
    assert raised.value.predicted == NO_KEY and "IdempotencyKeyError" in raised.value.reason
    handler, _ = powertools_handler(payload, expression, raise_on_no_idempotency_key=True)
    with pytest.raises(IdempotencyKeyError):
        handler.handle()


@pytest.mark.parametrize("payload", [0, False, 0.0, [0], {"a": False}])
def test_falsy_values_that_are_keys_to_powertools(payload: Any) -> None:
    ours = powertools_key(spec(None), json.dumps(payload), payload)
    assert ours is not None and ours == powertools(payload, None)


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        ("not json", "powertools_json(body).order_id"),
        ('{"n": 1}', "powertools_json(powertools_json(body).n)"),
        ('"QQ"', "powertools_base64(powertools_json(body))"),
    ],
)
def test_key_expression_failing_on_the_payload_fails_the_function(
    body: str, expression: str
) -> None:
    with pytest.raises(KeyUnavailable) as raised:
        powertools_key(spec(expression, payload="sqs-record"), body, body, dlq_message(body))
    assert raised.value.predicted == NO_KEY
    handler, _ = powertools_handler(SQSRecord(redriven_record(body, "copy-1")), expression)
    with pytest.raises(IdempotencyPersistenceLayerError):
        handler.handle()  # before the function: process_order would raise AssertionError


def test_event_mode_body_that_is_not_json_is_its_text() -> None:
    ours = powertools_key(spec(None), "plain text", "plain text")
    assert ours == powertools("plain text", None)


def test_received_message_gives_the_same_key_as_powertools() -> None:
    message = receive(dlq_message(json.dumps(ORDER)), now=1764650001.0)
    ours = powertools_key(spec("order_id"), str(message.raw["Body"]), message.body)
    assert ours == powertools(ORDER, "order_id")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@given(payload=json_values)
def test_any_json_event_has_powertools_key(payload: Any) -> None:
    body = json.dumps(payload)
    parsed = json.loads(body)  # what dlqctl decodes from the body (inf round-trips too)
    for expression in (None, "a", "[0]"):
        assert powertools_key(spec(expression), body, parsed) == powertools(parsed, expression)


@given(payload=json_values, indent=st.sampled_from([None, 2]))
def test_any_json_body_in_an_sqs_record_has_powertools_key(
    payload: Any, indent: int | None
) -> None:
    body = json.dumps(payload, indent=indent, ensure_ascii=False)
    message = dlq_message(body)
    record = SQSRecord(redriven_record(body, "copy-1"))
    for expression in ("powertools_json(body)", "body", "powertools_json(body).a"):
        ours = powertools_key(spec(expression, payload="sqs-record"), body, payload, message)
        assert ours == powertools(record, expression)


def test_unknown_function_and_bad_jmespath_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown function nope"):
        spec("nope(body)")
    with pytest.raises(UsageError, match="invalid key_jmespath"):
        spec("body.[")
    with pytest.raises(UsageError, match="hash function"):
        spec(None, hash_function="shake_128")
    with pytest.raises(UsageError, match="key prefix"):
        PowertoolsLedgerSpec(table="t", function_name=FUNCTION_NAME)


def test_sort_key_layout_uses_the_function_name_partition() -> None:
    schema = spec(None, sort_key_attribute="sk").schema
    assert (schema.key_attribute, schema.sort_key_attribute) == ("id", "sk")
    # DynamoDBPersistenceLayer: static_pk_value defaults to idempotency#<function name>.
    assert schema.partition_value == f"idempotency#{FUNCTION_NAME}"
    assert spec(None, sort_key_attribute="sk", static_pk_value="pk").schema.partition_value == "pk"


@pytest.mark.parametrize(
    ("payload", "expression", "warned"),
    [
        ("sqs-record", None, "whole SQS record"),
        ("sqs-record", "messageId", "reads messageId"),
        ("sqs-record", "[body, attributes.SentTimestamp]", "reads SentTimestamp"),
        ("event", "detail.messageId", "reads a messageId"),
        ("sqs-record", "powertools_json(body).order_id", None),
        ("sqs-record", "md5OfBody", None),
        ("event", None, None),
    ],
)
def test_warnings_say_when_no_copy_can_match(
    payload: str, expression: str | None, warned: str | None
) -> None:
    found = spec(expression, payload=payload).warnings()
    if warned is None:
        assert found == []
    else:
        assert len(found) == 1 and warned in found[0] and "\n" not in found[0]
