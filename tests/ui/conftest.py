"""The UI against moto's server on 127.0.0.1, as a user's terminal would drive it.

moto's server runs in a thread of the test process (as in tests/e2e), reset and seeded
before each test, so message ids come out the same every run. Ages are fixed too: each
seeded message's send time is set in moto's backend relative to a fixed clock that the
`Dlqctl` under test is given. moto is not thread-safe, hence one lane (concurrency=1);
the UI itself runs one look at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from moto.sqs.models import sqs_backends
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from dlqctl import Dlqctl, Settings
from dlqctl.core.idempotency import idempotency_key
from dlqctl.pipeline import spec
from dlqctl.ui.app import TriageApp, UiOptions

HOST = "127.0.0.1"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account for every access key
# The clock the UI runs on. In the future, so that moto (which checks retention against
# the real time) keeps messages "sent" days before it.
NOW = 4_102_444_800.0  # 2100-01-01T00:00:00Z
MOTO_SEED = 42
LEDGER_TABLE = "orders-idempotency"

# orders-dlq: (body, ErrorType attribute, age in seconds, the error type dlqctl resolves:
# PaymentDeclined from the failure ledger, Unknown from nowhere).
ORDERS_DLQ = [
    (
        {"order_id": "o-1", "customer": {"email": "ann@example.com"}, "total": 10},
        "ValidationError",
        40 * 60,
        "ValidationError",
    ),
    (
        {"order_id": "o-2", "customer": {"email": "bob@example.com"}, "total": 20},
        "ValidationError",
        3 * 3600,
        "ValidationError",
    ),
    (
        {"order_id": "o-3", "customer": {"email": "cy@example.com"}, "total": 30},
        "ValidationError",
        5 * 86400 // 2,
        "ValidationError",
    ),
    (
        {"order_id": "o-4", "customer": {"email": "di@example.com"}, "total": 40},
        "Timeout",
        2 * 60,
        "Timeout",
    ),
    (
        {"order_id": "o-5", "customer": {"email": "ed@example.com"}, "total": 50},
        "Timeout",
        9 * 60,
        "Timeout",
    ),
    (
        {"order_id": "o-6", "customer": {"email": "fay@example.com"}, "total": 60},
        "Timeout",
        20 * 3600,
        "Timeout",
    ),
    (
        {"order_id": "o-7", "customer": {"email": "gil@example.com"}, "total": 70},
        None,
        7 * 3600,
        "PaymentDeclined",
    ),
    ("upstream said: 502 Bad Gateway", None, 3 * 86400 + 20 * 3600, "Unknown"),
]
LEDGER_FAILED_ORDER = ORDERS_DLQ[6][0]  # o-7: the ledger says PaymentDeclined


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _moto_api(endpoint: str, path: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/{path}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


@pytest.fixture(scope="session")
def clients(moto_endpoint: str) -> dict[str, Any]:
    """boto3 clients for the server, built once: building them is most of a test's time."""
    # Session-wide, so built before each test's fake-credential environment: given here.
    session = boto3.Session(
        region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return {
        service: session.client(service, endpoint_url=moto_endpoint)
        for service in ("sqs", "dynamodb", "cloudwatch")
    }


@dataclass
class World:
    """The queues as seeded, read back with boto3; `api()` and `app()` to look at them."""

    endpoint: str
    clients: dict[str, Any]
    urls: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)  # error type -> message ids

    @property
    def sqs(self) -> Any:
        return self.clients["sqs"]

    def counts(self, name: str) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.urls[name],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def message_ids(self, name: str) -> set[str]:
        """Every message id in the queue (received with a short hold, then released)."""
        seen: dict[str, str] = {}
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.urls[name], MaxNumberOfMessages=10, VisibilityTimeout=30
            ).get("Messages", [])
            if not batch:
                break
            seen.update({m["MessageId"]: m["ReceiptHandle"] for m in batch})
        handles = list(seen.values())
        for start in range(0, len(handles), 10):
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.urls[name],
                Entries=[
                    {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                    for i, h in enumerate(handles[start : start + 10])
                ],
            )
        return set(seen)

    def api(self) -> Dlqctl:
        settings = Settings(
            region=REGION,
            endpoint_url=self.endpoint,
            concurrency=1,
            receive_wait_s=0,
            ledger_table=LEDGER_TABLE,
        )
        return Dlqctl(settings, clients=self.clients, clock=lambda: NOW, sleep=lambda _: None)

    def app(self, **options: Any) -> TriageApp:
        return TriageApp(self.api(), UiOptions(refresh_s=3600, **options))


@pytest.fixture
def world(moto_endpoint: str, clients: dict[str, Any]) -> World:
    """orders → orders-dlq (8 messages, ages from 2 minutes to 3 days 20 hours),
    payments → payments-dlq (empty), and a ledger that knows one failure."""
    _moto_api(moto_endpoint, "reset")
    _moto_api(moto_endpoint, f"seed?a={MOTO_SEED}")
    sqs = clients["sqs"]
    seeded = World(moto_endpoint, clients)
    for name in ("orders", "payments"):
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
        source = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})
        seeded.urls[f"{name}-dlq"] = dlq_url
        seeded.urls[name] = source["QueueUrl"]
    sent_ages: dict[str, int] = {}
    for body, error_type, age_s, resolved in ORDERS_DLQ:
        kwargs: dict[str, Any] = {
            "QueueUrl": seeded.urls["orders-dlq"],
            "MessageBody": body if isinstance(body, str) else json.dumps(body),
        }
        if error_type:
            kwargs["MessageAttributes"] = {
                "ErrorType": {"DataType": "String", "StringValue": error_type}
            }
        message_id = sqs.send_message(**kwargs)["MessageId"]
        seeded.ids.setdefault(resolved, []).append(message_id)
        sent_ages[message_id] = age_s
    for message in sqs_backends[ACCOUNT][REGION].queues["orders-dlq"]._messages:
        message.sent_timestamp = int((NOW - sent_ages[message.id]) * 1000)
    _ledger(clients["dynamodb"])
    return seeded


def _ledger(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=LEDGER_TABLE,
        KeySchema=[{"AttributeName": spec.LEDGER_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": spec.LEDGER_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(
        TableName=LEDGER_TABLE,
        Item={
            spec.LEDGER_KEY: {"S": idempotency_key(json.dumps(LEDGER_FAILED_ORDER))},
            "status": {"S": "FAILED"},
            "attempts": {"N": "3"},
            "errorType": {"S": "PaymentDeclined"},
            "errorMessage": {"S": "card declined"},
            "expiresAt": {"N": str(int(NOW) + 7 * 86400)},
        },
    )


async def settle(pilot: Pilot[Any]) -> None:
    """Until every worker has finished, every look or run has ended (a cancelled
    worker's thread may still be releasing), and the screens have shown the results."""
    app = pilot.app
    assert isinstance(app, TriageApp)
    for _ in range(400):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.is_running for worker in app.workers) and not app.background.busy:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the UI's workers never finished")


def drive(
    app: TriageApp,
    scenario: Callable[[Pilot[Any]], Awaitable[None]],
    size: tuple[int, int] = (80, 24),
) -> None:
    """Run the app headless at `size`, let its first look finish, then the scenario."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(main())


def text_of(pilot: Pilot[Any], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).content)


def table_column(pilot: Pilot[Any], selector: str, column: int) -> list[str]:
    table = pilot.app.screen.query_one(selector, DataTable)
    return [str(table.get_row_at(row)[column]) for row in range(table.row_count)]


async def type_into(pilot: Pilot[Any], text: str) -> None:
    """Type `text` into the focused input and press Enter (pasted, not key by key:
    each key press costs a screen refresh)."""
    focused = pilot.app.focused
    assert isinstance(focused, Input), f"no input has the focus but {focused}"
    focused.insert_text_at_cursor(text)
    await pilot.press("enter")
