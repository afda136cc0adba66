"""The worker's EMF metrics as CloudWatch would extract them: each failure counted with its
own ErrorType, and the batch's other outcomes never split by one."""

import time
from typing import Any

import pytest

from dlqctl.lab.poller import LambdaContext
from dlqctl.pipeline import spec, worker
from dlqctl.pipeline.failure_modes import DownstreamError, FailureMode, PoisonPayloadError

from .conftest import Datapoint, Stack, batch, emf_datapoints, invoke, key

SERVICE = ("service", spec.SERVICE_NAME)
POISON = {"order_id": "poison"}
DOWNSTREAM = {"order_id": "downstream"}
GOOD = {"order_id": "good"}
DUPLICATE = {"order_id": "done-before"}


def fail_by_order_id(payload: Any, mode: FailureMode, context: LambdaContext) -> None:
    """The business logic failing two ways in one batch, which no single GameDay mode does."""
    if payload["order_id"] == POISON["order_id"]:
        raise PoisonPayloadError("payload is marked poison")
    if payload["order_id"] == DOWNSTREAM["order_id"]:
        raise DownstreamError("downstream answered 503")


def point(name: str, *dimensions: tuple[str, str]) -> Datapoint:
    return Datapoint(spec.METRICS_NAMESPACE, name, tuple(sorted((SERVICE, *dimensions))), 1)


@pytest.fixture
def mixed_batch(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A poison payload, a downstream failure, a success and an already processed payload."""
    monkeypatch.setattr(worker, "work", fail_by_order_id)
    stack.dynamodb.put_item(
        TableName=spec.LEDGER_TABLE_NAME,
        Item={
            spec.LEDGER_KEY: {"S": key(DUPLICATE)},
            spec.LEDGER_STATUS: {"S": spec.STATUS_COMPLETED},
            spec.LEDGER_EXPIRES_AT: {"N": str(int(time.time()) + 3600)},
        },
    )
    return batch(stack, POISON, DOWNSTREAM, GOOD, DUPLICATE)


def test_each_failure_of_a_mixed_batch_has_its_own_error_type_and_nothing_else_has_one(
    stack: Stack, mixed_batch: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    failed = invoke(mixed_batch)
    assert failed == sorted(
        r["messageId"] for r in mixed_batch if '"poison"' in r["body"] or "downstream" in r["body"]
    )
    error_type = spec.METRIC_DIMENSION_ERROR_TYPE
    assert sorted(emf_datapoints(capsys.readouterr().out), key=repr) == sorted(
        [
            point(spec.METRIC_FAILED, (error_type, spec.POISON_ERROR)),
            point(spec.METRIC_FAILED, (error_type, spec.DOWNSTREAM_ERROR)),
            point(spec.METRIC_PROCESSED),
            point(spec.METRIC_IDEMPOTENCY_HIT),
        ],
        key=repr,
    )
    assert stack.item(key(POISON))["errorType"] == spec.POISON_ERROR
    assert stack.item(key(DOWNSTREAM))["errorType"] == spec.DOWNSTREAM_ERROR


def test_no_emf_at_all_where_metrics_are_switched_off(
    mixed_batch: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The lab's terminal: POWERTOOLS_METRICS_DISABLED must silence the failures too.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    capsys.readouterr()
    assert len(invoke(mixed_batch)) == 2
    assert emf_datapoints(capsys.readouterr().out) == []
