"""Shared fixtures: a clean environment for every test, moto in-process, seeded queues."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner, Result

from dlqctl.cli.app import app
from dlqctl.pipeline import spec

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fake credentials, no user config, no real endpoint: nothing can reach AWS."""
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("cwd")
    for name in [
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_SESSION_TOKEN",
        "NO_COLOR",
    ]:
        monkeypatch.delenv(name, raising=False)
    import os

    for name in list(os.environ):
        if name.startswith("DLQCTL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("COLUMNS", "200")
    # moto answers long polls on empty queues by waiting: keep the suite fast.
    monkeypatch.setenv("DLQCTL_RECEIVE_WAIT_S", "0")
    # moto's backends are not thread-safe, so tests against it use one lane; lanes are
    # proven on the simulated transport (tests/bench_parity).
    monkeypatch.setenv("DLQCTL_CONCURRENCY", "1")
    monkeypatch.chdir(work)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


@dataclass
class Pipeline:
    """A source queue whose redrive policy targets a DLQ, as the pipeline has."""

    sqs: Any
    source_url: str
    dlq_url: str
    dlq_arn: str

    def put(self, body: str, error_type: str | None = None, **attributes: str) -> str:
        message_attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in {
                **attributes,
                **({"ErrorType": error_type} if error_type else {}),
            }.items()
        }
        kwargs: dict[str, Any] = {"QueueUrl": self.dlq_url, "MessageBody": body}
        if message_attributes:
            kwargs["MessageAttributes"] = message_attributes
        return str(self.sqs.send_message(**kwargs)["MessageId"])

    def put_json(self, payload: object, error_type: str | None = None) -> str:
        return self.put(json.dumps(payload), error_type)

    def counts(self, url: str | None = None) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.dlq_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def assert_untouched(self, expected: int) -> None:
        """Every message is still in the DLQ and visible again: nothing consumed, nothing held."""
        assert self.counts() == (expected, 0)


def make_pipeline(sqs: Any, name: str = "orders", *, fifo: bool = False) -> Pipeline:
    suffix = ".fifo" if fifo else ""
    fifo_attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes=fifo_attributes)[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    source_url = sqs.create_queue(
        QueueName=f"{name}{suffix}", Attributes={**fifo_attributes, "RedrivePolicy": policy}
    )["QueueUrl"]
    return Pipeline(sqs, source_url, dlq_url, dlq_arn)


@pytest.fixture
def pipeline(sqs: Any) -> Pipeline:
    return make_pipeline(sqs)


def make_ledger(name: str) -> Any:
    """A failure-ledger table in moto, shaped as the pipeline's (the spec's key)."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": spec.LEDGER_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": spec.LEDGER_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


# The message fields of the JSON contract (design §3) that scripts rely on.
MESSAGE_CONTRACT_FIELDS = (
    "message_id",
    "sent_at",
    "age_s",
    "receive_count",
    "error_type",
    "error_source",
    "source_queue_arn",
    "attributes",
    "body",
    "body_sha256",
    "body_bytes",
)


def invoke(*args: str, expect: int = 0, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process; fail loudly on any exit code other than the expected one."""
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == expect, (
        f"dlqctl {' '.join(args)} exited {result.exit_code}, expected {expect}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result


def invoke_json(*args: str, expect: int = 0) -> Any:
    return json.loads(invoke(*args, "-o", "json", expect=expect).stdout)
