"""The README's on-call quick start, verbatim, at 80 columns: every command in it runs as
printed (the endpoint comes from AWS_ENDPOINT_URL, as a user's environment would give
it), behaves as the README says, and prints nothing wider than the terminal."""

from __future__ import annotations

import json
import re
import shlex
import signal
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from rich.cells import cell_len

from dlqctl.pipeline import spec

from .conftest import ENDPOINT_AWS_ENV, Backend, Result, Runner, start_dlqctl

README = Path(__file__).parents[2] / "README.md"
REGION = "eu-west-1"  # the quick start's own `--region`: its queues live there
WIDTH = 80

pytestmark = pytest.mark.only_on(
    "moto", reason="the quick start reads a ledger table, and DynamoDB runs on moto only"
)


def quick_start_commands() -> list[str]:
    """Each `dlqctl …` line of the section's sh blocks, continuations joined."""
    section = README.read_text().split("## On-call quick start", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("   #", 1)[0].strip()  # a trailing comment
            if line.startswith("dlqctl "):
                commands.append(line)
    return commands


@pytest.fixture
def orders(backend: Backend) -> Any:
    """orders → orders-dlq in eu-west-1, a ledger table, and a DLQ of mixed failures."""
    kwargs: dict[str, Any] = {
        "endpoint_url": backend.url,
        "region_name": REGION,
        "aws_access_key_id": backend.access_key,
        "aws_secret_access_key": "testing",
    }
    sqs = boto3.client("sqs", **kwargs)
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]
    policy = {"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": "3"}
    sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": json.dumps(policy)})
    boto3.client("dynamodb", **kwargs).create_table(
        TableName="orders-idempotency",
        KeySchema=[{"AttributeName": spec.LEDGER_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": spec.LEDGER_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    bodies = [
        ({"order": {"id": 1, "total": 150}, "customer": {"email": "ann@example.com"}}, "Timeout"),
        ({"order": {"id": 2, "total": "150"}, "customer": {"email": "bo@example.com"}}, "Timeout"),
        ({"order": {"id": 3, "total": 20}}, "PoisonPayloadError"),
        ("not json: upstream said 502", None),
    ]
    for body, error_type in bodies:
        attributes = (
            {"ErrorType": {"DataType": "String", "StringValue": error_type}} if error_type else {}
        )
        text = body if isinstance(body, str) else json.dumps(body)
        sqs.send_message(QueueUrl=dlq, MessageBody=text, MessageAttributes=attributes)
    return sqs, dlq


def _env() -> dict[str, str]:
    return {"COLUMNS": str(WIDTH), "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}


def _assert_fits(result: Result) -> None:
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, result.describe()
    for line in (result.stdout + result.stderr).splitlines():
        assert cell_len(line) <= WIDTH, f"wider than {WIDTH}: {line!r}\n{result.describe()}"


def test_the_quick_start_is_what_the_readme_shows() -> None:
    # The test below runs exactly these: if the README changes, it must be looked at.
    commands = quick_start_commands()
    assert len(commands) == 12, commands
    assert commands[0] == "dlqctl queues --region eu-west-1"
    assert commands[-1] == "dlqctl history -n 1"


def test_every_quick_start_command_works_verbatim_at_80_columns(
    dlqctl: Runner, orders: Any
) -> None:
    sqs, dlq = orders
    for command in quick_start_commands():
        argv = shlex.split(command)[1:]
        if argv[0] == "watch":
            result = _watch_once(dlqctl, argv)
            assert result.code in (0, 130), result.describe()
            assert "orders-dlq" in result.stdout
        else:
            result = dlqctl(*argv, endpoint=ENDPOINT_AWS_ENV, env=_env())
            if "--canary" in argv:
                # Step 6 asks first; without a terminal the README says --yes is required.
                assert result.code == 4 and "no terminal to confirm on" in result.stderr
            else:
                assert result.code == 0, result.describe()
        _assert_fits(result)
        if argv[0] == "queues":
            assert "orders-dlq" in result.stdout
        if "--query" in argv:
            assert "could not be evaluated" in result.stderr  # "150" against `100`
    # Nothing in the quick start changed the DLQ (the dry run and the refused run alike).
    left = sqs.get_queue_attributes(
        QueueUrl=dlq,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert (left["ApproximateNumberOfMessages"], left["ApproximateNumberOfMessagesNotVisible"]) == (
        "4",
        "0",
    )


def _watch_once(dlqctl: Runner, argv: list[str], timeout: float = 30) -> Result:
    """`watch` refreshes until Ctrl-C: its first refresh, then the interrupt."""
    started = start_dlqctl(dlqctl, *argv, env=_env())
    assert started.proc.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and started.proc.poll() is None:
        line = started.proc.stdout.readline()
        seen.append(line)
        if "orders-dlq" in line:
            break
    started.proc.send_signal(signal.SIGINT)
    result = started.finish()
    return Result(result.args, result.code, "".join(seen) + result.stdout, result.stderr)
