"""CloudWatch reads: the age of a queue's oldest message, which SQS itself does not report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from dlqctl.aws.errors import aws_call

_QUERIES_PER_REQUEST = 500
_LOOKBACK = timedelta(minutes=15)


class CloudWatchGateway:
    def __init__(self, client: Any) -> None:
        self.client = client

    def oldest_message_ages(self, queue_names: Sequence[str]) -> dict[str, float]:
        """Latest ApproximateAgeOfOldestMessage per queue, where CloudWatch has one."""
        ages: dict[str, float] = {}
        # Up to the end of the current minute, so the period in progress is included.
        end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        for start in range(0, len(queue_names), _QUERIES_PER_REQUEST):
            chunk = queue_names[start : start + _QUERIES_PER_REQUEST]
            queries = [_age_query(f"q{i}", name) for i, name in enumerate(chunk)]
            with aws_call("cloudwatch", "the SQS metrics"):
                response = self.client.get_metric_data(
                    MetricDataQueries=queries,
                    StartTime=end - _LOOKBACK,
                    EndTime=end,
                    ScanBy="TimestampDescending",
                )
            for result in response.get("MetricDataResults", []):
                if result.get("Values"):
                    ages[chunk[int(result["Id"][1:])]] = float(result["Values"][0])
        return ages


def _age_query(query_id: str, queue_name: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": queue_name}],
            },
            "Period": 60,
            "Stat": "Maximum",
        },
        "ReturnData": True,
    }
