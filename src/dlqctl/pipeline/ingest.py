"""The ingest Lambda behind API Gateway: validate, enqueue, answer 202 (design §4)."""

from __future__ import annotations

import base64
import json
import os
import uuid
from decimal import Decimal
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dlqctl.core.idempotency import canonical_json, idempotency_key
from dlqctl.pipeline import spec

logger = Logger(service=spec.SERVICE_NAME)
_sqs: Any = None


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=10_000)


class Order(BaseModel):
    """What the pipeline accepts. `poison` marks a payload for the poison GameDay."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=64)
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    items: list[Item] = Field(default_factory=list, max_length=100)
    poison: bool = False


def reset() -> None:
    """Forget the cached client: the lab points the handler at a new endpoint."""
    global _sqs
    _sqs = None


def sqs() -> Any:
    global _sqs
    if _sqs is None:
        _sqs = boto3.client("sqs")
    return _sqs


def respond(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8", "replace")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    correlation_id = (
        headers.get("x-correlation-id")
        or (event.get("requestContext") or {}).get("requestId")
        or str(uuid.uuid4())
    )
    logger.append_keys(**{spec.LOG_FIELD_CORRELATION_ID: correlation_id})
    if len(raw.encode("utf-8")) > spec.QUEUE_MAX_MESSAGE_BYTES:
        return respond(413, {"message": f"body larger than {spec.QUEUE_MAX_MESSAGE_BYTES} bytes"})
    try:
        order = Order.model_validate(json.loads(raw))
    except ValueError as exc:
        errors = _field_errors(exc)
        logger.info("rejected", extra={"errors": errors})
        return respond(400, {"message": "invalid order", "errors": errors})
    body = canonical_json(order.model_dump(mode="json"))
    key = idempotency_key(body)
    logger.append_keys(**{spec.LOG_FIELD_IDEMPOTENCY_KEY: key})
    sent = sqs().send_message(
        QueueUrl=os.environ[spec.ENV_QUEUE_URL],
        MessageBody=body,
        MessageAttributes={
            spec.CORRELATION_ID_ATTRIBUTE: {"DataType": "String", "StringValue": correlation_id},
            spec.IDEMPOTENCY_KEY_ATTRIBUTE: {"DataType": "String", "StringValue": key},
        },
    )
    logger.info("accepted")
    return respond(
        202,
        {"message_id": sent["MessageId"], "idempotency_key": key, "correlation_id": correlation_id},
    )


def _field_errors(exc: ValueError) -> list[dict[str, str]]:
    if not isinstance(exc, ValidationError):
        return [{"field": "(body)", "error": "body is not valid JSON"}]
    return [
        {"field": ".".join(str(p) for p in error["loc"]) or "(body)", "error": error["msg"]}
        for error in exc.errors()
    ]
