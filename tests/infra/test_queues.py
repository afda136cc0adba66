"""The main queue and the DLQ: the shape the spec gives them, encryption, TLS, redrive."""

from __future__ import annotations

from aws_cdk.assertions import Match

from dlqctl.pipeline import spec
from tests.infra.conftest import Synthesized


def names(synthesized: Synthesized, env: str) -> tuple[str, str]:
    prefix = synthesized.config(env).prefix
    return f"{prefix}-{spec.MAIN_QUEUE_NAME}", f"{prefix}-{spec.DLQ_NAME}"


def test_main_queue_visibility_redrive_and_retention_come_from_the_spec(
    synthesized: Synthesized, env: str
) -> None:
    main, dlq = names(synthesized, env)
    template = synthesized.template(env)
    template.resource_count_is("AWS::SQS::Queue", 2)
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": main,
            "VisibilityTimeout": spec.MAIN_QUEUE_VISIBILITY_S,
            "MessageRetentionPeriod": spec.MAIN_QUEUE_RETENTION_S,
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": [Match.any_value(), "Arn"]},
                "maxReceiveCount": spec.MAX_RECEIVE_COUNT,
            },
        },
    )
    assert spec.MAIN_QUEUE_VISIBILITY_S == (
        spec.VISIBILITY_MULTIPLIER * spec.WORKER_TIMEOUT_S + spec.BATCHING_WINDOW_S
    )
    dead_letter = synthesized.one(env, "AWS::SQS::Queue", QueueName=main)["RedrivePolicy"]
    dlq_id = dead_letter["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert synthesized.raw(env)["Resources"][dlq_id]["Properties"]["QueueName"] == dlq


def test_dlq_keeps_messages_longer_and_only_the_main_queue_may_redrive_into_it(
    synthesized: Synthesized, env: str
) -> None:
    main, dlq = names(synthesized, env)
    properties = synthesized.one(env, "AWS::SQS::Queue", QueueName=dlq)
    assert (
        properties["MessageRetentionPeriod"] == spec.DLQ_RETENTION_S > spec.MAIN_QUEUE_RETENTION_S
    )
    assert "RedrivePolicy" not in properties
    allow = properties["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    [source] = allow["sourceQueueArns"]
    # The main queue's ARN, built from its name (a reference would make a cycle).
    parts = source["Fn::Join"][1]
    assert parts[0] == "arn:" and ":sqs:" in parts and parts[-1] == f":{main}"


def test_queues_use_the_customer_managed_key_in_prod_and_the_aws_managed_key_in_dev(
    synthesized: Synthesized, env: str
) -> None:
    expected = (
        synthesized.key_arn(env)
        if synthesized.config(env).customer_managed_keys
        else "alias/aws/sqs"
    )
    for queue in synthesized.resources(env, "AWS::SQS::Queue").values():
        assert queue["Properties"]["KmsMasterKeyId"] == expected


def test_both_queues_refuse_requests_without_tls(synthesized: Synthesized, env: str) -> None:
    policies = synthesized.resources(env, "AWS::SQS::QueuePolicy").values()
    assert len(policies) == 2
    for policy in policies:
        [deny] = [
            s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
        ]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert deny["Action"] == "sqs:*" and deny["Principal"] == {"AWS": "*"}


def test_queues_are_retained_in_prod_and_deleted_in_dev(synthesized: Synthesized, env: str) -> None:
    expected = "Retain" if synthesized.config(env).retain_data else "Delete"
    for resource in synthesized.resources(env, "AWS::SQS::Queue").values():
        assert resource["DeletionPolicy"] == expected
