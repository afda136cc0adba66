"""`dlqctl move-task`: moto does not implement it (design §6), so botocore's Stubber
answers as SQS would; against moto itself the command must say so clearly."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from dlqctl.aws.session import AwsSession

from ..conftest import Pipeline, invoke

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq"
ARN = "arn:aws:sqs:us-east-1:123456789012:orders-dlq"
ATTRIBUTES = {"QueueArn": ARN, "ApproximateNumberOfMessages": "42"}


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("sqs", region_name="us-east-1")
    stubber = Stubber(client)
    monkeypatch.setattr(AwsSession, "client", lambda self, service, region=None: client)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def expect_queue(stub: Stubber, *, sources: bool = True) -> None:
    stub.add_response("get_queue_url", {"QueueUrl": URL}, {"QueueName": "orders-dlq"})
    stub.add_response(
        "get_queue_attributes",
        {"Attributes": ATTRIBUTES},
        {"QueueUrl": URL, "AttributeNames": ["All"]},
    )
    if sources:
        stub.add_response(
            "list_dead_letter_source_queues",
            {"queueUrls": []},
            {"QueueUrl": URL, "MaxResults": 1000},
        )


def test_start_sends_the_dlq_arn_and_rate(
    stub: Stubber, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    expect_queue(stub)
    stub.add_response(
        "start_message_move_task",
        {"TaskHandle": "handle-123456789012"},
        {"SourceArn": ARN, "MaxNumberOfMessagesPerSecond": 50},
    )
    result = json.loads(
        invoke("move-task", "start", "orders-dlq", "--rate", "50", "--yes", "-o", "json").stdout
    )
    run_id = result.pop("run_id")
    assert result == {
        "task_handle": "handle-123456789012",
        "source": ARN,
        "destination": None,
        "rate": 50,
    }
    journal = (tmp_path / "dlqctl" / "journal.jsonl").read_text().splitlines()
    assert json.loads(journal[0])["task_handle"] == "handle-123456789012"
    # Its own run id: a task handle's tail names the DLQ, so two tasks would share one.
    assert json.loads(journal[0])["run_id"] == run_id and run_id not in "handle-123456789012"


def test_start_needs_consent_and_caps_the_rate(stub: Stubber) -> None:
    expect_queue(stub)
    assert (
        "no terminal to confirm on: pass --yes"
        in invoke("move-task", "start", "orders-dlq", expect=4).stderr
    )
    assert (
        "Invalid value for '--rate': Input should be less than or equal to 500"
        in invoke("move-task", "start", "orders-dlq", "--rate", "501", "--yes", expect=2).stderr
    )


def test_status_lists_tasks(stub: Stubber) -> None:
    expect_queue(stub, sources=False)
    stub.add_response(
        "list_message_move_tasks",
        {
            "Results": [
                {
                    "TaskHandle": "h1",
                    "Status": "RUNNING",
                    "SourceArn": ARN,
                    "ApproximateNumberOfMessagesMoved": 10,
                    "ApproximateNumberOfMessagesToMove": 42,
                    "StartedTimestamp": 1_800_000_000_000,
                }
            ]
        },
        {"SourceArn": ARN, "MaxResults": 10},
    )
    document = json.loads(invoke("move-task", "status", "orders-dlq", "-o", "json").stdout)
    [task] = document["tasks"]
    assert (task["status"], task["moved"], task["to_move"], task["started_at"]) == (
        "RUNNING",
        10,
        42,
        "2027-01-15T08:00:00Z",
    )


def test_cancel_finds_the_running_task(stub: Stubber) -> None:
    expect_queue(stub, sources=False)
    stub.add_response(
        "list_message_move_tasks",
        {
            "Results": [
                {"TaskHandle": "h1", "Status": "RUNNING"},
                {"TaskHandle": "h0", "Status": "COMPLETED"},
            ]
        },
        {"SourceArn": ARN, "MaxResults": 10},
    )
    stub.add_response(
        "cancel_message_move_task", {"ApproximateNumberOfMessagesMoved": 7}, {"TaskHandle": "h1"}
    )
    assert json.loads(invoke("move-task", "cancel", "orders-dlq", "-o", "json").stdout) == {
        "task_handle": "h1",
        "moved": 7,
    }


def test_cancel_with_nothing_running_is_not_found(stub: Stubber) -> None:
    expect_queue(stub, sources=False)
    stub.add_response(
        "list_message_move_tasks", {"Results": []}, {"SourceArn": ARN, "MaxResults": 10}
    )
    assert (
        "no running move task for orders-dlq"
        in invoke("move-task", "cancel", "orders-dlq", expect=5).stderr
    )


def test_access_denied_names_the_action(stub: Stubber) -> None:
    expect_queue(stub)
    stub.add_client_error(
        "start_message_move_task",
        service_error_code="AccessDenied",
        http_status_code=403,
        expected_params={"SourceArn": ANY},
    )
    assert (
        "sqs:StartMessageMoveTask"
        in invoke("move-task", "start", "orders-dlq", "--yes", expect=6).stderr
    )


def test_server_error_reads_as_not_implemented(
    stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLQCTL_MAX_ATTEMPTS", "1")
    expect_queue(stub)
    stub.add_client_error(
        "start_message_move_task", service_error_code="InternalFailure", http_status_code=500
    )
    assert (
        "does not implement StartMessageMoveTask"
        in invoke("move-task", "start", "orders-dlq", "--yes", expect=1).stderr
    )


def test_moto_says_it_does_not_implement_it(pipeline: Pipeline) -> None:
    result = invoke("move-task", "start", "orders-dlq", "--yes", expect=1)
    assert "this endpoint does not implement StartMessageMoveTask" in result.stderr
    assert "use `dlqctl redrive`" in result.stderr
