"""Each DLQ kind is recognised from the traces AWS documents, typed by its own error
data, and its original target named; the config's override decides when told to."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlqctl.config import ErrorTypeRule
from dlqctl.core.classify import Classifier
from dlqctl.core.filters import KINDS
from dlqctl.core.kinds import DROPPED_PAYLOAD, STREAM_RECORD, TRUNCATED_PAYLOAD, KindOverride, read
from dlqctl.core.messages import Received, receive

from . import kind_fixtures as aws

QUEUE = f"arn:aws:sqs:{aws.REGION}:{aws.ACCOUNT}:billing"
TOPIC = f"arn:aws:sns:{aws.REGION}:{aws.ACCOUNT}:orders"
MACHINE = f"arn:aws:states:{aws.REGION}:{aws.ACCOUNT}:stateMachine:billing"


def as_received(entry: dict[str, Any], system: dict[str, str] | None = None) -> Received:
    """A send entry as a receive would hand it back."""
    raw = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh-1",
        "Body": entry["MessageBody"],
        "Attributes": {"SentTimestamp": str(int(time.time() * 1000)), **(system or {})},
        "MessageAttributes": entry.get("MessageAttributes", {}),
    }
    return receive(raw, time.time())


def test_lambda_async_is_typed_by_its_error_message() -> None:
    reading = read(as_received(aws.lambda_async({"image": 7})))
    assert (reading.kind, reading.error_type, reading.error_source) == (
        "lambda-async",
        "Task timed out after 3.00 seconds",
        "ErrorMessage",
    )
    assert reading.target is None  # the message does not name its function
    assert reading.payload is None and reading.refused is None  # the body is the event


def test_lambda_async_without_a_message_falls_back_to_the_error_code() -> None:
    entry = aws.lambda_async({"image": 7}, error="")
    reading = read(as_received(entry))
    assert (reading.error_type, reading.error_source) == ("ErrorCode 200", "ErrorCode")


def test_a_long_error_message_is_cut_to_one_short_line() -> None:
    reading = read(as_received(aws.lambda_async({}, error="x" * 900 + "\nsecond line")))
    assert reading.error_type is not None
    assert len(reading.error_type) == 120 and "\n" not in reading.error_type


def test_destination_record_names_the_qualified_function_and_resends_its_payload() -> None:
    reading = read(as_received(aws.destination_record({"image": 7})))
    assert reading.kind == "lambda-destination"
    assert reading.target == f"{aws.FUNCTION}:$LATEST"
    assert (reading.error_type, reading.error_source) == ("ValueError", "responsePayload.errorType")
    assert reading.payload is not None and json.loads(reading.payload) == {"image": 7}


def test_destination_record_without_an_error_type_falls_back_to_function_error() -> None:
    reading = read(as_received(aws.destination_record({"a": 1}, error_type=None)))
    assert (reading.error_type, reading.error_source) == (
        "Unhandled",
        "responseContext.functionError",
    )


def test_destination_record_whose_payload_was_dropped_is_refused() -> None:
    reading = read(as_received(aws.destination_record(None)))
    assert reading.refused == DROPPED_PAYLOAD


def test_stream_failure_record_is_refused_with_its_reason() -> None:
    reading = read(as_received(aws.stream_record()))
    assert reading.kind == "lambda-destination" and reading.refused == STREAM_RECORD


def test_eventbridge_rule_target_is_typed_by_error_code() -> None:
    reading = read(as_received(aws.eventbridge(aws.event({"order": 1}), target=QUEUE)))
    assert reading.kind == "eventbridge-rule"
    assert (reading.target, reading.rule) == (
        QUEUE,
        f"arn:aws:events:{aws.REGION}:{aws.ACCOUNT}:rule/orders-bus/orders-to-billing",
    )
    assert (reading.error_type, reading.error_source) == ("SDK_CLIENT_ERROR", "ERROR_CODE")


def test_scheduler_is_recognised_and_a_truncated_payload_refused() -> None:
    reading = read(as_received(aws.scheduler({"job": "nightly"}, target=QUEUE)))
    assert (reading.kind, reading.target, reading.refused) == ("scheduler", QUEUE, None)
    assert reading.error_type == "AWS.SQS.QueueDoesNotExist"
    truncated = read(as_received(aws.scheduler({"job": "n"}, target=QUEUE, truncated=True)))
    assert truncated.refused == TRUNCATED_PAYLOAD


def test_sns_envelope_names_its_topic_and_carries_no_error() -> None:
    reading = read(as_received(aws.sns_envelope(TOPIC, "hello")))
    assert (reading.kind, reading.target, reading.error_type) == ("sns-subscription", TOPIC, None)


def test_sqs_redrive_policy_names_the_source_queue() -> None:
    message = as_received({"MessageBody": "{}"}, {"DeadLetterQueueSourceArn": QUEUE})
    assert (read(message).kind, read(message).target) == ("sqs-redrive-policy", QUEUE)


@pytest.mark.parametrize(
    "entry",
    [
        aws.sns_envelope(TOPIC, "hello"),
        aws.destination_record({"image": 1}),
        aws.lambda_async({"image": 1}),
    ],
)
def test_a_message_sqs_redrove_goes_back_to_its_queue_whatever_it_looks_like(
    entry: dict[str, Any],
) -> None:
    """topic -> queue -> DLQ: SQS adds DeadLetterQueueSourceArn on its own redrive, always
    the last hop (moto does not set it, so this is pinned here and on LocalStack)."""
    reading = read(as_received(entry, {"DeadLetterQueueSourceArn": QUEUE}))
    assert (reading.kind, reading.target, reading.payload) == ("sqs-redrive-policy", QUEUE, None)


def test_a_message_with_no_traces_is_unknown() -> None:
    assert read(as_received({"MessageBody": '{"order": 1}'})).kind == "unknown"


def test_config_override_decides_the_kind_and_target() -> None:
    override = KindOverride("lambda-async", aws.FUNCTION)
    reading = read(as_received({"MessageBody": '{"order": 1}'}), override)
    assert (reading.kind, reading.target) == ("lambda-async", aws.FUNCTION)
    # A raw-delivery SNS subscription: the body is the message, the topic from the config.
    raw_sns = read(as_received({"MessageBody": "plain"}), KindOverride("sns-subscription", TOPIC))
    assert (raw_sns.kind, raw_sns.target) == ("sns-subscription", TOPIC)


@pytest.mark.parametrize(
    ("entry", "source"),
    [
        (aws.lambda_async({"n": 1}), "ErrorMessage"),
        (aws.destination_record({"n": 1}), "responsePayload.errorType"),
        (aws.eventbridge(aws.event({"n": 1}), target=MACHINE), "ERROR_CODE"),
    ],
)
def test_classification_chain_puts_the_kinds_data_after_the_pipelines_attribute(
    entry: dict[str, Any], source: str
) -> None:
    classifier = Classifier(rules=[ErrorTypeRule(when="n", error_type="FromRule")])
    plain = as_received(entry)
    assert classifier.classify([plain])[0].source == source  # before rules
    tagged = dict(entry)
    tagged["MessageAttributes"] = {
        **entry.get("MessageAttributes", {}),
        "ErrorType": aws.string("PoisonPayloadError"),
    }
    found = classifier.classify([as_received(tagged)])[0]
    assert (found.error_type, found.source) == ("PoisonPayloadError", "attribute")
    assert found.reading.kind == read(plain).kind


@given(
    attributes=st.dictionaries(
        st.sampled_from(
            [
                "RequestID",
                "ErrorCode",
                "ErrorMessage",
                "RULE_ARN",
                "TARGET_ARN",
                "ERROR_CODE",
                "SCHEDULE_ARN",
                "IS_PAYLOAD_TRUNCATED",
                "EXHAUSTED_RETRY_CONDITION",
                "Other",
            ]
        ),
        st.text(max_size=40),
        max_size=6,
    ),
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "requestContext",
                        "responseContext",
                        "responsePayload",
                        "requestPayload",
                        "Type",
                        "TopicArn",
                        "MessageId",
                        "Message",
                        "KinesisBatchInfo",
                        "errorType",
                        "functionArn",
                        "functionError",
                        "condition",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=12,
    ),
    override=st.none() | st.builds(KindOverride, st.sampled_from(KINDS), st.none() | st.text()),
)
def test_any_odd_message_is_read_without_raising(
    attributes: dict[str, str], body: Any, override: KindOverride | None
) -> None:
    """Bad data in one message is reported, never fatal: whatever a body or attribute
    holds, reading it gives a kind, and an error type only as a non-empty string."""
    entry = {
        "MessageBody": json.dumps(body),
        "MessageAttributes": {name: aws.string(value) for name, value in attributes.items()},
    }
    reading = read(as_received(entry), override)
    assert reading.kind in (
        "sqs-redrive-policy", "lambda-async", "lambda-destination", "eventbridge-rule",
        "scheduler", "sns-subscription", "unknown",
    )  # fmt: skip
    assert reading.error_type is None or (
        isinstance(reading.error_type, str) and reading.error_type
    )
    assert (reading.error_type is None) == (reading.error_source is None)


def test_a_sampled_inspect_estimates_the_share_of_each_kind() -> None:
    """A look that saw part of a DLQ gives each kind's share with its interval."""
    from dlqctl.core.inspect import InspectTally
    from dlqctl.models import Coverage, QueueInfo

    tally = InspectTally(retention_s=345_600)
    entries = [aws.lambda_async({"n": n}) for n in range(30)]
    entries += [aws.eventbridge(aws.event({"n": n}), target=QUEUE) for n in range(10)]
    classifier = Classifier()
    for entry in entries:
        message = as_received(entry)
        found = classifier.classify([message])[0]
        tally.add(
            message.to_message(
                found.error_type, found.source, None, found.reading.kind, found.reading.target
            )
        )
    queue = QueueInfo(
        name="mixed-dlq",
        url="http://127.0.0.1/1/mixed-dlq",
        arn=f"arn:aws:sqs:{aws.REGION}:{aws.ACCOUNT}:mixed-dlq",
        fifo=False,
        visible=4000,
        in_flight=0,
        delayed=0,
        retention_s=345_600,
        visibility_timeout_s=30,
        max_message_size=262_144,
    )
    coverage = Coverage(
        scanned=40, approximate_depth=4000, complete=False, stopped_because="--sample 40"
    )
    report = tally.report(queue, coverage, [], sampled=True)
    assert report.estimate is not None
    kinds = {share.value: share for share in report.estimate.by_kind}
    assert set(kinds) == {"lambda-async", "eventbridge-rule"}
    lambda_share = kinds["lambda-async"]
    assert (lambda_share.count, lambda_share.share) == (30, 0.75)
    assert lambda_share.low < 0.75 < lambda_share.high
    assert lambda_share.estimated == 3000
