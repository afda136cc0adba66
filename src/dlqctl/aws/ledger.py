"""Reads of a ledger table in DynamoDB: the pipeline's own, or a Powertools idempotency table."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class LedgerSchema:
    """How a ledger table is keyed, and which attributes dlqctl reads from it.

    With a sort key, every item shares one partition key value (`partition_value`) and
    the idempotency key is the sort key: Powertools' composite-key layout.
    """

    key_attribute: str = spec.LEDGER_KEY
    sort_key_attribute: str | None = None
    partition_value: str | None = None
    # Only these (and the key attributes) are read; empty reads whole items. A Powertools
    # item holds the function's whole response, which dlqctl has no use for.
    attributes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.sort_key_attribute is None) != (self.partition_value is None):
            raise ValueError("a sort key attribute and a partition value go together")
        if self.sort_key_attribute == self.key_attribute:
            raise ValueError(f"key and sort key are both {self.key_attribute!r}")

    @property
    def lookup_attribute(self) -> str:
        """The attribute that holds the idempotency key."""
        return self.sort_key_attribute or self.key_attribute

    def key(self, value: str) -> dict[str, Any]:
        if self.sort_key_attribute is None:
            return {self.key_attribute: {"S": value}}
        return {
            self.key_attribute: {"S": self.partition_value},
            self.sort_key_attribute: {"S": value},
        }

    def projection(self) -> dict[str, Any]:
        """BatchGetItem's projection arguments (names, as `status` and `data` are reserved)."""
        if not self.attributes:
            return {}
        keys = (self.key_attribute, self.sort_key_attribute)
        names = list(dict.fromkeys([*(k for k in keys if k), *self.attributes]))
        return {
            "ProjectionExpression": ", ".join(f"#a{i}" for i in range(len(names))),
            "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(names)},
        }


class LedgerGateway:
    def __init__(self, client: Any, table: str, schema: LedgerSchema | None = None) -> None:
        self.client = client
        self.table = table
        self.schema = schema or LedgerSchema()

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The ledger items for `keys` (missing keys are absent), 100 keys a request."""
        unique = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), BATCH_GET_MAX):
            for item in self._batch_get(unique[start : start + BATCH_GET_MAX]):
                found[str(item[self.schema.lookup_attribute])] = item
        return found

    def _batch_get(self, keys: list[str]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            self.table: {
                "Keys": [self.schema.key(key) for key in keys],
                **self.schema.projection(),
            }
        }
        items: list[dict[str, Any]] = []
        for attempt in range(_UNPROCESSED_RETRIES):
            with aws_call("dynamodb", f"ledger table {self.table}"):
                response = self.client.batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(self.table, []):
                items.append({k: _deserializer().deserialize(v) for k, v in raw.items()})
            # What DynamoDB could not serve comes back with its projection, ready to resend.
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return items
            # DynamoDB hands back what it could not serve under load: back off, then ask again.
            time.sleep(min(2.0, 0.05 * 2**attempt))
        raise AwsError(
            f"ledger table {self.table} kept some keys unprocessed: retry later or raise its "
            "read capacity"
        )
