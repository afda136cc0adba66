"""Traffic for the lab: orders posted through the real ingest handler, some poison."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from dlqctl.lab.poller import LambdaContext


@dataclass(frozen=True)
class Sent:
    accepted: int
    rejected: int
    poison: int


def order(rng: random.Random, *, poison: bool) -> dict[str, Any]:
    return {
        "order_id": f"ord-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}",
        "customer_id": f"cust-{rng.randint(1, 500)}",
        "amount": f"{rng.randint(100, 99_999) / 100:.2f}",
        "currency": rng.choice(["EUR", "USD", "GBP"]),
        "items": [{"sku": f"sku-{rng.randint(1, 99)}", "quantity": rng.randint(1, 5)}],
        "poison": poison,
    }


def api_event(body: dict[str, Any], correlation_id: str) -> dict[str, Any]:
    """An API Gateway proxy event, as the REST API hands it to the ingest function."""
    return {
        "resource": "/orders",
        "path": "/orders",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "X-Correlation-Id": correlation_id},
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "lab"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def send_orders(count: int, poison_ratio: float = 0.0, *, seed: int | None = None) -> Sent:
    """Post `count` orders; about `poison_ratio` of them marked poison (exactly, rounded)."""
    from dlqctl.pipeline import ingest  # needs the lab's environment set first

    rng = random.Random(seed)
    poison_count = round(count * poison_ratio)
    marks = [True] * poison_count + [False] * (count - poison_count)
    rng.shuffle(marks)
    accepted = rejected = 0
    for poison in marks:
        response = ingest.handler(
            api_event(order(rng, poison=poison), str(uuid.uuid4())), LambdaContext(3)
        )
        if response["statusCode"] == 202:
            accepted += 1
        else:
            rejected += 1
    return Sent(accepted, rejected, poison_count)
