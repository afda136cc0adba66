"""The oldest message's age comes from CloudWatch, where it has a data point."""

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from dlqctl import Dlqctl
from dlqctl.aws.session import AwsSession
from dlqctl.config import Settings

from ..conftest import REGION, Pipeline


def put_age(queue: str, seconds: float) -> None:
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": queue}],
                "Timestamp": datetime.now(UTC),
                "Value": seconds,
                "Unit": "Seconds",
            }
        ],
    )


def test_queues_and_watch_show_the_oldest_age(pipeline: Pipeline) -> None:
    pipeline.put("x")
    put_age("orders-dlq", 4242)
    [dlq] = Dlqctl().queues()
    assert dlq.oldest_age_s == 4242
    assert [q.oldest_age_s for q in Dlqctl().watch(["orders-dlq", "orders"])] == [4242, None]


def test_no_age_without_a_data_point(pipeline: Pipeline) -> None:
    assert Dlqctl().queues()[0].oldest_age_s is None


def test_cloudwatch_denied_still_lists_queues(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlqctl.aws.cloudwatch import CloudWatchGateway
    from dlqctl.errors import AccessDeniedError

    def denied(*args: Any, **kwargs: Any) -> Any:
        raise AccessDeniedError("denied")

    monkeypatch.setattr(CloudWatchGateway, "oldest_message_ages", denied)
    assert [q.name for q in Dlqctl().queues()] == ["orders-dlq"]


def test_a_local_sqs_endpoint_never_sends_cloudwatch_calls_to_aws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9")
    assert AwsSession(Settings()).cloudwatch() is None
    assert AwsSession(Settings(endpoint_url="http://127.0.0.1:9")).cloudwatch() is not None
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS")
    assert AwsSession(Settings()).cloudwatch() is not None
