"""One test per exit code of the read commands (design §3), through Typer's runner.

3 (partial failure) and 4 (refused by a safety check) belong to the destructive commands.
"""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from dlqctl.aws.session import AwsSession
from dlqctl.aws.sqs import SqsGateway

from ..conftest import Pipeline, invoke


@pytest.fixture
def stubbed_sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """Every SQS client dlqctl builds is this one, with canned answers and no network."""
    client = boto3.client("sqs", region_name="us-east-1")
    stubber = Stubber(client)
    original = AwsSession.client

    def client_for(self: AwsSession, service: str, region: str | None = None) -> Any:
        return client if service == "sqs" else original(self, service, region)

    monkeypatch.setattr(AwsSession, "client", client_for)
    with stubber:
        yield stubber


def test_0_ok(pipeline: Pipeline) -> None:
    pipeline.put("x")
    assert "orders-dlq" in invoke("inspect", "orders-dlq").stdout
    pipeline.assert_untouched(1)


def test_1_throttled_after_retries(stubbed_sqs: Stubber) -> None:
    stubbed_sqs.add_client_error(
        "get_queue_url", service_error_code="ThrottlingException", http_status_code=400
    )
    result = invoke("inspect", "orders-dlq", "--region", "us-east-1", expect=1)
    assert "sqs:GetQueueUrl on orders-dlq is still throttled after retries" in result.stderr


def test_1_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLQCTL_MAX_ATTEMPTS", "1")
    result = invoke("peek", "orders-dlq", "--endpoint-url", "http://127.0.0.1:9", expect=1)
    assert "cannot reach http://127.0.0.1:9" in result.stderr


def test_1_unexpected_error_is_one_line_without_traceback(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        secret_local = "AKIASECRETSECRET"  # noqa: F841 - must never be printed
        raise RuntimeError("boom")

    monkeypatch.setattr(SqsGateway, "receive", broken)
    pipeline.put("x")
    result = invoke("inspect", "orders-dlq", expect=1)
    assert (
        result.stderr.strip()
        == "dlqctl: error: unexpected RuntimeError: boom (run with -v for the traceback)"
    )
    verbose = invoke("inspect", "orders-dlq", "-v", expect=1)
    assert "Traceback" in verbose.stderr and "AKIASECRETSECRET" not in verbose.stderr
    pipeline.assert_untouched(1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["peek", "orders-dlq", "--max-age", "5x"], "invalid duration '5x'"),
        (["peek", "orders-dlq", "--query", "a.["], "invalid JMESPath in --query"),
        (["peek", "orders-dlq", "--redact", "length(a)"], "is not a field path"),
        (["peek", "orders-dlq", "--attribute", "novalue"], "use NAME=VALUE"),
        (["inspect", "arn:aws:sqs:us-east-1:orders"], "malformed queue ARN"),
        (["inspect", "https://sqs.us-east-1.amazonaws.com/orders"], "malformed queue URL"),
        (["inspect"], "no queue given"),
        (["inspect", "orders-dlq", "--pipeline", "nope"], "unknown pipeline 'nope'"),
        (["watch", "orders-dlq", "--interval", "0s"], "--interval must be at least 1s"),
    ],
)
def test_2_usage(pipeline: Pipeline, args: list[str], message: str) -> None:
    result = invoke(*args, expect=2)
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("dlqctl: error: ")
    pipeline.assert_untouched(0)


def test_2_unknown_option_is_typers_usage_error() -> None:
    assert "No such option" in invoke("peek", "orders-dlq", "--frobnicate", expect=2).stderr


def test_2_bad_config_file(aws: None, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dlqctl.toml").write_text("[defaults]\nregoin = 'eu-west-1'\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("queues", expect=2)
    assert "dlqctl.toml: defaults.regoin: Extra inputs are not permitted" in result.stderr


def test_5_unknown_queue(aws: None) -> None:
    result = invoke("inspect", "nope-dlq", expect=5)
    assert "queue 'nope-dlq' not found in region us-east-1" in result.stderr


def test_5_unknown_queue_url(aws: None) -> None:
    result = invoke("peek", "https://sqs.us-east-1.amazonaws.com/123456789012/gone", expect=5)
    assert "not found" in result.stderr


def test_5_missing_ledger_table(pipeline: Pipeline) -> None:
    pipeline.put("x")
    assert (
        "ledger table nope not found"
        in invoke("inspect", "orders-dlq", "--ledger-table", "nope", expect=5).stderr
    )
    pipeline.assert_untouched(1)


def test_6_access_denied_names_the_action_and_resource(stubbed_sqs: Stubber) -> None:
    stubbed_sqs.add_client_error(
        "get_queue_url",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:iam::123456789012:user/oncall is not authorized",
        http_status_code=403,
    )
    result = invoke("inspect", "orders-dlq", "--region", "us-east-1", expect=6)
    assert "access denied: sqs:GetQueueUrl on orders-dlq was refused" in result.stderr
    assert "grant sqs:GetQueueUrl on it to your role" in result.stderr


def test_6_access_denied_mid_scan(stubbed_sqs: Stubber) -> None:
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq"
    stubbed_sqs.add_response(
        "get_queue_attributes",
        {
            "Attributes": {
                "QueueArn": "arn:aws:sqs:us-east-1:123456789012:orders-dlq",
                "ApproximateNumberOfMessages": "5",
            }
        },
    )
    stubbed_sqs.add_response("list_dead_letter_source_queues", {"queueUrls": []})
    stubbed_sqs.add_client_error(
        "receive_message", service_error_code="KmsAccessDenied", http_status_code=400
    )
    result = invoke("peek", url, expect=6)
    assert f"sqs:ReceiveMessage on {url} was refused" in result.stderr


def test_6_rejected_credentials(stubbed_sqs: Stubber) -> None:
    stubbed_sqs.add_client_error(
        "list_queues", service_error_code="InvalidClientTokenId", http_status_code=403
    )
    assert (
        "AWS rejected the credentials (InvalidClientTokenId)" in invoke("queues", expect=6).stderr
    )


def test_130_interrupted_scan_releases_everything(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(25):
        pipeline.put(f"m{i}")
    calls = []
    real = SqsGateway.receive

    def interrupt_on_third(self: SqsGateway, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SqsGateway, "receive", interrupt_on_third)
    result = invoke("inspect", "orders-dlq", expect=130)
    assert "interrupted" in result.stderr
    pipeline.assert_untouched(25)
