"""Why did a message fail? The error-type resolution chain, first hit wins (design §2).

1. a message attribute (default `ErrorType`);
2. the error data of the service that gave up on the message (core/kinds.py): Lambda's
   ErrorMessage/ErrorCode, a destination record's responsePayload.errorType (else
   functionError, else condition), EventBridge's and Scheduler's ERROR_CODE (else
   EXHAUSTED_RETRY_CONDITION);
3. the failure ledger (FAILED items carry the type; INFLIGHT past the worker timeout
   reads as `Timeout`);
4. config rules: JMESPath over the JSON body;
5. `Unknown`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jmespath.parser import ParsedResult

from dlqctl.aws.ledger import LedgerGateway
from dlqctl.config import ErrorTypeRule
from dlqctl.core.jmes import Unevaluable, compile_expression, search_truthy
from dlqctl.core.kinds import UNREAD, KindOverride, Reading, read
from dlqctl.core.messages import Received
from dlqctl.core.powertools import PowertoolsLedger
from dlqctl.models import ErrorSource, PredictedOutcome
from dlqctl.pipeline import spec

UNKNOWN = "Unknown"
TIMEOUT = "Timeout"


@dataclass(frozen=True, slots=True)
class Classification:
    error_type: str
    source: ErrorSource
    ledger_status: str | None = None
    # Why a config rule could not be evaluated on this body, when no rule matched.
    unevaluated: str | None = None
    # The message's kind, original target and what resending it takes (core/kinds.py).
    reading: Reading = UNREAD
    # What the function will do with a copy, from a Powertools ledger (core/powertools.py).
    predicted: PredictedOutcome | None = None


class Classifier:
    def __init__(
        self,
        *,
        attribute: str = spec.ERROR_TYPE_ATTRIBUTE,
        rules: Sequence[ErrorTypeRule] = (),
        ledger: LedgerGateway | None = None,
        worker_timeout_s: float = spec.WORKER_TIMEOUT_S,
        kind: KindOverride | None = None,
        powertools: PowertoolsLedger | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.attribute = attribute
        self.kind = kind
        self.powertools = powertools
        self.ledger = ledger
        self.worker_timeout_s = worker_timeout_s
        self.clock = clock
        self._rules: list[tuple[ParsedResult, ErrorTypeRule]] = [
            (compile_expression(rule.when, "a config rule"), rule) for rule in rules
        ]

    def classify(self, messages: Sequence[Received]) -> list[Classification]:
        """Classify a batch; the ledger is read once for the whole batch."""
        items = self.ledger.get_many(m.key for m in messages) if self.ledger else {}
        now = self.clock()
        found = [self._resolve(m, items.get(m.key), now) for m in messages]
        if self.powertools is None:
            return found
        # A Powertools table holds no error types (a failed run deletes its record): it
        # says what the function will do with each copy.
        verdicts = self.powertools.verdicts(
            [_as_resent(m, c.reading) for m, c in zip(messages, found, strict=True)]
        )
        return [
            dataclasses.replace(c, ledger_status=v.status, predicted=v.predicted)
            for c, v in zip(found, verdicts, strict=True)
        ]

    def _resolve(
        self, message: Received, item: dict[str, Any] | None, now: float
    ) -> Classification:
        if item is not None and _expired(item, now):
            item = None  # TTL deletes lazily (and moto never does): an expired item is gone
        status = str(item[spec.LEDGER_STATUS]) if item else None
        reading = read(message, self.kind)

        from_attribute = message.message_attributes.get(self.attribute, {}).get("StringValue")
        if from_attribute:
            return Classification(str(from_attribute), "attribute", status, reading=reading)
        if reading.error_type and reading.error_source:
            return Classification(reading.error_type, reading.error_source, status, reading=reading)
        if item is not None:
            from_ledger = self._from_ledger(item, now)
            if from_ledger:
                return Classification(from_ledger, "ledger", status, reading=reading)
        unevaluated = None
        if message.encoding == "json":
            for expression, rule in self._rules:
                try:
                    if search_truthy(expression, message.body):
                        return Classification(rule.error_type, "rule", status, reading=reading)
                except Unevaluable as exc:  # this rule does not match; the next may
                    unevaluated = unevaluated or f"rule {rule.when!r}: {exc.reason}"
        return Classification(UNKNOWN, "none", status, unevaluated, reading)

    def _from_ledger(self, item: dict[str, Any], now: float) -> str | None:
        status = item.get(spec.LEDGER_STATUS)
        if status == spec.STATUS_FAILED and item.get(spec.LEDGER_ERROR_TYPE):
            return str(item[spec.LEDGER_ERROR_TYPE])
        if status == spec.STATUS_INFLIGHT:
            started = _epoch(item.get(spec.LEDGER_STARTED_AT))
            if started is not None and now - started > self.worker_timeout_s:
                return TIMEOUT
        return None


def _as_resent(message: Received, reading: Reading) -> Received:
    """The message as its function will receive it again: a destination record's
    requestPayload, not the record."""
    if reading.payload is None:
        return message
    return dataclasses.replace(
        message,
        raw={**message.raw, "Body": reading.payload},
        body=json.loads(reading.payload),
        encoding="json",
    )


def _expired(item: dict[str, Any], now: float) -> bool:
    expires = item.get(spec.LEDGER_EXPIRES_AT)
    return expires is not None and float(expires) < now


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None
