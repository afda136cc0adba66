"""The Python API against moto in-process; every test checks the DLQ was left as found."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from dlqctl import Dlqctl, Settings, build_filter
from dlqctl.config import ErrorTypeRule
from dlqctl.core.idempotency import idempotency_key
from dlqctl.errors import QueueNotFoundError, UsageError
from dlqctl.pipeline import spec

from ..conftest import REGION, Pipeline, make_ledger, make_pipeline


def seed_mixed(pipeline: Pipeline) -> None:
    for i in range(6):
        pipeline.put_json({"order": i}, "Timeout")
    for i in range(3):
        pipeline.put_json({"order": 100 + i, "poison": True}, "PoisonPayloadError")
    pipeline.put("plain text, no type")


def test_inspect_counts_by_error_type_and_leaves_the_queue_alone(pipeline: Pipeline) -> None:
    seed_mixed(pipeline)
    report = Dlqctl().inspect("orders-dlq")
    assert {t.error_type: t.count for t in report.by_error_type} == {
        "Timeout": 6,
        "PoisonPayloadError": 3,
        "Unknown": 1,
    }
    assert report.by_error_type[0].sources == ["attribute"]
    assert len(report.by_error_type[0].sample_ids) == 3
    assert (report.coverage.scanned, report.coverage.complete, report.matched) == (10, True, 10)
    assert report.queue.sources == ["orders"]
    assert report.receive_counts.min == report.receive_counts.max == 1
    assert sum(b.count for b in report.age_buckets) == 10
    assert report.warnings == []
    pipeline.assert_untouched(10)


def test_inspect_with_filters_counts_only_matches(pipeline: Pipeline) -> None:
    seed_mixed(pipeline)
    report = Dlqctl().inspect(
        "orders-dlq", build_filter(exclude_error_types=["Timeout"], query="poison")
    )
    assert {t.error_type: t.count for t in report.by_error_type} == {"PoisonPayloadError": 3}
    assert report.coverage.scanned == 10 and report.matched == 3
    pipeline.assert_untouched(10)


def test_peek_limit_sort_and_filters(pipeline: Pipeline) -> None:
    seed_mixed(pipeline)
    dlq = Dlqctl()
    result = dlq.peek("orders-dlq", build_filter(error_types=["Timeout"]), limit=4)
    assert result.matched == 6 and len(result.messages) == 4
    assert all(m.error_type == "Timeout" for m in result.messages)
    ages = [m.age_s for m in result.messages]
    assert ages == sorted(ages, reverse=True)
    newest = dlq.peek("orders-dlq", limit=3, sort="newest").messages
    assert [m.age_s for m in newest] == sorted(m.age_s for m in newest)
    pipeline.assert_untouched(10)


def test_peek_streams_each_match_as_seen_and_stops_at_the_limit(pipeline: Pipeline) -> None:
    seed_mixed(pipeline)
    streamed: list[Any] = []
    result = Dlqctl().peek(
        "orders-dlq",
        build_filter(error_types=["Timeout"]),
        limit=2,
        redact=["order"],
        on_message=streamed.append,
    )
    assert len(streamed) == 2 and all(m.error_type == "Timeout" for m in streamed)
    assert all(m.body == {"order": "***REDACTED***"} for m in streamed)
    assert (result.matched, result.messages) == (2, [])
    assert result.coverage.stopped_because == "reached --limit (2)"
    assert not result.coverage.complete
    pipeline.assert_untouched(10)


def test_peek_without_bodies_and_with_redaction(pipeline: Pipeline) -> None:
    pipeline.put_json({"customer": {"email": "ann@example.com"}, "order": 1})
    dlq = Dlqctl()
    shown = dlq.peek("orders-dlq", redact=["customer.email"]).messages[0]
    assert shown.body == {"customer": {"email": "***REDACTED***"}, "order": 1}
    assert "ann@example.com" not in shown.model_dump_json()
    hidden = dlq.peek("orders-dlq", with_body=False).messages[0]
    assert hidden.body is None and hidden.body_bytes > 0
    pipeline.assert_untouched(1)


def test_empty_dlq(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLQCTL_RECEIVE_WAIT_S")  # the default long poll, once
    report = Dlqctl().inspect("orders-dlq")
    assert report.matched == 0 and report.by_error_type == [] and report.coverage.complete
    assert report.coverage.stopped_because == "end of queue"
    pipeline.assert_untouched(0)


def test_odd_bodies_binary_and_near_one_mib(pipeline: Pipeline) -> None:
    big = json.dumps({"blob": "x" * (1_048_576 - 100)})
    pipeline.put(big)
    pipeline.put("bin\x01\x02\x03")
    pipeline.put("not json {")
    result = Dlqctl().peek("orders-dlq", limit=10)
    by_encoding = {m.body_encoding: m for m in result.messages}
    assert by_encoding["json"].body_bytes == len(big)
    assert base64.b64decode(by_encoding["base64"].body) == b"bin\x01\x02\x03"
    assert by_encoding["text"].body == "not json {"
    pipeline.assert_untouched(3)


def test_queue_by_url_and_by_arn(pipeline: Pipeline) -> None:
    pipeline.put("x")
    dlq = Dlqctl()
    assert dlq.inspect(pipeline.dlq_url).matched == 1
    assert dlq.inspect(pipeline.dlq_arn).matched == 1
    pipeline.assert_untouched(1)


def test_arn_region_is_honoured(aws: None) -> None:
    west = boto3.client("sqs", region_name="eu-west-1")
    url = west.create_queue(QueueName="far-dlq")["QueueUrl"]
    west.send_message(QueueUrl=url, MessageBody="x")
    assert Dlqctl().inspect("arn:aws:sqs:eu-west-1:123456789012:far-dlq").matched == 1
    with pytest.raises(QueueNotFoundError, match="not found in region us-east-1"):
        Dlqctl().inspect("far-dlq")


def test_unknown_queue_and_malformed_reference(aws: None) -> None:
    with pytest.raises(QueueNotFoundError, match="'nope' not found in region us-east-1"):
        Dlqctl().inspect("nope")
    with pytest.raises(UsageError, match="malformed queue ARN"):
        Dlqctl().peek("arn:aws:sqs:nope")


def test_queues_lists_dlqs_deepest_first(sqs: Any) -> None:
    small, deep = make_pipeline(sqs, "small"), make_pipeline(sqs, "deep")
    small.put("a")
    for i in range(3):
        deep.put(f"b{i}")
    sqs.create_queue(QueueName="lonely")
    dlqs = Dlqctl().queues()
    assert [(q.name, q.visible, q.sources) for q in dlqs] == [
        ("deep-dlq", 3, ["deep"]),
        ("small-dlq", 1, ["small"]),
    ]
    assert {q.name for q in Dlqctl().queues(all_queues=True)} == {
        "small",
        "small-dlq",
        "deep",
        "deep-dlq",
        "lonely",
    }
    assert [q.name for q in Dlqctl().queues(all_queues=True, prefix="deep")] == ["deep-dlq", "deep"]
    [only] = Dlqctl().queues(prefix="deep-dlq")
    assert (only.name, only.sources) == ("deep-dlq", ["deep"])
    small.assert_untouched(1)


def test_fifo_dlq_warns_about_ages_and_group_blocking(sqs: Any) -> None:
    fifo = make_pipeline(sqs, "pay", fifo=True)
    for i in range(15):
        sqs.send_message(
            QueueUrl=fifo.dlq_url, MessageBody=json.dumps({"i": i}), MessageGroupId="g1"
        )
    result = Dlqctl().peek("pay-dlq.fifo", limit=50)
    assert [
        m.body["i"] for m in sorted(result.messages, key=lambda m: int(m.sequence_number or 0))
    ] == list(range(10))
    assert all(m.message_group_id == "g1" for m in result.messages)
    text = " ".join(result.warnings)
    assert "ages count from when each message entered the DLQ" in text
    assert "only the head of each group" in text
    assert not result.coverage.complete
    fifo.assert_untouched(15)


def test_dlq_with_its_own_redrive_policy_is_warned_about(sqs: Any) -> None:
    pipeline = make_pipeline(sqs)
    parking = sqs.create_queue(QueueName="parking")["QueueUrl"]
    parking_arn = sqs.get_queue_attributes(QueueUrl=parking, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sqs.set_queue_attributes(
        QueueUrl=pipeline.dlq_url,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": parking_arn, "maxReceiveCount": 5})
        },
    )
    pipeline.put("x")
    report = Dlqctl().inspect("orders-dlq")
    assert any("its own redrive policy (maxReceiveCount 5" in w for w in report.warnings)
    pipeline.assert_untouched(1)


@pytest.fixture
def ledger(aws: None) -> Any:
    return make_ledger("orders-ledger")


def put_ledger(dynamodb: Any, body: str, status: str, **extra: str) -> None:
    item = {spec.LEDGER_KEY: {"S": idempotency_key(body)}, spec.LEDGER_STATUS: {"S": status}}
    item.update({name: {"S": value} for name, value in extra.items()})
    dynamodb.put_item(TableName="orders-ledger", Item=item)


def test_ledger_and_rules_classify_what_attributes_do_not(pipeline: Pipeline, ledger: Any) -> None:
    failed, stuck, completed, ruled, unknown = (
        json.dumps({"n": i, **({"kind": "bad"} if i == 3 else {})}) for i in range(5)
    )
    put_ledger(ledger, failed, "FAILED", errorType="DownstreamError")
    long_ago = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    put_ledger(ledger, stuck, "INFLIGHT", startedAt=long_ago)
    put_ledger(ledger, completed, "COMPLETED")
    for body in (failed, stuck, completed, ruled, unknown):
        pipeline.put(body)
    settings = Settings(
        ledger_table="orders-ledger",
        rules=(ErrorTypeRule(when="kind == 'bad'", error_type="Validation"),),
    )
    messages = {m.body["n"]: m for m in Dlqctl(settings).peek("orders-dlq", limit=10).messages}
    assert (messages[0].error_type, messages[0].error_source) == ("DownstreamError", "ledger")
    assert (messages[1].error_type, messages[1].error_source) == ("Timeout", "ledger")
    assert (messages[2].error_type, messages[2].ledger_status) == ("Unknown", "COMPLETED")
    assert (messages[3].error_type, messages[3].error_source) == ("Validation", "rule")
    assert (messages[4].error_type, messages[4].error_source) == ("Unknown", "none")
    pipeline.assert_untouched(5)


def test_more_than_a_hundred_messages_are_looked_up_in_hundreds(
    pipeline: Pipeline, ledger: Any
) -> None:
    for i in range(130):
        pipeline.put(json.dumps({"n": i}))
    requests: list[int] = []
    # One lane: moto in-process is not thread-safe (explicit settings skip the env's pin).
    dlq = Dlqctl(Settings(ledger_table="orders-ledger", concurrency=1))
    dynamodb = dlq.aws.client("dynamodb")
    dynamodb.meta.events.register(
        "provide-client-params.dynamodb.BatchGetItem",
        lambda params, **_: requests.append(len(params["RequestItems"]["orders-ledger"]["Keys"])),
    )
    assert dlq.inspect("orders-dlq").matched == 130
    assert requests == [100, 30]
    pipeline.assert_untouched(130)


def test_missing_ledger_table_is_not_found(pipeline: Pipeline) -> None:
    pipeline.put("x")
    from dlqctl.errors import NotFoundError

    with pytest.raises(NotFoundError, match="ledger table missing-table not found"):
        Dlqctl(Settings(ledger_table="missing-table")).inspect("orders-dlq")
    pipeline.assert_untouched(1)


def test_region_from_aws_region_alone(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", REGION)
    pipeline.put("x")
    assert Dlqctl().inspect("orders-dlq").matched == 1


def test_local_sqs_with_a_ledger_in_aws_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9")
    with pytest.raises(UsageError, match="ledger table t would be read from AWS"):
        Dlqctl(Settings(ledger_table="t")).classifier()


def test_scans_stay_under_the_in_flight_quota(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlqctl.core import scan as scan_module
    from dlqctl.errors import RefusedError

    for i in range(8):
        pipeline.put(f"m{i}")
    monkeypatch.setattr(scan_module, "IN_FLIGHT_QUOTA", 6)  # room: 5 - in flight
    pipeline.sqs.receive_message(
        QueueUrl=pipeline.dlq_url, MaxNumberOfMessages=3, VisibilityTimeout=60
    )
    report = Dlqctl().inspect("orders-dlq")
    assert report.coverage.scanned == 2 and "scan ceiling" in report.coverage.stopped_because
    pipeline.sqs.receive_message(
        QueueUrl=pipeline.dlq_url, MaxNumberOfMessages=2, VisibilityTimeout=60
    )
    with pytest.raises(RefusedError, match="near SQS's quota"):
        Dlqctl().inspect("orders-dlq")


def test_watch_reads_depths_without_scanning(pipeline: Pipeline) -> None:
    pipeline.put("x")
    [info] = Dlqctl().watch(["orders-dlq"])
    assert (info.name, info.visible, info.in_flight) == ("orders-dlq", 1, 0)


def test_inspect_by_sample_estimates_the_whole_queue_with_intervals(pipeline: Pipeline) -> None:
    for i in range(60):
        pipeline.put_json({"order": i}, "PoisonPayloadError" if i % 3 == 2 else "Timeout")
    report = Dlqctl().inspect("orders-dlq", sample=21)
    estimate = report.estimate
    assert estimate is not None
    assert (report.coverage.scanned, estimate.sample_size, estimate.population) == (21, 21, 60)
    truth = {"Timeout": 40 / 60, "PoisonPayloadError": 20 / 60}
    assert {s.value for s in estimate.by_error_type} == set(truth)
    for share in estimate.by_error_type:
        assert share.low <= truth[share.value] <= share.high
        assert share.estimated_low <= round(truth[share.value] * 60) <= share.estimated_high
    assert any("an estimate: 21 of ~60 messages seen" in w for w in report.warnings)
    pipeline.assert_untouched(60)


def test_a_complete_look_gives_counts_not_an_estimate(pipeline: Pipeline) -> None:
    seed_mixed(pipeline)
    assert Dlqctl().inspect("orders-dlq").estimate is None
    exact = Dlqctl().inspect("orders-dlq", sample=100).estimate  # asked: the whole queue
    assert exact is not None and all(s.low == s.share == s.high for s in exact.by_error_type)
    with pytest.raises(UsageError, match="--sample must be at least 1"):
        Dlqctl().inspect("orders-dlq", sample=0)
