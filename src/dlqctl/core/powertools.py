"""Powertools idempotency tables as a ledger: what will a redriven copy do?

A function made idempotent with aws-lambda-powertools (v3, `DynamoDBPersistenceLayer`)
keeps one item per payload, keyed `<prefix>#<hash>`: the prefix is `key_prefix`, or
`<Lambda function name>.<module>.<qualname>` of the decorated function; the hash (md5 by
default) is of `json.dumps(data, sort_keys=True)` with the default separators, where data
is the JMESPath `event_key_jmespath` result over the function's payload (the whole payload
without one). The payload is the handler's event for `@idempotent`, the named argument for
`@idempotent_function`; an `SQSRecord` counts as its raw dict. dlqctl rebuilds that key
for each DLQ message and reads the item, then predicts as Powertools decides:

- COMPLETED, not expired: Powertools returns the stored response, the function body does
  not run;
- INPROGRESS, its `in_progress_expiration` (epoch ms) not passed, or absent: Powertools
  raises IdempotencyAlreadyInProgressError;
- no item, or `expiration` (epoch s) passed, or an in-progress one timed out: it runs. A
  failed run deletes its item, so a failure leaves no item. EXPIRED is never stored.

dlqctl does not import Powertools: the key and the decision are mirrored here, and
tests/unit/test_powertools_key.py holds them to Powertools' own code.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.functions import Functions, signature
from jmespath.parser import ParsedResult

from dlqctl.aws.ledger import LedgerGateway, LedgerSchema
from dlqctl.core.jmes import describe
from dlqctl.core.messages import RawMessage, Received
from dlqctl.errors import UsageError

Payload = Literal["event", "sqs-record"]
RecordStatus = Literal["COMPLETED", "INPROGRESS", "EXPIRED"]
Predicted = Literal[
    "no-op (already COMPLETED)",
    "will fail (INPROGRESS)",
    "will run",
    # Powertools raises before the function runs: no key (raise_on_no_idempotency_key) or
    # a key expression that fails on this payload.
    "will fail (no idempotency key)",
    # An item Powertools cannot read back (a status it does not know, no expiration).
    "will fail (invalid record)",
]

NO_OP: Final = "no-op (already COMPLETED)"
IN_PROGRESS: Final = "will fail (INPROGRESS)"
RUNS: Final = "will run"
NO_KEY: Final = "will fail (no idempotency key)"
INVALID: Final = "will fail (invalid record)"

# DynamoDBPersistenceLayer's default attribute names.
KEY_ATTRIBUTE: Final = "id"
STATUS_ATTRIBUTE: Final = "status"
EXPIRY_ATTRIBUTE: Final = "expiration"
IN_PROGRESS_EXPIRY_ATTRIBUTE: Final = "in_progress_expiration"
_STORED_STATUSES = ("COMPLETED", "INPROGRESS")

# Fields of Lambda's SQS record that each delivery sets anew: a redriven copy has its own.
_DELIVERY_FIELDS = frozenset(
    {
        "messageId",
        "receiptHandle",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
        "SentTimestamp",
        "SenderId",
        "SequenceNumber",
        "MessageDeduplicationId",
        "AWSTraceHeader",
    }
)


class _PowertoolsFunctions(Functions):
    """Powertools' built-in JMESPath functions (`PowertoolsFunctions`), which its
    idempotency utility passes to every search unless given others."""

    @signature({"types": ["string"]})
    def _func_powertools_json(self, value: str) -> Any:
        return json.loads(value)

    @signature({"types": ["string"]})
    def _func_powertools_base64(self, value: str) -> str:
        return base64.b64decode(value).decode()

    @signature({"types": ["string"]})
    def _func_powertools_base64_gzip(self, value: str) -> str:
        return gzip.decompress(base64.b64decode(value)).decode()


_OPTIONS = jmespath.Options(custom_functions=_PowertoolsFunctions())


@dataclass(frozen=True, slots=True)
class PowertoolsLedgerSpec:
    """How a function's Powertools idempotency is set up, as dlqctl needs to know it.

    `payload`: "event" when the function's data is the message body's JSON itself (a
    Lambda async-invocation or EventBridge event, or a handler given the parsed body; a
    body that is not JSON counts as its text); "sqs-record" when it is the SQS record
    Lambda's event source mapping builds (`@idempotent_function` on a batch record
    handler). `source_queue_arn`: in sqs-record mode, the queue the redriven copy is read
    from (its record's eventSourceARN); without it, the DLQ message's
    DeadLetterQueueSourceArn.
    """

    table: str
    function_name: str | None = None
    handler: str | None = None
    key_jmespath: str | None = None
    key_prefix: str | None = None
    hash_function: str = "md5"
    key_attribute: str = KEY_ATTRIBUTE
    sort_key_attribute: str | None = None
    static_pk_value: str | None = None
    status_attribute: str = STATUS_ATTRIBUTE
    expiry_attribute: str = EXPIRY_ATTRIBUTE
    in_progress_expiry_attribute: str = IN_PROGRESS_EXPIRY_ATTRIBUTE
    payload: Payload = "event"
    raise_on_no_idempotency_key: bool = False
    source_queue_arn: str | None = None

    def __post_init__(self) -> None:
        if not self.key_prefix and not (self.function_name and self.handler):
            raise UsageError(
                f"Powertools table {self.table}: give its key prefix, or the function's name and "
                "its decorated function as module.qualname (e.g. app.lambda_handler)"
            )
        if self.hash_function not in _HASHES:
            raise UsageError(
                f"Powertools hash function {self.hash_function!r} unknown: use a hashlib name "
                "such as md5 (Powertools' default) or sha256"
            )
        if self.sort_key_attribute == self.key_attribute:
            raise UsageError(f"key and sort key attributes are both {self.key_attribute!r}")
        if self.sort_key_attribute and not (self.static_pk_value or self.function_name):
            raise UsageError(
                f"Powertools table {self.table} has a sort key: give the function's name or the "
                "static partition key value"
            )
        if self.payload not in ("event", "sqs-record"):
            raise UsageError(f"Powertools payload {self.payload!r}: use event or sqs-record")
        if self.key_jmespath:
            _compiled(self.key_jmespath)

    @property
    def prefix(self) -> str:
        """The part of every key before `#` (Powertools' `function_name`)."""
        return self.key_prefix or f"{self.function_name}.{self.handler}"

    @property
    def schema(self) -> LedgerSchema:
        sort_key = self.sort_key_attribute
        return LedgerSchema(
            key_attribute=self.key_attribute,
            sort_key_attribute=sort_key,
            # Powertools' default: the Lambda function's name, not the table's.
            partition_value=(self.static_pk_value or f"idempotency#{self.function_name}")
            if sort_key
            else None,
            attributes=(
                self.status_attribute,
                self.expiry_attribute,
                self.in_progress_expiry_attribute,
            ),
        )

    def warnings(self) -> list[str]:
        """One line for each way this setup keeps a redriven copy from finding its record."""
        fields = _field_names(self.key_jmespath) if self.key_jmespath else set()
        if self.payload == "sqs-record":
            if not self.key_jmespath:
                return [
                    "no key_jmespath: Powertools hashes the whole SQS record, whose messageId and "
                    "receiptHandle a redriven copy gets anew, so every copy will run"
                ]
            bound = sorted(fields & _DELIVERY_FIELDS)
            if bound:
                return [
                    f"key_jmespath reads {', '.join(bound)}, which SQS sets anew for a redriven "
                    "copy: its key never matches a record, so every copy will run"
                ]
        elif any(name.lower() == "messageid" for name in fields):
            return [
                "key_jmespath reads a messageId: if it is an SQS message id, a redriven copy has "
                "a new one, so its key never matches a record and every copy will run"
            ]
        return []


class KeyUnavailable(Exception):
    """No key to look up for a message; `predicted` is what the function does instead."""

    def __init__(self, predicted: Predicted, reason: str) -> None:
        super().__init__(reason)
        self.predicted: Predicted = predicted
        self.reason = reason


def powertools_key(
    spec: PowertoolsLedgerSpec,
    body_text: str,
    parsed_body: Any,
    sqs_message: RawMessage | None = None,
) -> str | None:
    """The key a redriven copy of this message gets, or None where Powertools skips
    idempotency (the key expression selects nothing, raise_on_no_idempotency_key off).

    `parsed_body` is the body's JSON value (or its text when it is not JSON): the event
    mode's payload. In sqs-record mode the record is rebuilt from `body_text` and
    `sqs_message`, the DLQ copy as ReceiveMessage returned it. Raises KeyUnavailable
    where Powertools raises instead (and so the copy fails), or where the key depends on
    what SQS sets anew for each delivery (and so the copy runs).
    """
    if spec.payload == "event":
        return _hashed_key(spec, parsed_body)
    if sqs_message is None:
        raise ValueError("sqs-record mode needs the SQS message")
    arn = spec.source_queue_arn or sqs_message.get("Attributes", {}).get("DeadLetterQueueSourceArn")
    record = functools.partial(_sqs_record, sqs_message, body_text)
    key = _hashed_key(spec, record(arn or _ARNS[0], _DELIVERIES[0]))
    if _outcome(spec, record(arn or _ARNS[0], _DELIVERIES[1])) != key:
        raise KeyUnavailable(
            RUNS,
            "the key depends on what SQS sets anew for each delivery (messageId, receiptHandle, "
            "attributes): a redriven copy's key matches no record, so it runs",
        )
    if arn is None and _outcome(spec, record(_ARNS[1], _DELIVERIES[0])) != key:
        raise UsageError(
            "the Powertools key reads the record's eventSourceARN or awsRegion, and the DLQ "
            "message does not say which queue it came from: give the source queue's ARN"
        )
    return key


_FAILS: Final = object()


def _outcome(spec: PowertoolsLedgerSpec, data: Any) -> object:
    """The key, None, or _FAILS: what to compare between two variants of a record."""
    try:
        return _hashed_key(spec, data)
    except KeyUnavailable:
        return _FAILS


def _hashed_key(spec: PowertoolsLedgerSpec, data: Any) -> str | None:
    """Powertools' `BasePersistenceLayer._get_hashed_idempotency_key`."""
    if spec.key_jmespath:
        try:
            data = _compiled(spec.key_jmespath).search(data, options=_OPTIONS)
        except Exception as exc:  # Powertools wraps any: IdempotencyPersistenceLayerError
            said = f": {str(exc).splitlines()[0]}" if str(exc) else ""
            raise KeyUnavailable(
                NO_KEY,
                f"key_jmespath fails on this message ({type(exc).__name__}{said}): Powertools "
                "raises IdempotencyPersistenceLayerError before the function runs",
            ) from None
    if _missing(data):
        if spec.raise_on_no_idempotency_key:
            raise KeyUnavailable(
                NO_KEY,
                "key_jmespath selects nothing in this message: Powertools raises "
                "IdempotencyKeyError (raise_on_no_idempotency_key)",
            )
        return None
    text = json.dumps(data, sort_keys=True)
    return f"{spec.prefix}#{_HASHES[spec.hash_function](text.encode()).hexdigest()}"


def _missing(data: Any) -> bool:
    """Powertools' `is_missing_idempotency_key`: an empty or all-null selection."""
    if isinstance(data, dict):
        return all(value is None for value in data.values())
    if isinstance(data, tuple | list):
        return all(value is None for value in data)
    if isinstance(data, int | float):  # bool is an int: False is a key
        return False
    return not data


# Two sets of per-delivery values: a key that differs between them is not the copy's key.
_DELIVERIES: Final = (
    {
        "messageId": "00000000-0000-4000-8000-000000000001",
        "receiptHandle": "receipt-handle-1",
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDAEXAMPLESENDER1",
            "ApproximateFirstReceiveTimestamp": "1700000000001",
        },
        "fifo": {"SequenceNumber": "10000000000000000001", "MessageDeduplicationId": "dedup-1"},
    },
    {
        "messageId": "00000000-0000-4000-8000-000000000002",
        "receiptHandle": "receipt-handle-2",
        "attributes": {
            "ApproximateReceiveCount": "2",
            "SentTimestamp": "1700000000002",
            "SenderId": "AIDAEXAMPLESENDER2",
            "ApproximateFirstReceiveTimestamp": "1700000000003",
        },
        "fifo": {"SequenceNumber": "10000000000000000002", "MessageDeduplicationId": "dedup-2"},
    },
)
_ARNS: Final = (
    "arn:aws:sqs:us-east-1:000000000000:source-queue-1",
    "arn:aws:sqs:eu-west-1:000000000001:source-queue-2",
)


def _sqs_record(
    message: RawMessage, body_text: str, source_arn: str, delivery: Mapping[str, Any]
) -> dict[str, Any]:
    """The record Lambda's SQS event source hands the function for a copy of `message`."""
    system = message.get("Attributes", {})
    attributes = dict(delivery["attributes"])
    if "MessageGroupId" in system:  # FIFO: the group travels with the copy
        attributes.update(delivery["fifo"], MessageGroupId=system["MessageGroupId"])
    record: dict[str, Any] = {
        "messageId": delivery["messageId"],
        "receiptHandle": delivery["receiptHandle"],
        "body": body_text,
        "attributes": attributes,
        "messageAttributes": _lambda_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody")
        or hashlib.md5(
            body_text.encode("utf-8", "surrogatepass"), usedforsecurity=False
        ).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": source_arn.split(":")[3] if source_arn.count(":") >= 5 else "",
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _lambda_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Message attributes as Lambda spells them (camelCase, binary as base64, lists always)."""
    converted: dict[str, Any] = {}
    for name, attribute in attributes.items():
        entry: dict[str, Any] = {}
        if "StringValue" in attribute:
            entry["stringValue"] = attribute["StringValue"]
        if "BinaryValue" in attribute:
            entry["binaryValue"] = _b64(attribute["BinaryValue"])
        entry["stringListValues"] = list(attribute.get("StringListValues", []))
        entry["binaryListValues"] = [_b64(v) for v in attribute.get("BinaryListValues", [])]
        entry["dataType"] = attribute["DataType"]
        converted[name] = entry
    return converted


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode("ascii")


_HASHES: Final[dict[str, Callable[[bytes], Any]]] = {
    # Powertools calls getattr(hashlib, name); shake digests need a length it never gives.
    name: getattr(hashlib, name)
    for name in sorted(hashlib.algorithms_guaranteed)
    if not name.startswith("shake")
}


@functools.cache
def _compiled(expression: str) -> ParsedResult:
    try:
        compiled = jmespath.compile(expression)
    except JMESPathError as exc:
        raise UsageError(f"invalid key_jmespath {expression!r}: {describe(exc)}") from None
    unknown = sorted(
        _names(compiled.parsed, "function_expression") - set(_PowertoolsFunctions.FUNCTION_TABLE)
    )
    if unknown:
        raise UsageError(
            f"invalid key_jmespath {expression!r}: unknown function {unknown[0]}() (dlqctl knows "
            "JMESPath's and Powertools' built-in ones)"
        )
    return compiled


def _field_names(expression: str) -> set[str]:
    return _names(_compiled(expression).parsed, "field")


def _names(node: Mapping[str, Any], kind: str) -> set[str]:
    return {str(n["value"]) for n in _walk(node) if n.get("type") == kind}


def _walk(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("children", []):
        if isinstance(child, Mapping):
            yield from _walk(child)


@dataclass(frozen=True, slots=True)
class PowertoolsVerdict:
    key: str | None
    status: RecordStatus | None
    predicted: Predicted
    reason: str | None


class PowertoolsLedger:
    """Predicts, from a function's Powertools table, what it does with redriven copies."""

    def __init__(
        self,
        spec: PowertoolsLedgerSpec,
        gateway: LedgerGateway,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (gateway.table, gateway.schema) != (spec.table, spec.schema):
            raise ValueError("the gateway must read the spec's table with the spec's schema")
        self.spec = spec
        self.gateway = gateway
        self.clock = clock

    def verdicts(self, messages: Sequence[Received]) -> list[PowertoolsVerdict]:
        """One verdict per message, in order; the table is read once for the batch."""
        keys = [self._key(m) for m in messages]
        items = self.gateway.get_many(k for k in keys if isinstance(k, str))
        now = self.clock()
        return [self._verdict(k, items, now) for k in keys]

    def _key(self, message: Received) -> str | KeyUnavailable | None:
        body_text = str(message.raw.get("Body", ""))
        parsed = message.body if message.encoding == "json" else body_text
        try:
            return powertools_key(self.spec, body_text, parsed, message.raw)
        except KeyUnavailable as exc:
            return exc

    def _verdict(
        self, key: str | KeyUnavailable | None, items: Mapping[str, dict[str, Any]], now: float
    ) -> PowertoolsVerdict:
        if isinstance(key, KeyUnavailable):
            return PowertoolsVerdict(None, None, key.predicted, key.reason)
        if key is None:
            return PowertoolsVerdict(
                None,
                None,
                RUNS,
                "key_jmespath selects nothing in this message: Powertools skips idempotency and "
                "runs the function",
            )
        item = items.get(key)
        if item is None:
            return PowertoolsVerdict(
                key,
                None,
                RUNS,
                "no record: never run, or its last run failed (Powertools deletes the record of "
                "a failed run)",
            )
        return self._decide(key, item, now)

    def _decide(self, key: str, item: Mapping[str, Any], now: float) -> PowertoolsVerdict:
        """Powertools' conditional put of the INPROGRESS record, then `_handle_for_status`
        on the record it finds when the put is refused."""
        spec = self.spec
        status = item.get(spec.status_attribute)
        expiry = _number(item.get(spec.expiry_attribute))
        in_progress = _number(item.get(spec.in_progress_expiry_attribute))
        # The put's condition, with its :now (int seconds) and :now_in_millis.
        if expiry is not None and expiry < int(now):
            return PowertoolsVerdict(
                key,
                "EXPIRED",
                RUNS,
                f"the record expired at {_at(expiry)}: Powertools replaces it and runs the function",
            )
        if status == "INPROGRESS" and in_progress is not None and in_progress < int(now * 1000):
            return PowertoolsVerdict(
                key,
                "INPROGRESS",
                RUNS,
                f"its invocation ran out of time at {_at(in_progress / 1000)}: Powertools takes "
                "the record over and runs the function",
            )
        if status not in _STORED_STATUSES or expiry is None:
            return PowertoolsVerdict(
                key,
                None,
                INVALID,
                f"record with status {status!r} and expiration "
                f"{item.get(spec.expiry_attribute)!r}: Powertools cannot read it and raises",
            )
        if status == "COMPLETED":
            return PowertoolsVerdict(
                key,
                "COMPLETED",
                NO_OP,
                f"Powertools returns the stored response until the record expires at {_at(expiry)}",
            )
        until = (
            f"until {_at(in_progress / 1000)} (in_progress_expiration)"
            if in_progress is not None
            else f"with no in_progress_expiration, so until the record expires at {_at(expiry)}"
        )
        return PowertoolsVerdict(
            key,
            "INPROGRESS",
            IN_PROGRESS,
            f"an invocation holds it {until}: Powertools raises IdempotencyAlreadyInProgressError",
        )


def _number(value: object) -> Decimal | int | None:
    # DynamoDB numbers come back as Decimal; anything else fails the put's comparisons.
    return value if isinstance(value, Decimal | int) and not isinstance(value, bool) else None


def _at(epoch_s: Decimal | float) -> str:
    return datetime.fromtimestamp(float(epoch_s), UTC).isoformat(timespec="seconds")
