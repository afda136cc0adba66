"""Reads of the failure ledger (the pipeline's idempotency table) in DynamoDB."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dlqctl.aws.errors import aws_call
from dlqctl.errors import AwsError
from dlqctl.pipeline import spec

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer

BATCH_GET_MAX = 100
_UNPROCESSED_RETRIES = 8


@functools.cache
def _deserializer() -> TypeDeserializer:
    # boto3 loads on the first read, not when a module needs BATCH_GET_MAX.
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


class LedgerGateway:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The ledger items for `keys` (missing keys are absent), 100 keys a request."""
        unique = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), BATCH_GET_MAX):
            for item in self._batch_get(unique[start : start + BATCH_GET_MAX]):
                found[str(item[spec.LEDGER_KEY])] = item
        return found

    def _batch_get(self, keys: list[str]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            self.table: {"Keys": [{spec.LEDGER_KEY: {"S": key}} for key in keys]}
        }
        items: list[dict[str, Any]] = []
        for attempt in range(_UNPROCESSED_RETRIES):
            with aws_call("dynamodb", f"ledger table {self.table}"):
                response = self.client.batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(self.table, []):
                items.append({k: _deserializer().deserialize(v) for k, v in raw.items()})
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return items
            # DynamoDB hands back what it could not serve under load: back off, then ask again.
            time.sleep(min(2.0, 0.05 * 2**attempt))
        raise AwsError(
            f"ledger table {self.table} kept some keys unprocessed: retry later or raise its "
            "read capacity"
        )
