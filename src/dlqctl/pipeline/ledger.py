"""The worker's side of the failure ledger: idempotency by conditional writes (design §2).

One item per idempotency key. A worker may start a message when no item exists, when it
FAILED before, when it expired (TTL deletes lazily), or when an INFLIGHT claim is older
than the worker timeout (its worker was killed). A COMPLETED item means: done, skip.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import boto3
from botocore.exceptions import ClientError

from dlqctl.pipeline import spec


class Claim(Enum):
    RUN = "run"
    COMPLETED = "completed"  # already processed: an idempotency hit
    BUSY = "busy"  # another worker holds a fresh claim


def iso(ts: float) -> str:
    """One fixed format, so ISO strings also compare correctly as strings."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Ledger:
    def __init__(
        self,
        table: str,
        *,
        client: Any = None,
        ttl_days: int = spec.LEDGER_TTL_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self._client = client
        self.ttl_s = ttl_days * 86_400
        self.clock = clock

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("dynamodb")
        return self._client

    def claim(self, key: str, message_id: str, timeout_s: float) -> Claim:
        now = self.clock()
        try:
            self.client.update_item(
                TableName=self.table,
                Key={spec.LEDGER_KEY: {"S": key}},
                UpdateExpression=(
                    "SET #status = :inflight, #started = :now, #message = :message, "
                    "#expires = :expires ADD #attempts :one"
                ),
                ConditionExpression=(
                    "attribute_not_exists(#key) OR #status = :failed OR #expires < :epoch "
                    "OR (#status = :inflight AND #started < :stale)"
                ),
                ExpressionAttributeNames={
                    "#key": spec.LEDGER_KEY,
                    "#status": spec.LEDGER_STATUS,
                    "#started": spec.LEDGER_STARTED_AT,
                    "#message": spec.LEDGER_MESSAGE_ID,
                    "#expires": spec.LEDGER_EXPIRES_AT,
                    "#attempts": spec.LEDGER_ATTEMPTS,
                },
                ExpressionAttributeValues={
                    ":inflight": {"S": spec.STATUS_INFLIGHT},
                    ":failed": {"S": spec.STATUS_FAILED},
                    ":now": {"S": iso(now)},
                    ":stale": {"S": iso(now - timeout_s)},
                    ":message": {"S": message_id},
                    ":expires": {"N": str(int(now + self.ttl_s))},
                    ":epoch": {"N": str(int(now))},
                    ":one": {"N": "1"},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return self._why_not(key)
        return Claim.RUN

    def _why_not(self, key: str) -> Claim:
        item = self.client.get_item(
            TableName=self.table, Key={spec.LEDGER_KEY: {"S": key}}, ConsistentRead=True
        ).get("Item", {})
        status = item.get(spec.LEDGER_STATUS, {}).get("S")
        return Claim.COMPLETED if status == spec.STATUS_COMPLETED else Claim.BUSY

    def complete(self, key: str) -> None:
        self._set(
            key,
            {
                spec.LEDGER_STATUS: spec.STATUS_COMPLETED,
                spec.LEDGER_COMPLETED_AT: iso(self.clock()),
            },
        )

    def fail(self, key: str, error_type: str, message: str) -> None:
        truncated = message.encode("utf-8")[: spec.LEDGER_ERROR_MESSAGE_MAX_BYTES].decode(
            "utf-8", "ignore"
        )
        self._set(
            key,
            {
                spec.LEDGER_STATUS: spec.STATUS_FAILED,
                spec.LEDGER_ERROR_TYPE: error_type,
                spec.LEDGER_ERROR_MESSAGE: truncated,
                spec.LEDGER_LAST_FAILED_AT: iso(self.clock()),
            },
        )

    def _set(self, key: str, values: dict[str, str]) -> None:
        names = {f"#a{i}": name for i, name in enumerate(values)}
        self.client.update_item(
            TableName=self.table,
            Key={spec.LEDGER_KEY: {"S": key}},
            UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":v{i}": {"S": v} for i, v in enumerate(values.values())},
        )
