"""`dlqctl peek`: the messages themselves, without consuming them."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from .conftest import (
    BIG_BODY_BYTES,
    CONTROL_BODY,
    ORDERS_DLQ_SEED,
    TEXT_BODY,
    Runner,
    World,
    cli_surface,
    start_dlqctl,
)

pytestmark = pytest.mark.e2e

MASK = "***REDACTED***"


def _by_id(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["message_id"]: m for m in messages}


def _original(message: dict[str, Any], world: World) -> str:
    return world.expected["orders-dlq"][message["message_id"]]


def test_peek_ndjson_shows_every_kind_of_body(dlqctl: Runner, orders: World) -> None:
    result = dlqctl("peek", "orders-dlq", "-n", "20", "-o", "ndjson")
    messages = _by_id(result.ndjson())
    assert messages.keys() == orders.expected["orders-dlq"].keys()
    assert result.stderr.strip() == "scanned 9 of ~9; 9 matched (reached approximate depth)"

    for message in messages.values():
        original = _original(message, orders)
        assert message["body_sha256"] == hashlib.sha256(original.encode()).hexdigest()
        assert message["body_bytes"] == len(original.encode())
        assert message["receive_count"] == 1
        if original == TEXT_BODY:
            assert (message["body_encoding"], message["body"]) == ("text", TEXT_BODY)
        elif original == CONTROL_BODY:
            assert message["body_encoding"] == "base64"
            assert base64.b64decode(message["body"]) == CONTROL_BODY.encode()
        elif len(original) == BIG_BODY_BYTES:
            assert message["body_bytes"] == BIG_BODY_BYTES
            assert message["body"] == original
            assert message["error_type"] == "PayloadTooLarge"
        else:
            assert message["body_encoding"] == "json"
            assert message["body"] == json.loads(original)


def test_peek_json_error_type_comes_from_the_attribute(dlqctl: Runner, orders: World) -> None:
    document = dlqctl("peek", "orders-dlq", "-o", "json").json()
    seeded = {body: error_type for body, error_type in ORDERS_DLQ_SEED}
    for message in document["messages"]:
        expected = seeded[_original(message, orders)]
        if expected is None:
            assert (message["error_type"], message["error_source"]) == ("Unknown", "none")
            assert message["attributes"] == {}
        else:
            assert (message["error_type"], message["error_source"]) == (expected, "attribute")
            assert message["attributes"] == {
                "ErrorType": {"data_type": "String", "value": expected}
            }


@cli_surface("the look itself: test_peek_ndjson_shows_every_kind_of_body")
def test_peek_json_limit(dlqctl: Runner, orders: World) -> None:
    document = dlqctl("peek", "orders-dlq", "--limit", "3", "-o", "json").json()
    assert len(document["messages"]) == 3
    assert document["matched"] == 9
    assert document["coverage"]["scanned"] == 9
    assert document["coverage"]["complete"] is True
    assert set(_by_id(document["messages"])) <= set(orders.expected["orders-dlq"])


@cli_surface("the look itself: test_peek_ndjson_shows_every_kind_of_body")
def test_peek_ndjson_limit_zero_prints_nothing(dlqctl: Runner, orders: World) -> None:
    result = dlqctl("peek", "orders-dlq", "-n", "0", "-o", "ndjson")
    assert result.ndjson() == []
    assert result.stderr.strip() == "scanned 9 of ~9; 9 matched (reached approximate depth)"


@cli_surface("receives sized to a cap: test_streaming's --max-messages 1")
def test_peek_ndjson_stops_at_the_limit_and_says_so(dlqctl: Runner, orders: World) -> None:
    result = dlqctl("peek", "orders-dlq", "-n", "3", "-o", "ndjson")
    assert len(result.ndjson()) == 3
    assert result.stderr.splitlines() == [
        "warning: partial view: scanned 3 of ~9 messages (stopped: reached --limit (3))",
        "scanned 3 of ~9; 3 matched (reached --limit (3))",
    ]


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
@cli_surface("a filter over the receives test_peek_json_error_type_comes_from_the_attribute pins")
def test_peek_error_type_filter(dlqctl: Runner, orders: World, fmt: str) -> None:
    result = dlqctl("peek", "orders-dlq", "--error-type", "ValidationError", "-o", fmt)
    messages = result.json()["messages"] if fmt == "json" else result.ndjson()
    assert len(messages) == 3
    assert {m["error_type"] for m in messages} == {"ValidationError"}
    assert {m["body"]["order_id"] for m in messages} == {"o-1", "o-2", "o-3"}


@cli_surface("a filter over the receives test_peek_json_error_type_comes_from_the_attribute pins")
def test_peek_exclude_error_type(dlqctl: Runner, orders: World) -> None:
    messages = dlqctl(
        "peek", "orders-dlq", "--exclude-error-type", "Unknown", "-o", "ndjson"
    ).ndjson()
    assert len(messages) == 6
    assert "Unknown" not in {m["error_type"] for m in messages}


@cli_surface("a filter over the bodies test_peek_ndjson_shows_every_kind_of_body pins")
def test_peek_query_over_json_body(dlqctl: Runner, orders: World) -> None:
    messages = dlqctl("peek", "orders-dlq", "--query", "total > `30`", "-o", "ndjson").ndjson()
    assert sorted(m["body"]["order_id"] for m in messages) == ["o-4", "o-5", "o-6"]


@cli_surface("rendering the bodies test_peek_ndjson_shows_every_kind_of_body pins")
def test_peek_redact_masks_a_field(dlqctl: Runner, orders: World) -> None:
    messages = dlqctl(
        "peek", "orders-dlq", "--redact", "customer.email", "--error-type", "Timeout", "-o", "json"
    ).json()["messages"]
    assert len(messages) == 2
    for message in messages:
        original = json.loads(_original(message, orders))
        assert message["body"]["customer"] == {"email": MASK, "tier": "gold"}
        assert message["body"]["order_id"] == original["order_id"]
        assert message["body"]["total"] == original["total"]
        assert "@example.com" not in json.dumps(message)
        # The fingerprint is of the real body, not the masked one.
        assert message["body_sha256"] == hashlib.sha256(json.dumps(original).encode()).hexdigest()


@cli_surface("rendering the bodies test_peek_ndjson_shows_every_kind_of_body pins")
def test_peek_redact_ndjson_leaves_non_json_bodies(dlqctl: Runner, orders: World) -> None:
    messages = dlqctl("peek", "orders-dlq", "--redact", "customer.email", "-o", "ndjson").ndjson()
    assert len(messages) == 9
    assert not any("@example.com" in json.dumps(m) for m in messages)
    text = [m["body"] for m in messages if m["body_encoding"] == "text"]
    assert sorted(text, key=len) == [TEXT_BODY, "x" * BIG_BODY_BYTES]


@cli_surface("rendering the bodies test_peek_ndjson_shows_every_kind_of_body pins")
def test_peek_no_body(dlqctl: Runner, orders: World) -> None:
    messages = dlqctl("peek", "orders-dlq", "--no-body", "-o", "ndjson").ndjson()
    assert len(messages) == 9
    for message in messages:
        original = _original(message, orders)
        assert message["body"] is None
        assert message["body_sha256"] == hashlib.sha256(original.encode()).hexdigest()
        assert message["body_bytes"] == len(original.encode())


def test_peek_fifo_keeps_group_and_sequence(dlqctl: Runner, orders: World) -> None:
    messages = dlqctl("peek", "x-dlq.fifo", "-o", "ndjson").ndjson()
    assert len(messages) == 5
    groups = {m["body"]["seq"]: m["message_group_id"] for m in messages}
    assert groups == {0: "g0", 1: "g1", 2: "g0", 3: "g1", 4: "g0"}
    assert all(m["sequence_number"] and m["deduplication_id"] for m in messages)


@pytest.mark.parametrize("sort", ["oldest", "newest"])
def test_peek_sorts_by_send_time(dlqctl: Runner, world: World, sort: str) -> None:
    world.create("sorted-dlq")
    batches = [  # separate SendMessageBatch calls: each batch is sent after the one before
        world.send_many("sorted-dlq", [json.dumps({"batch": b, "n": n}) for n in range(10)])
        for b in range(4)
    ]
    messages = dlqctl("peek", "sorted-dlq", "-n", "5", "--sort", sort, "-o", "json").json()[
        "messages"
    ]
    stamps = [m["sent_at"] for m in messages]
    assert stamps == sorted(stamps, reverse=sort == "newest")
    edge = batches[0] if sort == "oldest" else batches[-1]
    assert {m["message_id"] for m in messages} <= set(edge)


@cli_surface("a closed pipe; holds released on both: every test's world check")
def test_a_reader_that_leaves_early_is_not_an_error(dlqctl: Runner, orders: World) -> None:
    """`dlqctl peek -o ndjson | head -1`: the pipe closes before dlqctl writes."""
    run = start_dlqctl(dlqctl, "peek", "orders-dlq", "-o", "ndjson")
    assert run.proc.stdout is not None
    run.proc.stdout.close()  # the reader is gone before the first line
    assert run.proc.wait(timeout=60) == 0
    assert run.proc.stderr is not None
    stderr = run.proc.stderr.read()
    assert "BrokenPipe" not in stderr and "Traceback" not in stderr, stderr
    assert orders.counts("orders-dlq") == (len(ORDERS_DLQ_SEED), 0)  # released, untouched
