"""The ingest handler: validate, enqueue with correlation id and key, answer 202."""

import base64
import json
from typing import Any

from dlqctl.core.idempotency import idempotency_key
from dlqctl.lab.poller import LambdaContext
from dlqctl.lab.traffic import api_event
from dlqctl.pipeline import ingest, spec

from .conftest import Stack

ORDER = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "amount": "12.50",
    "currency": "EUR",
    "items": [{"sku": "s", "quantity": 2}],
}


def post(body: Any, **event: Any) -> tuple[int, dict[str, Any]]:
    request = (
        api_event(body, "corr-1")
        if isinstance(body, dict)
        else {**api_event({}, "corr-1"), "body": body}
    )
    response = ingest.handler({**request, **event}, LambdaContext(3))
    return response["statusCode"], json.loads(response["body"])


def test_valid_order_is_enqueued_with_its_key_and_correlation_id(stack: Stack) -> None:
    status, answer = post(ORDER)
    assert status == 202
    [message] = stack.sqs.receive_message(QueueUrl=stack.queue_url, MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert answer["message_id"] == message["MessageId"]
    assert (
        answer["idempotency_key"]
        == idempotency_key(message["Body"])
        == message["MessageAttributes"][spec.IDEMPOTENCY_KEY_ATTRIBUTE]["StringValue"]
    )
    assert (
        message["MessageAttributes"][spec.CORRELATION_ID_ATTRIBUTE]["StringValue"]
        == "corr-1"
        == answer["correlation_id"]
    )
    assert json.loads(message["Body"])["amount"] == "12.50"


def test_the_same_order_formatted_differently_gets_the_same_key(stack: Stack) -> None:
    _, first = post(ORDER)
    _, second = post(json.dumps(dict(reversed(list(ORDER.items()))), indent=4))
    assert first["idempotency_key"] == second["idempotency_key"]


def test_field_errors_are_listed(stack: Stack) -> None:
    status, answer = post({**ORDER, "amount": "-1", "currency": "euro", "extra": 1})
    assert status == 400 and answer["message"] == "invalid order"
    assert {e["field"] for e in answer["errors"]} == {"amount", "currency", "extra"}
    assert (
        stack.sqs.get_queue_attributes(
            QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "0"
    )


def test_not_json_and_missing_body(stack: Stack) -> None:
    assert post("{not json")[0] == 400
    response = ingest.handler({**api_event({}, "c"), "body": None}, LambdaContext(3))
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"][0]["field"] == "(body)"


def test_too_large_is_413(stack: Stack) -> None:
    status, answer = post(json.dumps({**ORDER, "pad": "x" * spec.QUEUE_MAX_MESSAGE_BYTES}))
    assert status == 413 and str(spec.QUEUE_MAX_MESSAGE_BYTES) in answer["message"]


def test_base64_bodies_are_decoded(stack: Stack) -> None:
    status, _ = post(base64.b64encode(json.dumps(ORDER).encode()).decode(), isBase64Encoded=True)
    assert status == 202
