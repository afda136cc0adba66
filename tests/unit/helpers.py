"""Raw SQS messages as boto3 returns them, for tests that need no queue."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from dlqctl.core.messages import Received, receive

_ids = itertools.count()


def raw_message(
    body: object = None,
    *,
    age_s: float = 60,
    error_type: str | None = None,
    attributes: dict[str, str] | None = None,
    system: dict[str, str] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    now = time.time() if now is None else now
    text = body if isinstance(body, str) else json.dumps(body if body is not None else {"n": 1})
    message_attributes = {
        name: {"DataType": "String", "StringValue": value}
        for name, value in (attributes or {}).items()
    }
    if error_type:
        message_attributes["ErrorType"] = {"DataType": "String", "StringValue": error_type}
    n = next(_ids)
    return {
        "MessageId": f"m-{n}",
        "ReceiptHandle": f"rh-{n}",
        "Body": text,
        "Attributes": {
            "SentTimestamp": str(int((now - age_s) * 1000)),
            "ApproximateReceiveCount": "3",
            **(system or {}),
        },
        "MessageAttributes": message_attributes,
    }


def received(body: object = None, **kwargs: Any) -> Received:
    now = kwargs.pop("now", None) or time.time()
    return receive(raw_message(body, now=now, **kwargs), now)
