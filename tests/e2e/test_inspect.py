"""`dlqctl inspect`: counts by error type, coverage, warnings; consumes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import (
    ENDPOINT_AWS_ENV,
    ENDPOINT_AWS_SQS_ENV,
    ENDPOINT_DLQCTL_ENV,
    ENDPOINT_FLAG,
    ORDERS_DLQ_COUNTS,
    ORDERS_DLQ_SEED,
    Runner,
    World,
    cli_surface,
)
from .test_streaming import fast_moto_clock as fast_moto_clock  # a fixture, used below

pytestmark = pytest.mark.e2e


def _counts(report: dict[str, Any]) -> dict[str, int]:
    return {row["error_type"]: row["count"] for row in report["by_error_type"]}


def _assert_complete(report: dict[str, Any], scanned: int) -> None:
    coverage = report["coverage"]
    assert coverage["scanned"] == scanned
    assert coverage["approximate_depth"] == scanned
    assert coverage["complete"] is True
    assert not any("partial view" in w for w in report["warnings"])


# How dlqctl is told the endpoint is its own (and boto3's) configuration: the flag runs on
# both backends, the three environment variables on moto only.
_ENDPOINT_SETTING = cli_surface("the counts on both, with --endpoint-url")


@pytest.mark.parametrize(
    "endpoint",
    [
        ENDPOINT_FLAG,
        *(
            pytest.param(way, marks=_ENDPOINT_SETTING)
            for way in (ENDPOINT_DLQCTL_ENV, ENDPOINT_AWS_ENV, ENDPOINT_AWS_SQS_ENV)
        ),
    ],
)
def test_inspect_counts_by_error_type(dlqctl: Runner, orders: World, endpoint: str) -> None:
    report = dlqctl("inspect", "orders-dlq", "-o", "json", endpoint=endpoint).json()

    assert report["queue"]["name"] == "orders-dlq"
    assert report["queue"]["sources"] == ["orders"]
    assert report["matched"] == len(ORDERS_DLQ_SEED)
    _assert_complete(report, len(ORDERS_DLQ_SEED))
    assert _counts(report) == ORDERS_DLQ_COUNTS
    # Ranked by count, then name.
    assert [row["error_type"] for row in report["by_error_type"]] == [
        "Unknown",
        "ValidationError",
        "Timeout",
        "PayloadTooLarge",
    ]
    sources = {row["error_type"]: row["sources"] for row in report["by_error_type"]}
    assert sources["ValidationError"] == ["attribute"]
    assert sources["Unknown"] == ["none"]
    seeded_ids = set(orders.expected["orders-dlq"])
    for row in report["by_error_type"]:
        assert set(row["sample_ids"]) <= seeded_ids
        assert len(row["sample_ids"]) == min(row["count"], 3)
    assert sum(bucket["count"] for bucket in report["age_buckets"]) == len(ORDERS_DLQ_SEED)
    assert report["receive_counts"]["min"] == report["receive_counts"]["max"] == 1


@cli_surface("the counts on both: test_inspect_counts_by_error_type")
def test_inspect_ndjson_is_one_line(dlqctl: Runner, orders: World) -> None:
    (report,) = dlqctl("inspect", "orders-dlq", "-o", "ndjson").ndjson()
    assert _counts(report) == ORDERS_DLQ_COUNTS


@pytest.mark.parametrize("ref", ["arn", "url"])
def test_inspect_accepts_arn_and_url(dlqctl: Runner, orders: World, ref: str) -> None:
    queue = orders.arn("orders-dlq") if ref == "arn" else orders.urls["orders-dlq"]
    report = dlqctl("inspect", queue, "-o", "json").json()
    assert report["queue"]["name"] == "orders-dlq"
    assert _counts(report) == ORDERS_DLQ_COUNTS


@cli_surface("a filter over the receives test_inspect_counts_by_error_type pins")
def test_inspect_filters_by_error_type(dlqctl: Runner, orders: World) -> None:
    report = dlqctl(
        "inspect", "orders-dlq", "--error-type", "Timeout", "--error-type", "Unknown", "-o", "json"
    ).json()
    assert report["matched"] == 5
    assert _counts(report) == {"Unknown": 3, "Timeout": 2}
    _assert_complete(report, len(ORDERS_DLQ_SEED))  # every message is scanned to filter


@cli_surface("a filter over the SentTimestamps test_peek_sorts_by_send_time pins")
def test_inspect_min_age_excludes_fresh_messages(dlqctl: Runner, orders: World) -> None:
    report = dlqctl("inspect", "orders-dlq", "--min-age", "1h", "-o", "json").json()
    assert report["matched"] == 0
    assert report["by_error_type"] == []
    _assert_complete(report, len(ORDERS_DLQ_SEED))


def test_inspect_empty_dlq(dlqctl: Runner, orders: World) -> None:
    report = dlqctl("inspect", "payments-dlq", "-o", "json").json()
    assert report["matched"] == 0
    assert report["by_error_type"] == []
    assert report["coverage"] == {
        "scanned": 0,
        "approximate_depth": 0,
        "complete": True,
        "stopped_because": "end of queue",
        "highest_receive_count": None,
        "unevaluated": 0,
        "unevaluated_because": {},
    }


def test_inspect_fifo_dlq_warns_about_fifo(dlqctl: Runner, orders: World) -> None:
    report = dlqctl("inspect", "x-dlq.fifo", "-o", "json").json()
    assert report["queue"]["fifo"] is True
    assert report["matched"] == 5
    assert _counts(report) == {"Unknown": 5}
    _assert_complete(report, 5)
    assert any("FIFO" in warning for warning in report["warnings"])


def test_each_scan_raises_the_receive_count(dlqctl: Runner, orders: World) -> None:
    """Documented: scanning is receiving, so ApproximateReceiveCount goes up by one a scan."""
    first = dlqctl("inspect", "orders-dlq", "-o", "json").json()
    second = dlqctl("inspect", "orders-dlq", "-o", "json").json()
    assert first["receive_counts"]["histogram"] == {"1": 9}
    assert second["receive_counts"]["histogram"] == {"2": 9}


def test_inspect_sees_messages_sqs_dead_lettered(dlqctl: Runner, world: World, sqs: Any) -> None:
    """Messages moved by the source queue's redrive policy, not sent to the DLQ directly."""
    world.create("orders-dlq")
    world.create("orders", dlq="orders-dlq", max_receive=3)
    ids = [world.send("orders", json.dumps({"order_id": f"o-{n}"})) for n in range(3)]
    for _ in range(4):  # the receive after maxReceiveCount moves them to the DLQ
        sqs.receive_message(
            QueueUrl=world.urls["orders"], MaxNumberOfMessages=10, VisibilityTimeout=0
        )
    for message_id in ids:
        world.moved("orders", "orders-dlq", message_id)
    assert world.counts("orders") == (0, 0)

    report = dlqctl("inspect", "orders-dlq", "-o", "json").json()
    assert _counts(report) == {"Unknown": 3}
    _assert_complete(report, 3)
    assert report["receive_counts"]["min"] >= 3  # moto keeps the source's receive count


@pytest.mark.usefixtures("fast_moto_clock")  # 200 messages: moto's clock is the slow part
def test_inspect_200_messages(dlqctl: Runner, world: World) -> None:
    world.create("bulk-dlq")
    kinds = ["Timeout", "ValidationError", "Throttled", "Crash"]
    bodies = [json.dumps({"n": n, "kind": kinds[n % 4]}) for n in range(200)]
    world.send_many("bulk-dlq", bodies)
    rules = "\n".join(
        f'[[defaults.rules]]\nwhen = "kind == \'{kind}\'"\nerror_type = "{kind}"\n'
        for kind in kinds
    )
    (dlqctl.cwd / "dlqctl.toml").write_text(rules, encoding="utf-8")

    report = dlqctl("inspect", "bulk-dlq", "-o", "json").json()

    assert report["matched"] == 200
    _assert_complete(report, 200)
    assert _counts(report) == dict.fromkeys(kinds, 50)
    assert all(row["sources"] == ["rule"] for row in report["by_error_type"])
    # Parallel receives (4 lanes) against moto's server now and then hand the same message
    # to two lanes at once, as SQS may too: it is shown once, with the count it now has.
    histogram = report["receive_counts"]["histogram"]
    assert sum(histogram.values()) == 200 and set(histogram) <= {"1", "2"}
