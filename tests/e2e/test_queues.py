"""`dlqctl queues`: which queues are DLQs, their depth and sources."""

from __future__ import annotations

import pytest

from .conftest import (
    ENDPOINT_AWS_ENV,
    ENDPOINT_AWS_SQS_ENV,
    ENDPOINT_DLQCTL_ENV,
    Result,
    Runner,
    World,
)

pytestmark = pytest.mark.e2e


def _by_name(queues: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(q["name"]): q for q in queues}


def _assert_dlq_listing(queues: list[dict[str, object]]) -> None:
    # Deepest first, ties by name; only queues some queue redrives to.
    assert [q["name"] for q in queues] == ["orders-dlq", "x-dlq.fifo", "payments-dlq"]
    found = _by_name(queues)
    assert found["orders-dlq"]["visible"] == 9
    assert found["orders-dlq"]["in_flight"] == 0
    assert found["orders-dlq"]["sources"] == ["orders"]
    assert found["payments-dlq"]["visible"] == 0
    assert found["payments-dlq"]["sources"] == ["payments"]
    assert found["x-dlq.fifo"]["fifo"] is True
    assert found["x-dlq.fifo"]["visible"] == 5
    assert found["x-dlq.fifo"]["sources"] == ["x.fifo"]


def test_queues_ndjson_lists_only_dlqs_deepest_first(dlqctl: Runner, orders: World) -> None:
    result = dlqctl("queues", "-o", "ndjson", endpoint=ENDPOINT_DLQCTL_ENV)
    _assert_dlq_listing(result.ndjson())


def test_queues_all_lists_every_queue(dlqctl: Runner, orders: World) -> None:
    result = dlqctl("queues", "--all", "-o", "ndjson", endpoint=ENDPOINT_AWS_ENV)
    found = _by_name(result.ndjson())
    assert set(found) == set(orders.urls)
    assert found["orders"]["redrive_policy"] == {
        "dead_letter_target_arn": orders.arn("orders-dlq"),
        "max_receive_count": 3,
    }
    assert found["audit"]["redrive_policy"] is None
    assert found["audit"]["sources"] == []


def test_queues_with_only_an_sqs_endpoint_stays_local(dlqctl: Runner, orders: World) -> None:
    """AWS_ENDPOINT_URL_SQS names no CloudWatch endpoint: the optional oldest-age lookup
    must not go to AWS itself (the runner fails the test if anything left 127.0.0.1)."""
    result = dlqctl("queues", "-o", "ndjson", endpoint=ENDPOINT_AWS_SQS_ENV)
    _assert_dlq_listing(result.ndjson())


def test_queues_prefix(dlqctl: Runner, orders: World) -> None:
    result = dlqctl("queues", "--all", "--prefix", "pay", "-o", "ndjson")
    assert sorted(q["name"] for q in result.ndjson()) == ["payments", "payments-dlq"]


def test_queues_without_dlqs_prints_nothing(dlqctl: Runner, world: World) -> None:
    world.create("lonely")
    result: Result = dlqctl("queues", "-o", "ndjson")
    assert result.code == 0, result.describe()
    assert result.stdout == ""


@pytest.mark.parametrize("all_flag", [False, True], ids=["dlqs", "all"])
def test_queues_json_document(dlqctl: Runner, orders: World, all_flag: bool) -> None:
    args = ["queues", "-o", "json", *(["--all"] if all_flag else [])]
    document = dlqctl(*args).json()
    if all_flag:
        assert set(_by_name(document["queues"])) == set(orders.urls)
    else:
        _assert_dlq_listing(document["queues"])
