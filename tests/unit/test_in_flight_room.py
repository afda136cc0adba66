"""The in-flight room: SQS's quota, the same for both queue types, and OverLimit's error."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from dlqctl.aws.errors import InFlightLimitError, translate
from dlqctl.core import scan as scan_module
from dlqctl.core.queues import queue_info
from dlqctl.core.scan import in_flight_room, room_left
from dlqctl.errors import AwsError, ExitCode, RefusedError

URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-dlq"


def _over_limit(operation: str, error: dict[str, Any]) -> ClientError:
    response: Any = {
        "Error": {"Message": "The maximum number of in flight messages has been reached", **error},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    return ClientError(response, operation)


@pytest.mark.parametrize(
    "error",
    [
        # The JSON protocol: the shape's name, and the query-compatible header's twin.
        {"Code": "OverLimit", "QueryErrorCode": "OverLimit", "Type": "Sender"},
        # The query protocol: the model's code has no AWS.SimpleQueueService. prefix.
        {"Code": "OverLimit", "Type": "Sender"},
    ],
)
def test_a_receive_refused_with_over_limit_says_what_to_do(error: dict[str, Any]) -> None:
    translated = translate(_over_limit("ReceiveMessage", error), "sqs", URL)
    assert isinstance(translated, InFlightLimitError)
    assert isinstance(translated, RefusedError)
    assert translated.exit_code == ExitCode.REFUSED  # as dlqctl's own check of the quota
    assert translated.message == (
        "SQS refused to hand out more messages: orders-dlq already holds its quota of "
        "messages in flight (about 120,000, received and not yet deleted by any reader); "
        "wait for those holds to lapse or their readers to delete them, then look again, or "
        "look at fewer messages (--max-scan)"
    )


def test_over_limit_from_another_operation_is_not_the_in_flight_quota() -> None:
    # AddPermission answers OverLimit for its own limit (7 actions in a policy).
    translated = translate(_over_limit("AddPermission", {"Code": "OverLimit"}), "sqs", URL)
    assert type(translated) is AwsError
    assert translated.exit_code == ExitCode.ERROR
    assert translated.message.startswith(f"sqs:AddPermission on {URL} failed: OverLimit")


@pytest.mark.parametrize("fifo", [False, True])
def test_the_room_is_the_same_for_standard_and_fifo_queues(fifo: bool) -> None:
    attributes = {
        "QueueArn": "arn:aws:sqs:eu-west-1:123456789012:orders-dlq" + (".fifo" if fifo else ""),
        "ApproximateNumberOfMessages": "500000",
        "ApproximateNumberOfMessagesNotVisible": "30000",
        **({"FifoQueue": "true"} if fifo else {}),
    }
    info = queue_info(URL + (".fifo" if fifo else ""), attributes)
    assert info.fifo is fifo
    # 120,000 less a tenth for the queue's other readers, less what is in flight: never
    # the 20,000 FIFO queues had before SQS raised their quota.
    assert in_flight_room(info) == 108_000 - 30_000 == 78_000


def test_the_room_follows_the_quota_and_runs_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_module, "IN_FLIGHT_QUOTA", 50)
    assert [room_left(n) for n in (0, 40, 45, 50)] == [45, 5, 0, -5]
