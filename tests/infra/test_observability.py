"""Alarms (each to the topic, each with its runbook), the topic, the dashboard, the metric
filters and the saved Logs Insights queries."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
from infra.components.observability import CLOUDWATCH, DLQ_AGE_ALARM_S, ERROR_TYPES

from dlqctl.pipeline import spec
from tests.infra.conftest import REPO_ROOT, Synthesized
from tests.infra.policy_eval import ALLOW, DENY, IMPLICIT_DENY, Deployment, Request, decide

DLQ, MAIN = "dlq", "main"


def alarms(synthesized: Synthesized, env: str) -> dict[str, dict[str, Any]]:
    prefix = f"{synthesized.config(env).prefix}-dlq-pipeline-"
    return {
        r["Properties"]["AlarmName"].removeprefix(prefix): r["Properties"]
        for r in synthesized.resources(env, "AWS::CloudWatch::Alarm").values()
    }


def queue_id(synthesized: Synthesized, env: str, which: str) -> str:
    name = spec.DLQ_NAME if which == DLQ else spec.MAIN_QUEUE_NAME
    return synthesized.logical_id(
        env, "AWS::SQS::Queue", QueueName=f"{synthesized.config(env).prefix}-{name}"
    )


def expected_alarms(synthesized: Synthesized, env: str) -> dict[str, dict[str, Any]]:
    config = synthesized.config(env)
    return {
        "DlqNotEmpty": dict(
            queue=DLQ, metric="ApproximateNumberOfMessagesVisible", threshold=0, periods=5, points=5
        ),
        "DlqMessageAge": dict(
            queue=DLQ,
            metric="ApproximateAgeOfOldestMessage",
            threshold=DLQ_AGE_ALARM_S,
            periods=1,
            points=1,
        ),
        "MainQueueAge": dict(
            queue=MAIN,
            metric="ApproximateAgeOfOldestMessage",
            threshold=config.main_queue_age_alarm_seconds,
            periods=5,
            points=5,
        ),
        "MainQueueBacklog": dict(
            queue=MAIN,
            metric="ApproximateNumberOfMessagesVisible",
            threshold=config.main_queue_depth_alarm,
            periods=5,
            points=5,
        ),
    }


def test_seven_alarms_all_notify_the_topic_and_name_an_existing_runbook(
    synthesized: Synthesized, env: str
) -> None:
    found = alarms(synthesized, env)
    assert set(found) == {
        "DlqNotEmpty",
        "DlqMessageAge",
        "WorkerErrors",
        "MainQueueAge",
        "MainQueueBacklog",
        "LambdaThrottles",
        "Api5xx",
    }
    [topic] = synthesized.resources(env, "AWS::SNS::Topic")
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [{"Ref": topic}], name
        assert alarm["OKActions"] == [{"Ref": topic}], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        page = alarm["AlarmDescription"].rsplit("Runbook: ", 1)[1]
        path = REPO_ROOT / page
        assert path.is_file(), f"{name}: runbook {page} is missing"
        assert name in path.read_text(encoding="utf-8"), f"{page} never names {name}"


def test_queue_alarms_watch_the_right_queue_metric_for_five_minutes(
    synthesized: Synthesized, env: str
) -> None:
    found = alarms(synthesized, env)
    for name, want in expected_alarms(synthesized, env).items():
        alarm = found[name]
        assert alarm["Namespace"] == "AWS/SQS", name
        assert alarm["MetricName"] == want["metric"], name
        assert alarm["Dimensions"] == [
            {
                "Name": "QueueName",
                "Value": {"Fn::GetAtt": [queue_id(synthesized, env, want["queue"]), "QueueName"]},
            }
        ], name
        assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 60), name
        assert alarm["Threshold"] == want["threshold"], name
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold", name
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
            want["periods"],
            want["points"],
        ), name


def test_worker_errors_throttles_and_api_5xx_alarms(synthesized: Synthesized, env: str) -> None:
    found = alarms(synthesized, env)
    prefix = synthesized.config(env).prefix
    worker = synthesized.logical_id(
        env, "AWS::Lambda::Function", FunctionName=f"{prefix}-dlq-pipeline-worker"
    )
    errors = found["WorkerErrors"]
    assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == (
        "AWS/Lambda",
        "Errors",
        "Sum",
    )
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": worker}}]
    assert (errors["Threshold"], errors["EvaluationPeriods"], errors["DatapointsToAlarm"]) == (
        0,
        5,
        5,
    )

    throttles = found["LambdaThrottles"]
    stats = [m for m in throttles["Metrics"] if "MetricStat" in m]
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in stats} == {"Throttles"}
    assert len(stats) == 2 and throttles["Threshold"] == 0

    api = found["Api5xx"]
    assert (api["Namespace"], api["MetricName"], api["Statistic"], api["Period"]) == (
        "AWS/ApiGateway",
        "5XXError",
        "Sum",
        300,
    )
    assert {d["Name"] for d in api["Dimensions"]} == {"ApiName", "Stage"}
    assert api["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert api["Threshold"] == synthesized.config(env).api_5xx_alarm_threshold


def test_alarm_topic_is_encrypted_with_the_stack_key(synthesized: Synthesized, env: str) -> None:
    topic = synthesized.one(env, "AWS::SNS::Topic")
    assert topic["KmsMasterKeyId"] == synthesized.key_arn(env)


def notification(deployment: Deployment, alarm_arn: str, *, action: str, resource: str) -> Request:
    """What CloudWatch sends when it delivers the alarm's notification: its own service
    principal, on behalf of the alarm, over TLS."""
    return Request(
        principal={"Service": CLOUDWATCH},
        action=action,
        resource=resource,
        context={
            "aws:SourceAccount": deployment.account,
            "aws:SourceArn": alarm_arn,
            "aws:SecureTransport": "true",
        },
    )


def test_every_alarm_reaches_the_topic_as_iam_would_evaluate_it(
    synthesized: Synthesized, env: str
) -> None:
    """Each alarm's actions name the topic, the topic policy lets CloudWatch publish for
    that alarm, and the topic's key lets CloudWatch encrypt the message."""
    deployment, topic_arn, topic_policy, key_arn, key_policy = policies(synthesized, env)
    [policy] = synthesized.resources(env, "AWS::SNS::TopicPolicy").values()
    assert deployment.resolve(policy["Properties"]["Topics"]) == [topic_arn]
    found = synthesized.resources(env, "AWS::CloudWatch::Alarm")
    assert len(found) == 7
    for alarm_id, alarm in found.items():
        properties = alarm["Properties"]
        name = properties["AlarmName"]
        assert deployment.resolve(properties["AlarmActions"]) == [topic_arn], name
        assert deployment.resolve(properties["OKActions"]) == [topic_arn], name
        alarm_arn = deployment.resolve({"Fn::GetAtt": [alarm_id, "Arn"]})
        publish = notification(deployment, alarm_arn, action="SNS:Publish", resource=topic_arn)
        assert decide(topic_policy, publish) == ALLOW, name
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            use_key = notification(deployment, alarm_arn, action=action, resource=key_arn)
            assert decide(key_policy, use_key) == ALLOW, (name, action)


def policies(synthesized: Synthesized, env: str) -> tuple[Deployment, str, Any, str, Any]:
    """The deployment, the topic's ARN and policy, the key's ARN and policy, resolved."""
    deployment = Deployment(synthesized.raw(env))
    [topic_id] = synthesized.resources(env, "AWS::SNS::Topic")
    [topic_policy] = synthesized.resources(env, "AWS::SNS::TopicPolicy").values()
    [key] = synthesized.resources(env, "AWS::KMS::Key").values()
    return (
        deployment,
        deployment.resolve({"Ref": topic_id}),
        deployment.resolve(topic_policy["Properties"]["PolicyDocument"]),
        deployment.resolve(synthesized.key_arn(env)),
        deployment.resolve(key["Properties"]["KeyPolicy"]),
    )


def test_the_topic_and_its_key_refuse_everyone_else(synthesized: Synthesized, env: str) -> None:
    deployment, topic_arn, topic_policy, key_arn, key_policy = policies(synthesized, env)
    [alarm_id, *_] = synthesized.resources(env, "AWS::CloudWatch::Alarm")
    ours = notification(
        deployment,
        deployment.resolve({"Fn::GetAtt": [alarm_id, "Arn"]}),
        action="sns:Publish",
        resource=topic_arn,
    )
    other = "210987654321"
    elsewhere = {
        "aws:SourceAccount": other,
        "aws:SourceArn": ours.context["aws:SourceArn"].replace(deployment.account, other),
    }
    not_ours = {"aws:SourceArn": deployment.arn("cloudwatch", "alarm:someone-elses-alarm")}
    for context, expected in [
        (elsewhere, IMPLICIT_DENY),  # an alarm in another account
        (not_ours, IMPLICIT_DENY),  # another alarm in this account
        ({"aws:SecureTransport": "false"}, DENY),  # this stack's alarm, over plain HTTP
    ]:
        request = replace(ours, context={**ours.context, **context})
        assert decide(topic_policy, request) == expected, context
    # The policy allows nobody but CloudWatch (the account's own roles go through IAM).
    stranger = Request({"AWS": f"arn:aws:iam::{other}:root"}, "sns:Publish", topic_arn)
    assert decide(topic_policy, stranger) == IMPLICIT_DENY
    borrowed = replace(
        ours, action="kms:Decrypt", resource=key_arn, context={**ours.context, **not_ours}
    )
    assert decide(key_policy, borrowed) == IMPLICIT_DENY


def test_the_tls_deny_is_the_only_deny(synthesized: Synthesized, env: str) -> None:
    [policy] = synthesized.resources(env, "AWS::SNS::TopicPolicy").values()
    [deny] = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
    ]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == "*" and deny["Action"] == "sns:Publish"


def test_the_throttles_sum_fills_a_function_without_datapoints(
    synthesized: Synthesized, env: str
) -> None:
    """A function never throttled has no datapoint, and a sum with a missing term has none:
    each term must be filled with 0, or one function's throttles would not show."""
    metrics = alarms(synthesized, env)["LambdaThrottles"]["Metrics"]
    [expression] = [m["Expression"] for m in metrics if "Expression" in m]
    terms = sorted(m["Id"] for m in metrics if "MetricStat" in m)
    assert len(terms) == 2
    assert expression == " + ".join(f"FILL({term}, 0)" for term in terms)


def test_the_dlq_age_alarm_says_what_the_metric_measures_on_a_dlq(
    synthesized: Synthesized, env: str
) -> None:
    description = alarms(synthesized, env)["DlqMessageAge"]["AlarmDescription"]
    assert "from when SQS moved the message there, not from its original send" in description


def test_metric_filters_count_each_error_type_from_the_worker_json_logs(
    synthesized: Synthesized, env: str
) -> None:
    prefix = synthesized.config(env).prefix
    worker_logs = synthesized.logical_id(
        env, "AWS::Logs::LogGroup", LogGroupName=f"/aws/lambda/{prefix}-dlq-pipeline-worker"
    )
    filters = {
        f["Properties"]["MetricTransformations"][0]["MetricName"]: f["Properties"]
        for f in synthesized.resources(env, "AWS::Logs::MetricFilter").values()
    }
    assert set(filters) == set(ERROR_TYPES)
    for error_type, metric_filter in filters.items():
        assert metric_filter["LogGroupName"] == {"Ref": worker_logs}
        assert f'$.{spec.LOG_FIELD_ERROR_TYPE} = "{error_type}"' in metric_filter["FilterPattern"]
        [transformation] = metric_filter["MetricTransformations"]
        assert transformation["MetricNamespace"] == spec.LOG_METRICS_NAMESPACE
        assert (transformation["MetricValue"], transformation["DefaultValue"]) == ("1", 0)
    # A killed invocation cannot log: Lambda's platform.report record says so instead.
    assert '$.record.status = "timeout"' in filters[spec.TIMEOUT_ERROR]["FilterPattern"]


def dashboard_text(synthesized: Synthesized, env: str) -> str:
    body = synthesized.one(env, "AWS::CloudWatch::Dashboard")["DashboardBody"]
    return "".join(part if isinstance(part, str) else "" for part in body["Fn::Join"][1])


@pytest.mark.parametrize(
    "needle",
    [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateAgeOfOldestMessage",
        '"Invocations"',
        '"Errors"',
        '"Duration"',
        '"Throttles"',
        '"ConcurrentExecutions"',
        '"5XXError"',
        '"4XXError"',
        '"Count"',
        '"Latency"',
        '"IntegrationLatency"',
        f'\\"{spec.METRICS_NAMESPACE}\\" MetricName=\\"{spec.METRIC_PROCESSED}\\"',
        f'\\"{spec.METRICS_NAMESPACE}\\" MetricName=\\"{spec.METRIC_FAILED}\\"',
        f'\\"{spec.METRICS_NAMESPACE}\\" MetricName=\\"{spec.METRIC_IDEMPOTENCY_HIT}\\"',
        f'\\"{spec.METRICS_NAMESPACE}\\" MetricName=\\"{spec.METRIC_FAILURE_MODE_UNREADABLE}\\"',
        f'"{spec.LOG_METRICS_NAMESPACE}"',
        '"type":"alarm"',
    ],
)
def test_dashboard_shows(synthesized: Synthesized, needle: str) -> None:
    for env in ("dev", "prod"):
        assert needle in dashboard_text(synthesized, env), f"{env} dashboard lacks {needle}"


def test_dashboard_is_valid_json_once_references_resolve(
    synthesized: Synthesized, env: str
) -> None:
    widgets = json.loads(dashboard_text(synthesized, env))["widgets"]
    assert len(widgets) >= 10


def query_names(synthesized: Synthesized, env: str) -> set[str]:
    return {
        q["Properties"]["Name"]
        for q in synthesized.resources(env, "AWS::Logs::QueryDefinition").values()
    }


def test_saved_queries_are_the_ones_the_runbooks_use(synthesized: Synthesized) -> None:
    runbooks = "\n".join(
        p.read_text(encoding="utf-8")
        for p in sorted((REPO_ROOT / "docs" / "runbooks").glob("*.md"))
    )
    for env in ("dev", "prod"):
        for name in query_names(synthesized, env):
            short = name.rsplit("/", 1)[1]
            assert f"dlq-pipeline/<env>/{short}" in runbooks, f"no runbook uses the query {short}"
    used = set(re.findall(r"dlq-pipeline/<env>/([a-z0-9-]+)", runbooks))
    assert used <= {n.rsplit("/", 1)[1] for n in query_names(synthesized, "prod")}
