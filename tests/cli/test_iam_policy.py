"""`dlqctl iam-policy`: exactly dlqctl's actions, on exactly the pipeline's resources."""

import json
from typing import Any

from ..conftest import Pipeline, invoke

ACCOUNT_ARN = "arn:aws:sqs:us-east-1:123456789012"


def policy(*args: str, expect: int = 0) -> dict[str, Any]:
    return json.loads(invoke("iam-policy", *args, expect=expect).stdout)


def statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_looked_up_policy_covers_the_dlq_its_source_ledger_and_keys(pipeline: Pipeline) -> None:
    pipeline.sqs.set_queue_attributes(
        QueueUrl=pipeline.source_url, Attributes={"KmsMasterKeyId": "alias/orders"}
    )
    by_sid = statements(policy("--queue", "orders-dlq", "--ledger-table", "orders-ledger"))
    assert by_sid["ReadTheDlq"]["Resource"] == [pipeline.dlq_arn]
    assert "sqs:DeleteMessage" in by_sid["RedriveFromTheDlq"]["Action"]
    assert by_sid["SendToTargets"]["Resource"] == [f"{ACCOUNT_ARN}:orders"]
    assert by_sid["ReadTheLedger"]["Resource"] == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders-ledger"
    ]
    assert by_sid["UseTheQueueKeys"]["Resource"] == [
        "arn:aws:kms:us-east-1:123456789012:alias/orders"
    ]
    pipeline.assert_untouched(0)


def test_no_wildcard_actions_and_wildcard_resources_only_where_required(pipeline: Pipeline) -> None:
    document = policy("--queue", "orders-dlq", "--ledger-table", "t")
    for statement in document["Statement"]:
        assert all("*" not in action for action in statement["Action"])
        if statement["Resource"] == "*":
            assert statement["Action"] in (["sqs:ListQueues"], ["cloudwatch:GetMetricData"])


def test_read_only(pipeline: Pipeline) -> None:
    by_sid = statements(policy("--queue", "orders-dlq", "--read-only"))
    assert "RedriveFromTheDlq" not in by_sid and "SendToTargets" not in by_sid
    assert "sqs:ReceiveMessage" in by_sid["ReadTheDlq"]["Action"]


def test_without_lookups_from_arns(aws: None) -> None:
    by_sid = statements(
        policy("--queue", f"{ACCOUNT_ARN}:a-dlq", "--target", f"{ACCOUNT_ARN}:a", "--no-lookup")
    )
    assert by_sid["SendToTargets"]["Resource"] == [f"{ACCOUNT_ARN}:a"]
    assert "needs ARNs" in invoke("iam-policy", "--queue", "a-dlq", "--no-lookup", expect=2).stderr
