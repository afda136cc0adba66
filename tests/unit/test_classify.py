from datetime import UTC, datetime, timedelta
from typing import Any

from dlqctl.config import ErrorTypeRule
from dlqctl.core.classify import Classification, Classifier
from dlqctl.core.messages import Received
from dlqctl.pipeline import spec

from .helpers import received

NOW = 1_800_000_000.0


class FakeLedger:
    """Stands in for LedgerGateway: records the batches it was asked for."""

    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self.items = items
        self.requests: list[list[str]] = []

    def get_many(self, keys: Any) -> dict[str, dict[str, Any]]:
        keys = list(keys)
        self.requests.append(keys)
        return {k: self.items[k] for k in keys if k in self.items}


def iso(seconds_ago: float) -> str:
    return (datetime.fromtimestamp(NOW, UTC) - timedelta(seconds=seconds_ago)).isoformat()


def classify(
    messages: list[Received],
    ledger: FakeLedger | None = None,
    rules: list[ErrorTypeRule] | None = None,
) -> list[Classification]:
    classifier = Classifier(
        ledger=ledger, rules=rules or [], worker_timeout_s=30, clock=lambda: NOW
    )  # type: ignore[arg-type]
    return classifier.classify(messages)


def test_attribute_wins_over_ledger_and_rules() -> None:
    m = received({"kind": "poison"}, error_type="DownstreamError")
    ledger = FakeLedger({m.key: {spec.LEDGER_STATUS: "FAILED", spec.LEDGER_ERROR_TYPE: "Other"}})
    rules = [ErrorTypeRule(when="kind == 'poison'", error_type="Poison")]
    assert classify([m], ledger, rules) == [
        Classification("DownstreamError", "attribute", "FAILED")
    ]


def test_ledger_failed_item_names_the_type() -> None:
    m = received({"order": 1})
    ledger = FakeLedger(
        {m.key: {spec.LEDGER_STATUS: "FAILED", spec.LEDGER_ERROR_TYPE: "PoisonPayloadError"}}
    )
    assert classify([m], ledger) == [Classification("PoisonPayloadError", "ledger", "FAILED")]


def test_inflight_past_the_worker_timeout_reads_as_timeout() -> None:
    stuck, running = received({"n": 1}), received({"n": 2})
    ledger = FakeLedger(
        {
            stuck.key: {spec.LEDGER_STATUS: "INFLIGHT", spec.LEDGER_STARTED_AT: iso(31)},
            running.key: {spec.LEDGER_STATUS: "INFLIGHT", spec.LEDGER_STARTED_AT: iso(5)},
        }
    )
    assert classify([stuck, running], ledger) == [
        Classification("Timeout", "ledger", "INFLIGHT"),
        Classification("Unknown", "none", "INFLIGHT"),
    ]


def test_expired_ledger_items_are_ignored() -> None:
    m = received({"n": 3})
    ledger = FakeLedger(
        {
            m.key: {
                spec.LEDGER_STATUS: "FAILED",
                spec.LEDGER_ERROR_TYPE: "Old",
                spec.LEDGER_EXPIRES_AT: int(NOW) - 1,
            }
        }
    )
    assert classify([m], ledger) == [Classification("Unknown", "none", None)]


def test_completed_item_keeps_its_status_for_later_predictions() -> None:
    m = received({"n": 4})
    ledger = FakeLedger({m.key: {spec.LEDGER_STATUS: "COMPLETED"}})
    assert classify([m], ledger) == [Classification("Unknown", "none", "COMPLETED")]


def test_rules_apply_in_order_to_json_bodies() -> None:
    rules = [
        ErrorTypeRule(when="error.code == 'E42'", error_type="Validation"),
        ErrorTypeRule(when="error", error_type="Generic"),
    ]
    a, b, c, d = (
        received({"error": {"code": "E42"}}),
        received({"error": {"code": "X"}}),
        received({"ok": 1}),
        received("plain text"),
    )
    assert [x.error_type for x in classify([a, b, c, d], rules=rules)] == [
        "Validation",
        "Generic",
        "Unknown",
        "Unknown",
    ]
    assert classify([a], rules=rules)[0].source == "rule"


def test_a_rule_that_cannot_be_evaluated_does_not_match_and_says_why() -> None:
    rules = [
        ErrorTypeRule(when="order.total > `100`", error_type="BigOrder"),
        ErrorTypeRule(when="order.currency == 'XXX'", error_type="BadCurrency"),
    ]
    odd, next_rule, fine = (
        received({"order": {"total": "150"}}),
        received({"order": {"total": "150", "currency": "XXX"}}),
        received({"order": {"total": 150}}),
    )
    found = classify([odd, next_rule, fine], rules=rules)
    assert found[0] == Classification(
        "Unknown", "none", None, "rule 'order.total > `100`': '>' compares a string with a number"
    )
    assert (found[1].error_type, found[1].unevaluated) == ("BadCurrency", None)
    assert (found[2].error_type, found[2].unevaluated) == ("BigOrder", None)


def test_ledger_is_read_once_per_batch() -> None:
    messages = [received({"n": i}) for i in range(5)]
    ledger = FakeLedger({})
    classify(messages, ledger)
    assert len(ledger.requests) == 1 and len(ledger.requests[0]) == 5
