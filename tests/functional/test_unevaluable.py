"""One body a --query or config rule cannot be evaluated on: it does not match, every
result counts it (a warning line and coverage.unevaluated), and nothing crashes."""

import json

from dlqctl import Dlqctl, build_filter
from dlqctl.config import ErrorTypeRule, Settings
from dlqctl.core.guardrails import RedriveOptions

from ..conftest import Pipeline, invoke
from .test_redrive import drain

QUERY = "order.total > `100`"


def seed(pipeline: Pipeline) -> dict[str, str]:
    return {
        "big": pipeline.put(json.dumps({"order": {"total": 150}}), "Timeout"),
        "small": pipeline.put(json.dumps({"order": {"total": 50}}), "Timeout"),
        "odd": pipeline.put(json.dumps({"order": {"total": "150"}}), "Timeout"),
        "text": pipeline.put("not json at all", "Timeout"),
    }


def test_every_look_counts_what_it_could_not_evaluate(pipeline: Pipeline) -> None:
    ids = seed(pipeline)
    api, query = Dlqctl(), build_filter(query=QUERY)
    peeked = api.peek("orders-dlq", query)
    assert [m.message_id for m in peeked.messages] == [ids["big"]]
    inspected = api.inspect("orders-dlq", query)
    for result in (peeked, inspected):
        assert result.coverage.unevaluated == 2
        assert result.coverage.unevaluated_because == {
            "--query: '>' compares a string with a number": 1,
            "--query: the body is not JSON": 1,
        }
        assert any("2 messages could not be evaluated" in w for w in result.warnings)
    assert pipeline.counts() == (4, 0)


def test_a_redrive_moves_what_matched_and_reports_the_rest(pipeline: Pipeline) -> None:
    ids = seed(pipeline)
    report = Dlqctl(sleep=lambda s: None).redrive(
        "orders-dlq", build_filter(query=QUERY), RedriveOptions()
    )
    assert (report.selected, report.deleted, report.coverage.unevaluated) == (1, 1, 2)
    moved = [m["MessageId"] for m in drain(pipeline.sqs, pipeline.source_url)]
    assert len(moved) == 1
    left = {m["MessageId"] for m in drain(pipeline.sqs, pipeline.dlq_url)}
    assert left == {ids["small"], ids["odd"], ids["text"]}


def test_the_cli_says_it_in_one_warning_line_and_in_json(pipeline: Pipeline) -> None:
    seed(pipeline)
    result = invoke("inspect", "orders-dlq", "--query", QUERY, "-o", "json")
    report = json.loads(result.stdout)
    assert report["coverage"]["unevaluated"] == 2
    shown = invoke("redrive", "orders-dlq", "--query", QUERY, "--dry-run")
    warning = [line for line in shown.output.splitlines() if "could not be evaluated" in line]
    assert len(warning) == 1, shown.output
    assert pipeline.counts() == (4, 0)


def test_a_config_rule_that_cannot_compare_leaves_the_type_unknown(pipeline: Pipeline) -> None:
    big = pipeline.put(json.dumps({"order": {"total": 150}}))
    odd = pipeline.put(json.dumps({"order": {"total": "150"}}))
    rule = ErrorTypeRule(when=QUERY, error_type="BigOrder")
    api = Dlqctl(Settings(rules=(rule,), concurrency=1))
    report = api.peek("orders-dlq")
    assert {m.message_id: m.error_type for m in report.messages} == {
        big: "BigOrder",
        odd: "Unknown",
    }
    assert report.coverage.unevaluated_because == {
        f"rule {QUERY!r}: '>' compares a string with a number": 1
    }
