"""The worker Lambda: SQS batches in, partial batch responses out (design §4).

Each record is claimed in the ledger (idempotency), processed, then marked COMPLETED or
FAILED with its error type. Failed records are reported in `batchItemFailures`, so only
they return to the queue; after maxReceiveCount receives SQS moves them to the DLQ, where
dlqctl reads their error type from the ledger.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from dlqctl.core.idempotency import idempotency_key
from dlqctl.pipeline import spec
from dlqctl.pipeline.failure_modes import (
    DownstreamError,
    FailureMode,
    PoisonPayloadError,
    WorkerTimedOut,
    parse_failure_mode,
)
from dlqctl.pipeline.ledger import Claim, Ledger

logger = Logger(service=spec.SERVICE_NAME)
metrics = Metrics(namespace=spec.METRICS_NAMESPACE, service=spec.SERVICE_NAME)
# Report every failed record, even when all failed, rather than raising: the outcome in
# SQS is the same, and the response says exactly which records failed.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class InFlightElsewhere(Exception):
    """Another worker holds a fresh claim on this payload: let SQS deliver it again later."""


class FailureModeCache:
    """The SSM parameter, read at most every few seconds: a GameDay flips it live.

    A switch that cannot be used must not stop the pipeline. Whatever goes wrong (no
    permission, SSM throttled or unreachable, a value that is not a mode) is logged as a
    warning and counted, and the worker goes on with the last mode it read, or none if it
    never read one. The next read waits for the cache period as after a good one, so a
    failing SSM is not asked again for every record.
    """

    def __init__(self, client: Any = None) -> None:
        self.value = FailureMode()
        self.read_at = float("-inf")
        self._client = client

    def current(self) -> FailureMode:
        max_age = float(os.environ.get(spec.ENV_FAILURE_MODE_CACHE_S, spec.FAILURE_MODE_CACHE_S))
        if time.monotonic() - self.read_at < max_age:
            return self.value
        name = os.environ.get(spec.ENV_FAILURE_MODE_PARAMETER, spec.FAILURE_MODE_PARAMETER)
        try:
            self.value = parse_failure_mode(self._read(name))
        except Exception as exc:  # any failure of the switch fails safe (see above)
            logger.warning(
                "failure mode parameter unusable: going on with the last mode read",
                extra={
                    "parameter": name,
                    "failure_mode": str(self.value),
                    "error_class": type(exc).__name__,
                    "error": str(exc),
                },
            )
            metrics.add_metric(
                name=spec.METRIC_FAILURE_MODE_UNREADABLE, unit=MetricUnit.Count, value=1
            )
        self.read_at = time.monotonic()
        return self.value

    def _read(self, name: str) -> str:
        if self._client is None:
            self._client = boto3.client("ssm")
        return str(self._client.get_parameter(Name=name)["Parameter"]["Value"])


failure_mode = FailureModeCache()
_ledger: Ledger | None = None


def reset() -> None:
    """Forget cached clients and settings: the lab points the handler at a new endpoint."""
    global _ledger, failure_mode
    _ledger = None
    failure_mode = FailureModeCache()


def ledger() -> Ledger:
    global _ledger
    if _ledger is None:
        _ledger = Ledger(
            os.environ[spec.ENV_LEDGER_TABLE],
            ttl_days=int(os.environ.get(spec.ENV_LEDGER_TTL_DAYS, spec.LEDGER_TTL_DAYS)),
        )
    return _ledger


def work(payload: Any, mode: FailureMode, context: LambdaContext) -> None:
    """The business logic, with the GameDay's injected failures."""
    if mode.kind == "poison" and isinstance(payload, dict) and payload.get("poison"):
        raise PoisonPayloadError("payload is marked poison")
    if mode.kind == "error-rate" and random.random() < mode.rate:
        raise DownstreamError("downstream answered 503")
    if mode.kind == "timeout":
        # Run past the deadline. Lambda kills the process here; where nothing kills it
        # (the lab), stop as if killed: nothing more is written.
        time.sleep(context.get_remaining_time_in_millis() / 1000 + 0.2)
        raise WorkerTimedOut


def claim_batch(records: list[dict[str, Any]], context: LambdaContext) -> dict[str, Claim]:
    """Claim every record before working on any: if the invocation then times out, the
    whole batch reads as Timeout in the ledger, not only the record it was stuck on."""
    timeout_s = context.get_remaining_time_in_millis() / 1000
    return {
        record["messageId"]: ledger().claim(
            idempotency_key(record["body"]), record["messageId"], timeout_s
        )
        for record in records
    }


def count_failure(error_type: str) -> None:
    """One Failed datapoint in an EMF blob of its own: a dimension applies to every metric
    of its blob, and the invocation's blob also carries Processed and IdempotencyHit, which
    must not be split by ErrorType (nor tagged with whichever failure came last)."""
    # single_metric prints even where Metrics is switched off (the lab switches it off).
    if is_metrics_disabled():
        return
    with single_metric(
        name=spec.METRIC_FAILED,
        unit=MetricUnit.Count,
        value=1,
        namespace=spec.METRICS_NAMESPACE,
        default_dimensions={"service": spec.SERVICE_NAME},
    ) as metric:
        metric.add_dimension(name=spec.METRIC_DIMENSION_ERROR_TYPE, value=error_type)


def record_handler(record: SQSRecord, context: LambdaContext, claim: Claim) -> None:
    key = idempotency_key(record.body)
    attributes = record.raw_event.get("messageAttributes") or {}
    correlation = (attributes.get(spec.CORRELATION_ID_ATTRIBUTE) or {}).get("stringValue")
    logger.append_keys(
        **{
            spec.LOG_FIELD_IDEMPOTENCY_KEY: key,
            spec.LOG_FIELD_CORRELATION_ID: correlation,
            spec.LOG_FIELD_MESSAGE_ID: record.message_id,
        }
    )
    if claim is Claim.COMPLETED:
        metrics.add_metric(name=spec.METRIC_IDEMPOTENCY_HIT, unit=MetricUnit.Count, value=1)
        logger.info("already processed: skipped")
        return
    if claim is Claim.BUSY:
        raise InFlightElsewhere("another worker is processing this payload")
    try:
        payload = json.loads(record.body)
    except ValueError:
        payload = record.body
    try:
        work(payload, failure_mode.current(), context)
    except Exception as exc:
        error_type = type(exc).__name__
        ledger().fail(key, error_type, str(exc))
        count_failure(error_type)
        logger.error(
            "processing failed", extra={spec.LOG_FIELD_ERROR_TYPE: error_type, "error": str(exc)}
        )
        raise
    ledger().complete(key)
    metrics.add_metric(name=spec.METRIC_PROCESSED, unit=MetricUnit.Count, value=1)
    logger.info("processed")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    claims = claim_batch(event.get("Records", []), context)

    def handle(record: SQSRecord) -> None:
        try:
            record_handler(record, context, claims[record.message_id])
        finally:
            logger.remove_keys(
                [
                    spec.LOG_FIELD_IDEMPOTENCY_KEY,
                    spec.LOG_FIELD_CORRELATION_ID,
                    spec.LOG_FIELD_MESSAGE_ID,
                ]
            )

    return dict(
        process_partial_response(
            event=event, record_handler=handle, processor=processor, context=context
        )
    )
