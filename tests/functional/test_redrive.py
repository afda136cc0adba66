"""Redrive against moto: exactly the selected messages move, intact; nothing is lost."""

import base64
import json
from typing import Any

import pytest

from dlqctl import Dlqctl, RedriveReport, build_filter
from dlqctl.core.copy import REDRIVE_COUNT_ATTRIBUTE
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.core.outcome import exit_code
from dlqctl.errors import ExitCode, RefusedError, UsageError

from ..conftest import Pipeline, make_pipeline


def no_sleep(seconds: float) -> None:
    pass


def dlq(**kwargs: Any) -> Dlqctl:
    return Dlqctl(sleep=no_sleep, **kwargs)


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message in a queue, consumed: only for assertions at the end of a test."""
    found: dict[str, dict[str, Any]] = {}
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            VisibilityTimeout=300,
        ).get("Messages", [])
        if not batch:
            return list(found.values())
        found.update({m["MessageId"]: m for m in batch})
        # Deleting unblocks the next messages of a FIFO group.
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
            ],
        )


def seed(pipeline: Pipeline) -> None:
    for i in range(12):
        pipeline.put_json({"order": i}, "Timeout")
    for i in range(4):
        pipeline.put_json({"order": 100 + i}, "PoisonPayloadError")


def test_moves_exactly_the_selected_messages(pipeline: Pipeline, tmp_path: Any) -> None:
    seed(pipeline)
    report = dlq().redrive(
        "orders-dlq",
        build_filter(error_types=["Timeout"]),
        RedriveOptions(),
        journal=tmp_path / "j.jsonl",
    )
    assert (
        report.selected,
        report.sent,
        report.deleted,
        report.failed,
        report.possible_duplicates,
    ) == (12, 12, 12, [], 0)
    assert exit_code(report) is ExitCode.OK
    moved = drain(pipeline.sqs, pipeline.source_url)
    assert sorted(json.loads(m["Body"])["order"] for m in moved) == list(range(12))
    assert all(m["MessageAttributes"]["ErrorType"]["StringValue"] == "Timeout" for m in moved)
    left = drain(pipeline.sqs, pipeline.dlq_url)
    assert sorted(json.loads(m["Body"])["order"] for m in left) == [100, 101, 102, 103]


def test_body_and_every_attribute_kind_survive_byte_for_byte(pipeline: Pipeline) -> None:
    body = '{ "keep":  "this\\u00e9 spacing",\n"x": 1 }'
    pipeline.sqs.send_message(
        QueueUrl=pipeline.dlq_url,
        MessageBody=body,
        MessageAttributes={
            "ErrorType": {"DataType": "String", "StringValue": "Timeout"},
            "count": {"DataType": "Number", "StringValue": "42.5"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff\x10"},
            "tenant": {"DataType": "String.tenant", "StringValue": "acme"},
        },
        MessageSystemAttributes={
            "AWSTraceHeader": {
                "DataType": "String",
                "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793",
            }
        },
    )
    client = Dlqctl().aws.client("sqs")
    sent: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **_: sent.extend(params["Entries"]),
    )
    Dlqctl(clients={"sqs": client}).redrive(
        "orders-dlq", build_filter(error_types=["Timeout"]), RedriveOptions()
    )
    [moved] = drain(pipeline.sqs, pipeline.source_url)
    assert moved["Body"] == body
    attributes = moved["MessageAttributes"]
    assert attributes["count"] == {"DataType": "Number", "StringValue": "42.5"}
    assert attributes["blob"]["BinaryValue"] == b"\x00\xff\x10"
    assert attributes["tenant"] == {"DataType": "String.tenant", "StringValue": "acme"}
    assert attributes[REDRIVE_COUNT_ATTRIBUTE] == {"DataType": "Number", "StringValue": "1"}
    # moto's SendMessageBatch drops system attributes, so check what dlqctl sent.
    assert sent[0]["MessageSystemAttributes"] == {
        "AWSTraceHeader": {
            "DataType": "String",
            "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793",
        }
    }


def test_dry_run_changes_nothing_and_shows_the_plan(pipeline: Pipeline, tmp_path: Any) -> None:
    seed(pipeline)
    journal = tmp_path / "journal.jsonl"
    plan = dlq().redrive(
        "orders-dlq",
        build_filter(error_types=["Timeout"]),
        RedriveOptions(dry_run=True, jitter_s=60),
        journal=journal,
    )
    assert plan.dry_run and plan.sent == 0 and len(plan.planned) == 12
    assert all(0 <= p.delay_s <= 60 for p in plan.planned)
    assert {p.target for p in plan.planned} == {plan.target} and plan.target.endswith(":orders")
    pipeline.assert_untouched(16)
    assert pipeline.counts(pipeline.source_url) == (0, 0)
    assert not journal.exists()


def test_max_messages_caps_the_run_and_releases_the_rest(pipeline: Pipeline) -> None:
    seed(pipeline)
    report = dlq().redrive(
        "orders-dlq", build_filter(error_types=["Timeout"]), RedriveOptions(max_messages=5)
    )
    assert (report.selected, report.deleted) == (5, 5)
    assert "reached --max-messages (5)" in report.coverage.stopped_because
    assert pipeline.counts() == (11, 0)
    assert pipeline.counts(pipeline.source_url) == (5, 0)


def test_jitter_delays_each_message(pipeline: Pipeline, tmp_path: Any) -> None:
    seed(pipeline)
    from dlqctl.core.journal import read_journal

    journal = tmp_path / "j.jsonl"
    plan = dlq().redrive(
        "orders-dlq",
        build_filter(error_types=["PoisonPayloadError"]),
        RedriveOptions(jitter_s=600, dry_run=True),
    )
    assert all(0 <= p.delay_s <= 600 for p in plan.planned) and len(plan.planned) == 4
    report = dlq().redrive(
        "orders-dlq",
        build_filter(error_types=["PoisonPayloadError"]),
        RedriveOptions(jitter_s=600),
        journal=journal,
    )
    assert report.deleted == 4
    delayed = int(
        pipeline.sqs.get_queue_attributes(
            QueueUrl=pipeline.source_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
        )["Attributes"]["ApproximateNumberOfMessagesDelayed"]
    )
    sent = [s for r in read_journal(journal) if r["kind"] == "batch" for s in r["sent"]]
    assert len(sent) == 4 and all(0 <= s["delay_s"] <= 600 for s in sent)
    assert delayed == sum(1 for s in sent if s["delay_s"] > 0)


def test_explicit_target(pipeline: Pipeline) -> None:
    other = pipeline.sqs.create_queue(QueueName="parking")["QueueUrl"]
    seed(pipeline)
    report = dlq().redrive(
        "orders-dlq", build_filter(error_types=["PoisonPayloadError"]), RedriveOptions(to="parking")
    )
    assert report.target.endswith(":parking")
    assert len(drain(pipeline.sqs, other)) == 4
    assert pipeline.counts(pipeline.source_url) == (0, 0)


def test_message_source_arn_wins_over_the_single_source(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto does not set DeadLetterQueueSourceArn (design §6): add it as SQS would."""
    from dlqctl.aws.sqs import SqsGateway

    other = make_pipeline(pipeline.sqs, "billing")
    other_arn = pipeline.sqs.get_queue_attributes(
        QueueUrl=other.source_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    real = SqsGateway.receive

    def with_source(self: SqsGateway, *args: Any, **kwargs: Any) -> Any:
        messages = real(self, *args, **kwargs)
        for m in messages:
            m["Attributes"]["DeadLetterQueueSourceArn"] = other_arn
        return messages

    monkeypatch.setattr(SqsGateway, "receive", with_source)
    seed(pipeline)
    report = dlq().redrive(
        "orders-dlq", build_filter(error_types=["PoisonPayloadError"]), RedriveOptions()
    )
    assert report.target == other_arn
    assert len(drain(pipeline.sqs, other.source_url)) == 4


def test_ambiguous_target_is_refused_with_the_candidates(pipeline: Pipeline) -> None:
    import json as j

    pipeline.sqs.create_queue(
        QueueName="second",
        Attributes={
            "RedrivePolicy": j.dumps(
                {"deadLetterTargetArn": pipeline.dlq_arn, "maxReceiveCount": 3}
            )
        },
    )
    seed(pipeline)
    with pytest.raises(RefusedError, match=r"it is the DLQ of orders, second .* pass --to QUEUE"):
        dlq().redrive(
            "orders-dlq", build_filter(error_types=["Timeout"]), RedriveOptions(dry_run=True)
        )
    pipeline.assert_untouched(16)


def test_no_source_is_refused(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="orphan-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(RefusedError, match="no queue names it as its DLQ"):
        dlq().redrive("orphan-dlq", options=RedriveOptions(select_all=True))
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "1"
    )


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (RedriveOptions(), RefusedError, "refusing to redrive without a filter"),
        (RedriveOptions(select_all=True, max_messages=1001), RefusedError, "add --force"),
        (
            RedriveOptions(select_all=True, batch_size=11),
            UsageError,
            "--batch-size must be 1 to 10",
        ),
        (RedriveOptions(select_all=True, jitter_s=901), UsageError, "--jitter must be between"),
        (RedriveOptions(select_all=True, rate=0), UsageError, "--rate must be a positive"),
        (RedriveOptions(select_all=True, canary=100), UsageError, "--canary 100 must be smaller"),
        (RedriveOptions(to="orders-dlq", select_all=True), RefusedError, "is the DLQ itself"),
    ],
)
def test_guardrails(pipeline: Pipeline, options: RedriveOptions, error: type, message: str) -> None:
    seed(pipeline)
    with pytest.raises(error, match=message):
        dlq().redrive("orders-dlq", None, options)
    pipeline.assert_untouched(16)


def test_force_allows_large_runs(pipeline: Pipeline) -> None:
    seed(pipeline)
    report = dlq().redrive(
        "orders-dlq",
        None,
        RedriveOptions(select_all=True, max_messages=5000, force=True, dry_run=True),
    )
    assert len(report.planned) == 16


def test_fifo_target_mismatch_is_refused(pipeline: Pipeline) -> None:
    pipeline.sqs.create_queue(QueueName="ordered.fifo", Attributes={"FifoQueue": "true"})
    seed(pipeline)
    with pytest.raises(RefusedError, match=r"orders-dlq is standard but ordered\.fifo is FIFO"):
        dlq().redrive(
            "orders-dlq", build_filter(error_types=["Timeout"]), RedriveOptions(to="ordered.fifo")
        )
    pipeline.assert_untouched(16)


def test_redrive_allow_policy_is_honoured_where_reported(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto neither returns nor enforces RedriveAllowPolicy (design §6): report one."""
    from dlqctl.aws.sqs import SqsGateway

    real = SqsGateway.attributes

    def with_policy(self: SqsGateway, url: str) -> dict[str, str]:
        attributes = real(self, url)
        if url.endswith("orders-dlq"):
            attributes["RedriveAllowPolicy"] = json.dumps(
                {
                    "redrivePermission": "byQueue",
                    "sourceQueueArns": [pipeline.dlq_arn.replace("orders-dlq", "orders")],
                }
            )
        return attributes

    monkeypatch.setattr(SqsGateway, "attributes", with_policy)
    pipeline.sqs.create_queue(QueueName="elsewhere")
    seed(pipeline)
    assert (
        dlq()
        .redrive("orders-dlq", build_filter(error_types=["Timeout"]), RedriveOptions(dry_run=True))
        .target.endswith(":orders")
    )
    with pytest.raises(RefusedError, match="RedriveAllowPolicy does not list elsewhere"):
        dlq().redrive(
            "orders-dlq", build_filter(error_types=["Timeout"]), RedriveOptions(to="elsewhere")
        )
    pipeline.assert_untouched(16)


def test_messages_too_big_for_the_target_stay(pipeline: Pipeline) -> None:
    small = pipeline.sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})[
        "QueueUrl"
    ]
    pipeline.put("x" * 2000, "Timeout")
    pipeline.put("fits", "Timeout")
    report = dlq().redrive(
        "orders-dlq", build_filter(error_types=["Timeout"]), RedriveOptions(to="small")
    )
    assert report.deleted == 1
    [refused] = report.failed
    assert (
        refused.stage == "refused" and "exceed small's MaximumMessageSize (1024)" in refused.reason
    )
    assert exit_code(report) is ExitCode.PARTIAL
    assert [m["Body"] for m in drain(pipeline.sqs, small)] == ["fits"]
    assert pipeline.counts() == (1, 0)


def test_max_redrives_refuses_messages_redriven_too_often(pipeline: Pipeline) -> None:
    pipeline.put_json({"n": 1}, "Timeout")
    options = RedriveOptions(max_redrives=2, select_all=True)
    for _ in range(2):
        assert dlq().redrive("orders-dlq", None, options).deleted == 1
        [m] = drain(pipeline.sqs, pipeline.source_url)
        pipeline.sqs.send_message(
            QueueUrl=pipeline.dlq_url,
            MessageBody=m["Body"],
            MessageAttributes=m["MessageAttributes"],
        )
        pipeline.sqs.delete_message(QueueUrl=pipeline.source_url, ReceiptHandle=m["ReceiptHandle"])
    with pytest.raises(
        RefusedError,
        match=r"all 1 selected messages were refused, .*already redriven 2 times \(--max-redrives 2\)",
    ):
        dlq().redrive("orders-dlq", None, options)
    assert pipeline.counts() == (1, 0)


def test_large_bodies_are_split_into_batches_under_the_payload_limit(pipeline: Pipeline) -> None:
    for i in range(4):
        pipeline.put(json.dumps({"i": i, "pad": "x" * 400_000}), "Timeout")
    calls: list[int] = []
    client = Dlqctl().aws.client("sqs")
    client.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **_: calls.append(len(params["Entries"])),
    )
    report = Dlqctl(clients={"sqs": client}, sleep=no_sleep).redrive(
        "orders-dlq", None, RedriveOptions(select_all=True)
    )
    assert report.deleted == 4
    assert calls == [2, 2]


def test_binary_body_round_trips(pipeline: Pipeline) -> None:
    pipeline.put("bin\x01\x02\x7f", "Timeout")
    dlq().redrive("orders-dlq", None, RedriveOptions(select_all=True))
    [moved] = drain(pipeline.sqs, pipeline.source_url)
    assert moved["Body"] == "bin\x01\x02\x7f"
    assert base64.b64encode(moved["Body"].encode()).decode()


def test_fifo_keeps_groups_order_and_deduplication(sqs: Any) -> None:
    fifo = make_pipeline(sqs, "pay", fifo=True)
    for i in range(8):
        sqs.send_message(
            QueueUrl=fifo.dlq_url, MessageBody=json.dumps({"i": i}), MessageGroupId=f"g{i % 2}"
        )
    report = dlq().redrive("pay-dlq.fifo", None, RedriveOptions(select_all=True))
    assert report.deleted == 8
    moved = drain(sqs, fifo.source_url)
    by_group: dict[str, list[int]] = {}
    for m in moved:  # in the order the target hands them out
        by_group.setdefault(m["Attributes"]["MessageGroupId"], []).append(
            json.loads(m["Body"])["i"]
        )
    assert by_group == {"g0": [0, 2, 4, 6], "g1": [1, 3, 5, 7]}
    assert all(
        m["Attributes"]["MessageDeduplicationId"].startswith(f"dlqctl-{report.run_id}-")
        for m in moved
    )


def test_journal_records_every_batch_privately(pipeline: Pipeline, tmp_path: Any) -> None:
    from dlqctl.core.journal import read_journal, recent_runs

    seed(pipeline)
    journal = tmp_path / "state" / "journal.jsonl"
    report = dlq().redrive(
        "orders-dlq",
        build_filter(error_types=["Timeout"]),
        RedriveOptions(batch_size=5),
        journal=journal,
    )
    assert journal.stat().st_mode & 0o777 == 0o600
    records = list(read_journal(journal))
    kinds = [r["kind"] for r in records]
    assert (kinds[0], kinds[-1], kinds.count("sending"), kinds.count("batch")) == (
        "start",
        "end",
        3,
        3,
    )
    moved = [m for r in records if r["kind"] == "batch" for m in r["deleted"]]
    copies = [s["new_message_id"] for r in records if r["kind"] == "batch" for s in r["sent"]]
    assert len(moved) == len(set(moved)) == report.deleted == 12
    left = {m["MessageId"] for m in drain(pipeline.sqs, pipeline.dlq_url)}
    assert len(left) == 4 and not left & set(moved)
    assert sorted(copies) == sorted(
        m["MessageId"] for m in drain(pipeline.sqs, pipeline.source_url)
    )
    assert all(
        len(s["body_sha256"]) == 64 for r in records if r["kind"] == "batch" for s in r["sent"]
    )
    assert records[0]["filters"]["error_types"] == ["Timeout"]
    [run], unreadable = recent_runs(journal, 10)
    assert unreadable == 0
    assert (run["run_id"], run["moved"], run["outcome"]) == (report.run_id, 12, "complete")


def test_a_streamed_plan_keeps_only_its_aggregates(pipeline: Pipeline) -> None:
    seed(pipeline)
    streamed: list[Any] = []
    plan = dlq().redrive(
        "orders-dlq",
        build_filter(error_types=["Timeout"]),
        RedriveOptions(dry_run=True, max_messages=10),
        on_planned=streamed.append,
    )
    assert len(streamed) == 10 and plan.planned == []
    assert plan.summary is not None and plan.summary.by_error_type == {"Timeout": 10}
    assert plan.selected == 10 and sum(b.count for b in plan.summary.by_age) == 10
    pipeline.assert_untouched(16)


def test_max_messages_zero_is_a_usage_error_not_a_default(pipeline: Pipeline) -> None:
    seed(pipeline)
    with pytest.raises(UsageError, match="--max-messages must be at least 1"):
        dlq().redrive("orders-dlq", None, RedriveOptions(select_all=True, max_messages=0))
    with pytest.raises(UsageError, match="--max-messages must be at least 1"):
        dlq().purge("orders-dlq", None, select_all=True, max_messages=0)
    pipeline.assert_untouched(16)


def test_a_standard_queues_message_group_is_kept(pipeline: Pipeline) -> None:
    pipeline.sqs.send_message(
        QueueUrl=pipeline.dlq_url, MessageBody="tenant-a", MessageGroupId="tenant-a"
    )
    report = dlq().redrive("orders-dlq", None, RedriveOptions(select_all=True))
    assert report.deleted == 1
    [copy] = drain(pipeline.sqs, pipeline.source_url)
    assert copy["Attributes"].get("MessageGroupId") == "tenant-a"


def test_the_counter_is_dropped_where_it_would_not_fit(pipeline: Pipeline) -> None:
    small = pipeline.sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})[
        "QueueUrl"
    ]
    body = "x" * 1024  # exactly the target's limit: the counter would push it over
    pipeline.sqs.send_message(QueueUrl=pipeline.dlq_url, MessageBody=body)
    report = dlq().redrive("orders-dlq", None, RedriveOptions(select_all=True, to="small"))
    assert (report.deleted, report.failed) == (1, [])
    assert any("without dlqctl's redrive counter" in w for w in report.warnings)
    [copy] = drain(pipeline.sqs, small)
    assert copy["Body"] == body and REDRIVE_COUNT_ATTRIBUTE not in copy.get("MessageAttributes", {})


def test_a_confirmed_redrive_moves_no_more_than_the_plan_showed(pipeline: Pipeline) -> None:
    for i in range(3):
        pipeline.put_json({"order": i}, "Timeout")

    def confirm(plan: RedriveReport) -> bool:
        for i in range(4):  # more arrive while the person reads the plan
            pipeline.put_json({"late": i}, "Timeout")
        return plan.selected == 3

    report = Dlqctl(sleep=lambda s: None).redrive(
        "orders-dlq", build_filter(error_types=["Timeout"]), RedriveOptions(), confirm=confirm
    )
    assert (report.selected, report.deleted) == (3, 3)
    assert report.stopped_because == "reached --max-messages (3)"
    assert pipeline.counts() == (4, 0)
