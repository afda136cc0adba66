"""`dlqctl move-task`: moto does not implement it (design §6), so botocore's Stubber
answers as SQS would; against moto itself the command must say so clearly. (Real move
tasks run end to end on LocalStack: tests/e2e/test_localstack_move_task.py.)"""

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from dlqctl.aws.session import AwsSession

from ..conftest import Pipeline, invoke, make_pipeline

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq"
ARN = "arn:aws:sqs:us-east-1:123456789012:orders-dlq"
ATTRIBUTES = {"QueueArn": ARN, "ApproximateNumberOfMessages": "42"}
FIFO_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq.fifo"
FIFO_ARN = "arn:aws:sqs:us-east-1:123456789012:orders-dlq.fifo"


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


def test_a_server_error_keeps_its_own_message(
    stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A genuine InternalError is the service failing, not a missing operation."""
    monkeypatch.setenv("DLQCTL_MAX_ATTEMPTS", "1")
    expect_queue(stub)
    stub.add_client_error(
        "start_message_move_task",
        service_error_code="InternalError",
        service_message="the move-task store is unavailable",
        http_status_code=500,
    )
    stderr = invoke("move-task", "start", "orders-dlq", "--yes", expect=1).stderr
    assert "InternalError: the move-task store is unavailable" in stderr
    assert "does not implement" not in stderr


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("UnknownOperationException", 400),  # AWS, JSON protocol
        ("InvalidAction", 400),  # AWS, query protocol
        ("InternalFailure", 501),  # LocalStack's answer for what it has not implemented
        ("500", 500),  # moto's server: a bare HTML 500 page, so botocore's code is "500"
    ],
    ids=["unknown-operation", "invalid-action", "http-501", "moto-server"],
)
def test_only_an_unknown_operation_reads_as_not_implemented(
    stub: Stubber, monkeypatch: pytest.MonkeyPatch, code: str, status: int
) -> None:
    monkeypatch.setenv("DLQCTL_MAX_ATTEMPTS", "1")
    expect_queue(stub)
    stub.add_client_error(
        "start_message_move_task", service_error_code=code, http_status_code=status
    )
    stderr = invoke("move-task", "start", "orders-dlq", "--yes", expect=1).stderr
    assert "this endpoint does not implement StartMessageMoveTask" in stderr


@pytest.mark.parametrize(
    ("code", "message", "status", "exit_code"),
    [
        (
            "InvalidParameterValue",
            "There is already a task running. Only one active task is allowed",
            400,
            1,
        ),
        ("ResourceNotFoundException", "Task does not exist.", 404, 5),
        ("ServiceUnavailable", "try again later", 503, 1),
    ],
    ids=["invalid-parameter", "not-found", "unavailable"],
)
def test_other_errors_keep_their_message_and_exit_code(
    stub: Stubber,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    message: str,
    status: int,
    exit_code: int,
) -> None:
    monkeypatch.setenv("DLQCTL_MAX_ATTEMPTS", "1")
    stub.add_response("get_queue_url", {"QueueUrl": URL}, {"QueueName": "orders-dlq"})
    stub.add_client_error(
        "cancel_message_move_task",
        service_error_code=code,
        service_message=message,
        http_status_code=status,
        expected_params={"TaskHandle": "h1"},
    )
    stderr = invoke("move-task", "cancel", "orders-dlq", "--task", "h1", expect=exit_code).stderr
    assert message in stderr
    assert "does not implement" not in stderr


# -- a FIFO DLQ and the 5-minute deduplication window -------------------------------------


def expect_fifo_look(stub: Stubber, sent_s_ago: float) -> None:
    """A FIFO DLQ of one message, sent `sent_s_ago` seconds ago, looked at and released."""
    attributes = {"QueueArn": FIFO_ARN, "FifoQueue": "true", "ApproximateNumberOfMessages": "1"}
    stub.add_response("get_queue_url", {"QueueUrl": FIFO_URL}, {"QueueName": "orders-dlq.fifo"})
    stub.add_response(
        "get_queue_attributes",
        {"Attributes": attributes},
        {"QueueUrl": FIFO_URL, "AttributeNames": ["All"]},
    )
    stub.add_response(
        "list_dead_letter_source_queues",
        {"queueUrls": []},
        {"QueueUrl": FIFO_URL, "MaxResults": 1000},
    )
    sent_ms = str(int((time.time() - sent_s_ago) * 1000))
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": "{}",
        "Attributes": {"SentTimestamp": sent_ms, "MessageGroupId": "g"},
    }
    stub.add_response("receive_message", {"Messages": [message]})
    stub.add_response(
        "change_message_visibility_batch",
        {"Successful": [{"Id": "0"}], "Failed": []},
        {
            "QueueUrl": FIFO_URL,
            "Entries": [{"Id": "0", "ReceiptHandle": "r1", "VisibilityTimeout": 0}],
        },
    )


def test_fifo_start_warns_first_and_starts_outside_the_window(
    stub: Stubber, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    expect_fifo_look(stub, sent_s_ago=600)
    stub.add_response("start_message_move_task", {"TaskHandle": "h-fifo"}, {"SourceArn": FIFO_ARN})
    result = invoke("move-task", "start", "orders-dlq.fifo", "--yes", "-o", "json")
    assert json.loads(result.stdout)["task_handle"] == "h-fifo"
    assert "orders-dlq.fifo is FIFO" in result.stderr
    assert "`dlqctl redrive orders-dlq.fifo --all`" in result.stderr


def test_fifo_start_inside_the_window_is_refused_unless_forced(
    stub: Stubber, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    expect_fifo_look(stub, sent_s_ago=60)  # refused: StartMessageMoveTask is never called
    refused = invoke("move-task", "start", "orders-dlq.fifo", "--yes", expect=4).stderr
    assert "a message entered orders-dlq.fifo 1m ago" in refused
    assert "5-minute deduplication window" in refused and "--force" in refused

    expect_fifo_look(stub, sent_s_ago=60)
    stub.add_response(
        "start_message_move_task", {"TaskHandle": "h-forced"}, {"SourceArn": FIFO_ARN}
    )
    forced = invoke("move-task", "start", "orders-dlq.fifo", "--yes", "--force", "-o", "json")
    assert json.loads(forced.stdout)["task_handle"] == "h-forced"


def test_fifo_start_refusal_leaves_the_dlq_as_it_was(aws: None, sqs: Any) -> None:
    """In-process moto: the look holds nothing afterwards, and nothing was started."""
    fifo = make_pipeline(sqs, "pay", fifo=True)
    for i in range(3):
        sqs.send_message(
            QueueUrl=fifo.dlq_url, MessageBody=json.dumps({"i": i}), MessageGroupId="g"
        )
    result = invoke("move-task", "start", "pay-dlq.fifo", "--yes", expect=4)
    assert "a message entered pay-dlq.fifo" in result.stderr
    fifo.assert_untouched(3)


def test_moto_says_it_does_not_implement_it(pipeline: Pipeline) -> None:
    result = invoke("move-task", "start", "orders-dlq", "--yes", expect=1)
    assert "this endpoint does not implement StartMessageMoveTask" in result.stderr
    assert "use `dlqctl redrive`" in result.stderr
